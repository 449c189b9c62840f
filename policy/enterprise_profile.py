"""An enterprise's profile computed from the stored facts about it (`enterprise/<id>`), as pure
functions: registration, insured headcount on a date, average headcount over a year, layoffs in
a year, prior-year unemployment-insurance contributions and fee-exemption months.

K7 (稳岗返还, §1) and K15 (企业吸纳就业困难人员社会保险补贴, §2) read these. The facts are the
input events the intake stored under the enterprise's key (`load_facts([f"enterprise/{E}"],
ENTERPRISE_FACT_TYPES)`); every function filters them by enterprise id and judges them on their
own date fields, so the same facts always give the same answer.

Known cost: a large employer has many `contribution.paid` facts (one per person and month);
they are all loaded and summed here. A later change may aggregate them in the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from contracts.cases import Fact
from contracts.parameters import Parameters
from policy.calendar import add_months, business_date, first_of_month, month_of

REGISTERED = "enterprise.registered"
ENROLLED = "insured.enrolled"
LEFT = "insured.left"
FEE_EXEMPTION = "si.fee_exemption"
CONTRIBUTION = "contribution.paid"

# The fact types the profile reads; route modules list them in FACT_TYPES so the intake stores
# them under `enterprise/<id>` (keys_of maps enterprise_id and employer_id there).
ENTERPRISE_FACT_TYPES: tuple[str, ...] = (REGISTERED, ENROLLED, LEFT, FEE_EXEMPTION, CONTRIBUTION)

SME_SIZES = frozenset({"micro", "small", "medium"})


@dataclass(frozen=True)
class Registration:
    """The enterprise as registered (`enterprise.registered`)."""

    enterprise_id: str
    city: str
    industry: str
    size: str  # micro / small / medium / large
    epidemic_supplies: bool = False


def _distinct(facts: Iterable[Fact]) -> list[Fact]:
    """One fact per input event (the same event may be stored under several keys), in the
    order the events happened."""
    seen: set[str] = set()
    out: list[Fact] = []
    for f in sorted(facts, key=lambda f: (f.event_time, f.event_key)):
        if f.event_key not in seen:
            seen.add(f.event_key)
            out.append(f)
    return out


def _about(facts: Iterable[Fact], type_: str, field: str, enterprise_id: str) -> list[Fact]:
    return [f for f in _distinct(facts) if f.type == type_ and f.payload.get(field) == enterprise_id]


def registration(enterprise_id: str, facts: Iterable[Fact], on: date) -> Registration | None:
    """The latest registration reported by `on` (the event carries no date of its own: the day
    it was reported is the day it is about), or None if the enterprise is not registered."""
    found: Registration | None = None
    for f in _about(facts, REGISTERED, "enterprise_id", enterprise_id):
        if business_date(f.event_time) <= on:
            p = f.payload
            found = Registration(
                enterprise_id=enterprise_id,
                city=str(p["city"]),
                industry=str(p["industry"]),
                size=str(p["size"]),
                epidemic_supplies=bool(p.get("epidemic_supplies")),
            )
    return found


def _movement_date(f: Fact) -> date:
    return f.on_date if f.on_date is not None else date.fromisoformat(f.payload["on"])


def insured_persons(enterprise_id: str, facts: Iterable[Fact], on: date) -> set[str]:
    """Persons insured by the enterprise on `on`: enrolled on or before `on` and not left since.

    A person who left on day D is no longer insured on D (`insured.left.on` is the separation
    day); enrolment and leaving on the same day leave the person not insured. Movements are
    judged in the order of their own dates (an enrolment reported late still counts from its
    date).
    """
    moves = [
        f
        for f in _distinct(facts)
        if f.type in (ENROLLED, LEFT) and f.payload.get("employer_id") == enterprise_id and _movement_date(f) <= on
    ]
    # Same day: the enrolment first, then the leaving (leaving ends that day's insurance).
    moves.sort(key=lambda f: (_movement_date(f), f.type == LEFT, f.event_time, f.event_key))
    insured: set[str] = set()
    for f in moves:
        person = str(f.payload["person_id"])
        if f.type == ENROLLED:
            insured.add(person)
        else:
            insured.discard(person)
    return insured


def insured_headcount(enterprise_id: str, facts: Iterable[Fact], on: date) -> int:
    """How many persons the enterprise insures on `on` (see `insured_persons`)."""
    return len(insured_persons(enterprise_id, facts, on))


def completed_month_ends(year: int, on: date) -> list[date]:
    """The last day of each month of `year` completed before `on` (a month is completed at its
    end: its last day lies before `on`)."""
    ends: list[date] = []
    for month in range(1, 13):
        last = add_months(date(year, month, 1), 1) - timedelta(days=1)
        if last < on:
            ends.append(last)
    return ends


def average_headcount(enterprise_id: str, facts: Iterable[Fact], year: int, on: date) -> Fraction:
    """The mean insured headcount of `year` as known on `on`: the mean of the headcounts on the
    last day of each month of the year completed before `on`; if none is completed yet, the
    headcount on `on` itself. Exact (a Fraction), so a rate on a boundary is judged exactly."""
    facts = list(facts)
    ends = completed_month_ends(year, on)
    if not ends:
        return Fraction(insured_headcount(enterprise_id, facts, on))
    return Fraction(sum(insured_headcount(enterprise_id, facts, d) for d in ends), len(ends))


def layoffs_in_year(enterprise_id: str, facts: Iterable[Fact], year: int, until: date) -> int:
    """Insured separations for layoff (`insured.left` reason `layoff`) by the enterprise dated in
    `year` and on or before `until`. Each separation counts (a person laid off twice counts
    twice: two jobs were cut)."""
    return sum(
        1
        for f in _about(facts, LEFT, "employer_id", enterprise_id)
        if f.payload.get("reason") == "layoff" and _movement_date(f).year == year and _movement_date(f) <= until
    )


def ui_part(fact: Fact, params: Parameters) -> int:
    """The unemployment-insurance part of one employer contribution record, in fen.

    EVENTS.md gives one employer and one employee amount for all the insurances a record lists.
    When unemployment insurance is the only one, both amounts are UI premiums; otherwise the UI
    part is `retention.ui_contribution_rate` (§2: the total UI rate of 1%) × the base, rounded
    down, and never more than what the record says was paid.
    """
    p = fact.payload
    paid = int(p["employer_amount"]) + int(p["employee_amount"])
    if list(p.get("insurances") or ()) == ["unemployment"]:
        return paid
    rate = params.ratio("retention.ui_contribution_rate", first_of_month(p["month"]))
    return min(int(p["base"]) * rate.numerator // rate.denominator, paid)


def prior_year_ui_contributions(enterprise_id: str, facts: Iterable[Fact], year: int, params: Parameters) -> int:
    """UI premiums (employer + employee) the enterprise paid for the months of `year - 1`: the
    sum of `ui_part` over its `contribution.paid` records for those months that list
    unemployment insurance. Every record counts (each is a premium actually paid)."""
    prior = str(year - 1)
    return sum(
        ui_part(f, params)
        for f in _about(facts, CONTRIBUTION, "employer_id", enterprise_id)
        if str(f.payload.get("month", "")).startswith(prior + "-") and "unemployment" in (f.payload.get("insurances") or ())
    )


def months_between(from_month: str, to_month: str) -> list[str]:
    """Every month from `from_month` to `to_month` inclusive ("YYYY-MM"; empty if reversed)."""
    months: list[str] = []
    day = first_of_month(from_month)
    last = first_of_month(to_month)
    while day <= last:
        months.append(month_of(day))
        day = add_months(day, 1)
    return months


def fee_exemption_months(enterprise_id: str, facts: Iterable[Fact]) -> set[str]:
    """Every month covered by an `si.fee_exemption` of the enterprise (from_month..to_month,
    both inclusive); several exemptions add up."""
    months: set[str] = set()
    for f in _about(facts, FEE_EXEMPTION, "enterprise_id", enterprise_id):
        months.update(months_between(f.payload["from_month"], f.payload["to_month"]))
    return months


def is_sme(registration_: Registration) -> bool:
    """Micro, small and medium enterprises (中小微企业)."""
    return registration_.size in SME_SIZES
