"""Console tokens: HMAC-signed claims {sub, role, city, exp}; anything else is refused."""

from __future__ import annotations

import pytest

from console.service.errors import BadRequest, Unauthorized
from console.service.tokens import DEV_SECRET, bearer, console_secret, issue, verify
from contracts.settings import Settings

SECRET = "unit-secret"


def test_token_round_trip_carries_role_and_city() -> None:
    p = verify(SECRET, issue(SECRET, sub="alice", role="city_supervisor", city="2101", now=1000, ttl_seconds=60), now=1001)
    assert (p.sub, p.role, p.city, p.exp) == ("alice", "city_supervisor", "2101", 1060)
    assert p.may_act and p.sees_personal_data and not p.province_wide


def test_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(Unauthorized, match="signature"):
        verify(SECRET, issue("other", sub="alice", role="province"))


def test_token_with_tampered_claims_is_refused() -> None:
    token = issue(SECRET, sub="alice", role="city_supervisor", city="2101")
    forged = issue(SECRET + "x", sub="alice", role="province")
    with pytest.raises(Unauthorized, match="signature"):
        verify(SECRET, forged.split(".")[0] + "." + token.split(".")[1])


def test_expired_token_is_refused() -> None:
    token = issue(SECRET, sub="alice", role="province", now=1000, ttl_seconds=10)
    with pytest.raises(Unauthorized, match="expired"):
        verify(SECRET, token, now=1010)


@pytest.mark.parametrize("token", ["", "abc", "abc.", ".sig", "a.b.c"])
def test_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        verify(SECRET, token)


@pytest.mark.parametrize(
    ("role", "city", "reason"),
    [("city_supervisor", None, "needs a city"), ("province", "2101", "every city"), ("king", None, "role"),
     ("city_supervisor", "2199", "unknown city")],
)
def test_token_claims_must_make_a_valid_principal(role: str, city: str | None, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        issue(SECRET, sub="alice", role=role, city=city)


def test_auditor_reads_only_and_sees_no_personal_data() -> None:
    p = verify(SECRET, issue(SECRET, sub="carol", role="auditor", city="2101"))
    assert not p.may_act and not p.sees_personal_data


def test_bearer_header_is_required_and_well_formed() -> None:
    assert bearer("Bearer abc.def") == "abc.def"
    for header in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(Unauthorized):
            bearer(header)


def test_console_secret_has_a_dev_default_only_outside_ci_and_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert console_secret(Settings(console_secret="s3")) == "s3"
    assert console_secret(Settings(console_secret=None)) == DEV_SECRET
    with pytest.raises(RuntimeError, match="JIUYE_CONSOLE_SECRET"):
        console_secret(Settings(console_secret=None, env="production"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="JIUYE_CONSOLE_SECRET"):
        console_secret(Settings(console_secret=None))
