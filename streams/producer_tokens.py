"""Bearer tokens of the systems that produce events over HTTP (`jiuye http-intake`).

The signed-token format of the console (contracts/signed_tokens.py), with its own secret (`JIUYE_HTTP_INTAKE_SECRET`) and its own claims: `sub` (the
producing system), `types` (the event types it may send; its scope), `exp`, and `aud` =
`http-intake`. A separate secret and audience because a producer is a system, not a supervisor:
a console token must never produce events, nor a producer token read cases. Signed rather than a
table of producers: nothing to migrate or look up per request; a token is withdrawn by letting it
expire (short TTLs) or by rotating the secret, which withdraws them all.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

from contracts.settings import Settings
from contracts.signed_tokens import InvalidToken, seal, unseal
from contracts.topics import TOPIC_OF_TYPE, TYPES_BY_TOPIC

AUDIENCE = "http-intake"
DEFAULT_TTL_SECONDS = 30 * 24 * 3600
# Only for a developer's machine: refused under CI and in production (see `intake_secret`).
DEV_SECRET = "jiuye-dev-http-intake-secret-not-for-production"
_SUB = re.compile(r"^[A-Za-z0-9._@/-]{1,64}$")


@dataclass(frozen=True)
class Producer:
    """The authenticated producing system and the event types it may send."""

    sub: str
    types: frozenset[str]
    exp: int

    def may_send(self, event_type: str) -> bool:
        return event_type in self.types


def intake_secret(settings: Settings) -> str:
    """`JIUYE_HTTP_INTAKE_SECRET`; without it a fixed development secret, but never when `CI` is
    set or `JIUYE_ENV=production` (a forgotten secret must fail loudly)."""
    if settings.http_intake_secret is not None:
        return settings.http_intake_secret.get_secret_value()
    if os.environ.get("CI") or settings.env == "production":
        raise RuntimeError("JIUYE_HTTP_INTAKE_SECRET must be set (no development default under CI or in production)")
    return DEV_SECRET


def scope(types: list[str], topics: list[str]) -> frozenset[str]:
    """The event types named, and those of the topics named; ValueError for an unknown one."""
    unknown = [t for t in types if t not in TOPIC_OF_TYPE] + [t for t in topics if t not in TYPES_BY_TOPIC]
    if unknown:
        raise ValueError(f"not an input type or topic of EVENTS.md: {', '.join(unknown)}")
    chosen = set(types) | {t for topic in topics for t in TYPES_BY_TOPIC[topic]}
    if not chosen:
        raise ValueError("a producer token needs at least one type or topic")
    return frozenset(chosen)


def issue(secret: str, *, sub: str, types: frozenset[str], ttl_seconds: int = DEFAULT_TTL_SECONDS,
          now: float | None = None) -> str:
    """A signed producer token for `sub`, allowed to send `types`, valid for `ttl_seconds`."""
    if not _SUB.match(sub):
        raise ValueError("sub must be 1..64 letters, digits or . _ @ / -")
    if ttl_seconds <= 0:
        raise ValueError("ttl must be positive")
    claims: dict[str, object] = {"aud": AUDIENCE, "sub": sub, "types": sorted(types),
                                 "exp": int((now if now is not None else time.time()) + ttl_seconds)}
    return seal(secret, claims)


def verify(secret: str, token: str, now: float | None = None) -> Producer:
    """The producer of a valid, unexpired producer token signed with `secret`; else InvalidToken."""
    claims: Any = unseal(secret, token)
    try:
        if claims.get("aud") != AUDIENCE:
            raise InvalidToken("not a producer token (no aud http-intake)")
        producer = Producer(sub=str(claims["sub"]), types=frozenset(str(t) for t in claims["types"]),
                            exp=int(claims["exp"]))
    except InvalidToken:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(f"bad token claims: {exc}") from None
    if producer.exp <= (now if now is not None else time.time()):
        raise InvalidToken("token expired")
    return producer
