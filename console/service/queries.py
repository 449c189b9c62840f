"""Filters of the console's lists, validated once (API and CLI pass the raw strings), and the
SQL they become. Every refusal is a BadRequest whose reason names the parameter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from console.service.errors import BadRequest
from console.service.tokens import CITIES
from policy.corrections import WORTH_SIGN

# What a ledger row adds to what is owed to its payee (EVENTS.md "Ledger": payment + arrears -
# overpayment; a deduction only moves money already owed), as SQL over the `ledger` table.
WORTH_FEN = "(CASE entry {} END * amount_fen)".format(" ".join(f"WHEN '{e}' THEN {s}" for e, s in WORTH_SIGN.items()))

SORTS = {"opened_on": "c.opened_on", "next_deadline": "c.next_deadline", "case_id": "c.case_id"}
MAX_LIMIT = 200
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _date(params: Mapping[str, Any], name: str) -> date | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def _int(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {number}")
    return number


def _bool(params: Mapping[str, Any], name: str) -> bool | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, got {value!r}")


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return None if value in (None, "") else str(value)


def parse_city(value: str | None, name: str = "city") -> str | None:
    if value in (None, ""):
        return None
    if value not in CITIES:
        raise BadRequest(f"{name} must be a city code 2101..2114, got {value!r}")
    return value


def _key(value: str | None, prefix: str, name: str) -> str | None:
    """`P1` or `person/P1` → `person/P1`."""
    if value in (None, ""):
        return None
    assert value is not None
    bare = value[len(prefix) + 1:] if value.startswith(prefix + "/") else value
    if not _ID.match(bare):
        raise BadRequest(f"{name} must be an id of letters, digits, . _ -, got {value!r}")
    return f"{prefix}/{bare}"


def parse_month(value: str | None) -> str:
    if not value or not _MONTH.match(value):
        raise BadRequest(f"month must be YYYY-MM, got {value!r}")
    return value


@dataclass(frozen=True)
class CaseQuery:
    """The case list's filters, sort and page."""

    kind: str | None = None
    city: str | None = None
    status: str | None = None
    person: str | None = None  # person/<id>
    enterprise: str | None = None  # enterprise/<id>
    opened_from: date | None = None
    opened_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    has_open_task: bool | None = None
    sort: str = "-opened_on"
    limit: int = 50
    offset: int = 0

    @classmethod
    def parse(cls, params: Mapping[str, Any], kinds: set[str] | None = None) -> "CaseQuery":
        """From raw request parameters; unknown names are refused rather than ignored."""
        unknown = set(params) - set(cls.__dataclass_fields__)
        if unknown:
            raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        kind = _text(params, "kind")
        if kind is not None and kinds is not None and kind not in kinds:
            raise BadRequest(f"kind must be one of {', '.join(sorted(kinds))}, got {kind!r}")
        sort = _text(params, "sort") or "-opened_on"
        if sort.lstrip("-") not in SORTS:
            raise BadRequest(f"sort must be one of {', '.join(SORTS)} (prefix - for descending), got {sort!r}")
        q = cls(
            kind=kind,
            city=parse_city(_text(params, "city")),
            status=_text(params, "status"),
            person=_key(_text(params, "person"), "person", "person"),
            enterprise=_key(_text(params, "enterprise"), "enterprise", "enterprise"),
            opened_from=_date(params, "opened_from"),
            opened_to=_date(params, "opened_to"),
            closed_from=_date(params, "closed_from"),
            closed_to=_date(params, "closed_to"),
            deadline_from=_date(params, "deadline_from"),
            deadline_to=_date(params, "deadline_to"),
            has_open_task=_bool(params, "has_open_task"),
            sort=sort,
            limit=_int(params, "limit", 50, 1, MAX_LIMIT),
            offset=_int(params, "offset", 0, 0, 10_000_000),
        )
        for low, high in (("opened_from", "opened_to"), ("closed_from", "closed_to"), ("deadline_from", "deadline_to")):
            a, b = getattr(q, low), getattr(q, high)
            if a and b and a > b:
                raise BadRequest(f"{low} ({a}) is after {high} ({b})")
        return q


@dataclass
class Sql:
    """A WHERE clause built with numbered parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self) -> str:
        return "WHERE " + " AND ".join(self.conditions) if self.conditions else ""


def case_where(q: CaseQuery, city: str | None) -> Sql:
    """The WHERE of the case list; `city` is the scope the principal is limited to."""
    sql = Sql()
    for column, value in (("c.kind", q.kind), ("c.city", city), ("c.status", q.status)):
        if value is not None:
            sql.conditions.append(f"{column} = {sql.arg(value)}")
    for key in (q.person, q.enterprise):
        if key is not None:
            # The case's own subject, or any key it registered (an enterprise's K8 case is found
            # from a laid-off person): both index lookups, then the primary key.
            k = sql.arg(key)
            sql.conditions.append(
                f"c.case_id = ANY(ARRAY(SELECT case_id FROM case_keys WHERE key = {k}"
                f" UNION SELECT case_id FROM cases WHERE subject = {k}))"
            )
    for column, low, high in (
        ("c.opened_on", q.opened_from, q.opened_to),
        ("c.closed_on", q.closed_from, q.closed_to),
        ("c.next_deadline", q.deadline_from, q.deadline_to),
    ):
        if low is not None:
            sql.conditions.append(f"{column} >= {sql.arg(low)}")
        if high is not None:
            sql.conditions.append(f"{column} <= {sql.arg(high)}")
    if q.has_open_task is not None:
        exists = "EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = c.case_id AND t.state = 'open')"
        sql.conditions.append(exists if q.has_open_task else f"NOT {exists}")
    return sql


def case_order(q: CaseQuery) -> str:
    column = SORTS[q.sort.lstrip("-")]
    direction = "DESC" if q.sort.startswith("-") else "ASC"
    # PostgreSQL's default null placement (last ascending, first descending) is what a plain
    # index gives scanned either way, so both directions read the index instead of sorting.
    tie = "" if column == "c.case_id" else f", c.case_id {direction}"
    return f"ORDER BY {column} {direction}{tie}"


def case_list_sql(q: CaseQuery, city: str | None) -> tuple[str, str, list[Any]]:
    """(page query, count query, args) of the case list."""
    sql = case_where(q, city)
    where = sql.where()
    count = f"SELECT count(*) FROM cases c {where}"
    limit, offset = sql.arg(q.limit), sql.arg(q.offset)
    page = f"""
        SELECT c.case_id, c.kind, c.subject, c.city, c.status, c.opened_on, c.closed_on, c.next_deadline, c.hold,
               (SELECT count(*) FROM tasks t WHERE t.case_id = c.case_id AND t.state = 'open') AS open_tasks
          FROM cases c {where}
         {case_order(q)}
         LIMIT {limit} OFFSET {offset}"""
    return page, count, sql.args
