"""The signed bearer-token format every HTTP entry point checks: `base64url(claims JSON) "."
base64url(HMAC-SHA256(secret, claims part))` — the stdlib only, nothing parsed before the signature
is checked. What the claims mean is each entry point's: the console's people
(console/service/tokens.py), the HTTP intake's producers (streams/producer_tokens.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping


class InvalidToken(ValueError):
    """A token that is malformed, badly signed or unreadable: the caller answers 401."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def seal(secret: str, claims: Mapping[str, object]) -> str:
    """`claims` as a token signed with `secret`."""
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(secret, payload)}"


def unseal(secret: str, token: str) -> object:
    """The claims of a token signed with `secret` (their meaning not yet checked); else InvalidToken."""
    payload, dot, signature = (token or "").strip().partition(".")
    if not dot or not payload or not signature:
        raise InvalidToken("malformed token (expected <claims>.<signature>)")
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise InvalidToken("bad token signature")
    try:
        return json.loads(_unb64(payload))
    except ValueError as exc:
        raise InvalidToken(f"bad token claims: {exc}") from None


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header; else InvalidToken."""
    if not header:
        raise InvalidToken("missing Authorization: Bearer <token> header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return token.strip()
