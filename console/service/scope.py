"""What a principal may see and do: city scope, the right to act, and personal-data masking.

Decided here once for API and CLI:
- a city token reading a case, task or alert of another city gets 404 (the case's existence in
  another city is itself not theirs to learn); acting on one gets 404 too, for the same reason;
- asking for another city's aggregate explicitly (a list filtered on city 2102, a ledger export
  of 2102, a dashboard of 2102) gets 403 with the reason;
- auditors read only (403 on every action) and see personal data masked.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, TypeVar

from console.service.errors import Forbidden, NotFound
from console.service.tokens import Principal

# Field names whose values identify a person (EVENTS.md data fields and read-model summaries).
PERSONAL_FIELDS = frozenset({"subject", "payee", "person_id", "person_ids", "household_id", "applicant", "members"})
# Fields that name a case, task or ledger row: business keys the auditor needs to refer to (pseudonymous by
# contract), so they are left as they are.
KEY_FIELDS = frozenset({"case_id", "task_id", "links", "ledger_key"})
_PERSON_REF = re.compile(r"person/[A-Za-z0-9_.-]+")


def city_filter(p: Principal, requested: str | None) -> str | None:
    """The city a query is limited to: the token's own city, or for province-wide tokens the
    requested one (None = all). Asking explicitly for another city is refused."""
    if p.city is None:
        return requested
    if requested is not None and requested != p.city:
        raise Forbidden(f"your token is scoped to city {p.city}; city {requested} is not yours")
    return p.city


def require_visible(p: Principal, city: str | None, what: str) -> None:
    """404 unless the row of `city` is in the principal's scope (see the module docstring)."""
    if p.city is not None and city != p.city:
        raise NotFound(f"no {what}")


def require_actor(p: Principal, action: str) -> None:
    if not p.may_act:
        raise Forbidden(f"role {p.role} may not {action} (read-only)")


def require_province(p: Principal, what: str) -> None:
    if p.role != "province":
        raise Forbidden(f"{what} is for the provincial office only (dead letters are not tied to a city)")


def pseudonym(value: str) -> str:
    """A stable stand-in: the same id always masks to the same token, and nothing more."""
    return "#" + hashlib.sha256(value.encode()).hexdigest()[:10]


def _mask_text(text: str, ids: set[str]) -> str:
    text = _PERSON_REF.sub(lambda m: "person/" + pseudonym(m.group(0)[7:]), text)
    for person in ids:
        text = text.replace(person, pseudonym(person))
    return text


def mask(value: Any, ids: set[str] | None = None, field: str | None = None) -> Any:
    """A copy of `value` with personal data masked: person references and ids anywhere in
    strings, and every value under a personal field; case and task ids stay (key fields)."""
    ids = ids or set()
    if field in KEY_FIELDS:
        return value
    if isinstance(value, dict):
        return {k: mask(v, ids, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, ids, field) for v in value]
    if isinstance(value, str):
        if field in PERSONAL_FIELDS and not value.startswith(("enterprise/", "agency/", "city/")):
            prefix, slash, rest = value.rpartition("/")
            return f"{prefix}/{pseudonym(rest)}" if slash else pseudonym(value)
        return _mask_text(value, ids)
    return value


def person_ids_in(*subjects: str | None) -> set[str]:
    """The person ids named by subjects/payees like `person/P1`."""
    return {s[7:] for s in subjects if s and s.startswith("person/")}


_Shown = TypeVar("_Shown")


def shown(p: Principal, value: _Shown, ids: set[str] | None = None) -> _Shown:
    """`value` as the principal may see it."""
    return value if p.sees_personal_data else mask(value, ids)
