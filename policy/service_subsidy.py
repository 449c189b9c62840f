"""K18 employment_service_subsidy (就业创业服务补助, §20) as pure rules, one case per agency and year.

§20 …提供上述服务的，各市可根据服务人数、成效和成本等，对其给予就业创业服务补助: the services an
agency delivered in a calendar quarter are settled `service_subsidy.confirm_days` after the
quarter's end:

- a job placement counts `per_placement` once per person whose employment (a contract signed or
  an employment registered, any employer) is dated within `confirm_days` after the service (成效);
- career guidance and startup services count `per_guidance` once per person and quarter;
- an enterprise service counts `per_enterprise` once per enterprise and quarter.

An agency is paid at most `service_subsidy.cap_per_year` a year: the settlement that reaches the
cap is reduced to what is left (`capped`, over what the agency was already paid that year, for
the store to apply atomically).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.parameters import Parameters
from policy.calendar import quarter_end, quarter_of, quarter_start
from policy.corrections import Owed
from policy.funds import Fund
from policy.hiring import within_cap

PROGRAM = "employment_service_subsidy"
FUND = Fund.EMPLOYMENT_SUBSIDY

JOB_PLACEMENT = "job_placement"
GUIDANCE_SERVICES: tuple[str, ...] = ("career_guidance", "startup_service")
ENTERPRISE_SERVICE = "enterprise_service"

# The facts that confirm a placement, with the field holding their date.
CONFIRMING_FACTS: dict[str, str] = {"contract.signed": "signed_on", "employment.registered": "on"}


def payee(agency_id: str) -> str:
    return f"agency/{agency_id}"


@dataclass(frozen=True)
class Service:
    """A `service.delivered` of the agency."""

    on: date
    service: str
    person_id: str | None = None
    enterprise_id: str | None = None


@dataclass(frozen=True)
class Employment:
    """A fact that the person is employed from `on` (a contract signed or an employment registered)."""

    person_id: str
    on: date


def employment_of(fact_type: str, data: Mapping[str, Any]) -> tuple[str | None, date | None]:
    """The person and the date of a confirming fact (`CONFIRMING_FACTS`); None where missing."""
    person = data.get("person_id")
    on = data.get(CONFIRMING_FACTS.get(fact_type, ""))
    if isinstance(on, str):
        on = date.fromisoformat(on)
    return (person if isinstance(person, str) else None), (on if isinstance(on, date) else None)


def settlement_day(quarter: str, params: Parameters) -> date:
    """The day a quarter is settled: `confirm_days` after the quarter's end (the first day after
    it), so that a placement on its last day still has its whole confirmation window."""
    start = quarter_start(quarter)
    return quarter_end(quarter) + timedelta(days=int(params.get("service_subsidy.confirm_days", start)))


def placement_confirmed(service_on: date, employments: Iterable[Employment], person_id: str, params: Parameters) -> bool:
    """The person is employed within `confirm_days` after the service: an employment dated in
    [service date, service date + confirm_days]. One dated before the service is not its result."""
    last = service_on + timedelta(days=int(params.get("service_subsidy.confirm_days", service_on)))
    return any(e.person_id == person_id and service_on <= e.on <= last for e in employments)


@dataclass(frozen=True)
class QuarterSettlement:
    quarter: str
    placements: tuple[str, ...]  # persons, sorted
    guided: tuple[str, ...]  # persons, sorted
    enterprises: tuple[str, ...]  # enterprises, sorted
    amount: int  # before the yearly cap


def settle_quarter(quarter: str, services: Iterable[Service], employments: Iterable[Employment], params: Parameters) -> QuarterSettlement:
    """What the services delivered in `quarter` earn, with the parameters in force on its first day."""
    start = quarter_start(quarter)
    mine = [s for s in services if quarter_of(s.on) == quarter]
    confirmed = list(employments)
    placed = {
        s.person_id for s in mine
        if s.service == JOB_PLACEMENT and s.person_id is not None and placement_confirmed(s.on, confirmed, s.person_id, params)
    }
    guided = {s.person_id for s in mine if s.service in GUIDANCE_SERVICES and s.person_id is not None}
    enterprises = {s.enterprise_id for s in mine if s.service == ENTERPRISE_SERVICE and s.enterprise_id is not None}
    amount = (
        len(placed) * int(params.get("service_subsidy.per_placement", start))
        + len(guided) * int(params.get("service_subsidy.per_guidance", start))
        + len(enterprises) * int(params.get("service_subsidy.per_enterprise", start))
    )
    return QuarterSettlement(quarter, tuple(sorted(placed)), tuple(sorted(guided)), tuple(sorted(enterprises)), amount)


def capped(amount: int, paid_this_year: int, year: int, params: Parameters) -> int:
    """The settlement as paid: at most what is left of `service_subsidy.cap_per_year` after what
    the agency was already paid in `year`."""
    cap = int(params.get("service_subsidy.cap_per_year", date(year, 1, 1)))
    return within_cap(amount, cap, paid_this_year)


def quarters(year: int) -> list[str]:
    """The four settlement periods of an agency's year; the case closes after the last."""
    return [f"{year:04d}-Q{n}" for n in range(1, 5)]


RULE_SETTLEMENT = ("§20 就业创业服务补助: per confirmed placement, per person guided and per enterprise served in the "
                   "quarter, at most service_subsidy.cap_per_year a year")


def owed(
    agency_id: str, year: int, settled: Iterable[str], services: Iterable[Service], employments: Iterable[Employment],
    params: Parameters,
) -> list[Owed]:
    """What the agency's year owes on the facts known now, per settled quarter in order, each
    reduced to what is left of the yearly cap after the quarters before it. A service reported
    after its quarter was settled makes the quarter owe more (arrears); the cap still holds."""
    done = list(services)
    confirmed = list(employments)
    rows: list[Owed] = []
    so_far = 0
    for quarter in sorted(settled):
        amount = capped(settle_quarter(quarter, done, confirmed, params).amount, so_far, year, params)
        so_far += amount
        rows.append(Owed(program=PROGRAM, period=quarter, amount=amount, fund=str(FUND), payee=payee(agency_id),
                         due_on=settlement_day(quarter, params), rule=RULE_SETTLEMENT))
    return rows
