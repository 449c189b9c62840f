"""Signed bearer tokens: who is asking, in which role, for which city.

The token format is contracts/signed_tokens.py's. Claims: `sub` (the person),
`role` (`province` | `city_supervisor` | `auditor`), `city` (required for `city_supervisor`,
optional for `auditor`), `exp` (Unix seconds).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

from console.service.errors import BadRequest, Unauthorized
from contracts.settings import Settings
from contracts.signed_tokens import InvalidToken, bearer_token, seal, unseal

ROLES = ("province", "city_supervisor", "auditor")
CITIES = tuple(f"21{n:02d}" for n in range(1, 15))  # POLICY.md: 2101 沈阳 .. 2114 葫芦岛
DEFAULT_TTL_SECONDS = 8 * 3600
# Only for a developer's machine: refused under CI and in production (see `console_secret`).
DEV_SECRET = "jiuye-dev-console-secret-not-for-production"
_SUB = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    sub: str
    role: str
    city: str | None
    exp: int

    @property
    def province_wide(self) -> bool:
        return self.city is None

    @property
    def may_act(self) -> bool:
        """Auditors read; supervisors and the provincial office act."""
        return self.role in ("province", "city_supervisor")

    @property
    def sees_personal_data(self) -> bool:
        return self.role in ("province", "city_supervisor")


def console_secret(settings: Settings) -> str:
    """The signing secret: `JIUYE_CONSOLE_SECRET`; without it a fixed development secret, but
    never when `CI` is set or `JIUYE_ENV=production` (a forgotten secret must fail loudly)."""
    if settings.console_secret:
        return settings.console_secret
    if os.environ.get("CI") or settings.env == "production":
        raise RuntimeError("JIUYE_CONSOLE_SECRET must be set (no development default under CI or in production)")
    return DEV_SECRET


def check_claims(sub: str, role: str, city: str | None) -> None:
    """Raise BadRequest unless (sub, role, city) make a valid principal."""
    if not _SUB.match(sub or ""):
        raise BadRequest("sub must be 1..64 letters, digits or . _ @ -")
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "city_supervisor" and city is None:
        raise BadRequest("a city_supervisor token needs a city")
    if role == "province" and city is not None:
        raise BadRequest("a province token covers every city; give no city")
    if city is not None and city not in CITIES:
        raise BadRequest(f"unknown city {city!r} (2101..2114)")


def issue(secret: str, *, sub: str, role: str, city: str | None = None, ttl_seconds: int = DEFAULT_TTL_SECONDS,
          now: float | None = None) -> str:
    """A signed token for `sub` in `role` (and `city`), valid for `ttl_seconds`."""
    check_claims(sub, role, city)
    if ttl_seconds <= 0:
        raise BadRequest("ttl must be positive")
    claims = {"sub": sub, "role": role, "city": city, "exp": int((now if now is not None else time.time()) + ttl_seconds)}
    return seal(secret, claims)


def verify(secret: str, token: str, now: float | None = None) -> Principal:
    """The principal of a valid, unexpired token signed with `secret`; else Unauthorized."""
    try:
        claims: Any = unseal(secret, token)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None
    try:
        principal = Principal(sub=claims["sub"], role=claims["role"], city=claims.get("city"), exp=int(claims["exp"]))
        check_claims(principal.sub, principal.role, principal.city)
    except (ValueError, KeyError, TypeError, BadRequest) as exc:
        raise Unauthorized(f"bad token claims: {exc}") from None
    if principal.exp <= (now if now is not None else time.time()):
        raise Unauthorized("token expired")
    return principal


def bearer(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    try:
        return bearer_token(header)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None


def dev_login(settings: Settings, secret: str, *, sub: str, role: str, city: str | None) -> dict[str, object]:
    """A token for whoever asks, on a development machine that turned it on
    (JIUYE_CONSOLE_DEV_LOGIN); NotFound everywhere else, as if the route did not exist."""
    from console.service.errors import NotFound

    if not settings.console_dev_login or settings.env == "production":
        raise NotFound("dev login is off (set JIUYE_CONSOLE_DEV_LOGIN=true on a development machine)")
    return {"token": issue(secret, sub=sub, role=role, city=city), "dev_only": True}
