"""K6 hiring_subsidy (一次性吸纳就业补贴, §10) as pure rules.

Two programs, one subsidy per (enterprise, person, program):

- K6a `hiring_epidemic`: an enterprise making or distributing epidemic supplies hires during the
  epidemic period [S, L] on a contract of ≥ 1 year; paid `hiring.epidemic_per_hire` once its
  contribution for the person is paid, on an application made by L + 3 months. An HR service
  agency that referred the hire gets `hiring.agency_per_hire`, its total capped at
  `hiring.agency_cap` (the cap itself is kept by the store, across all cases).
- K6b `hiring_priority`: a hire (contract ≥ 1 year, signed by `hiring.priority_until`) of a
  person registered unemployed ≥ 6 months on the hire date or of a graduating-year graduate;
  once `hiring.si_months` months of contributions are paid, their employer share once.

Every rule takes the dates it is about and the parameters; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from contracts.cases import Fact
from contracts.parameters import Parameters
from policy import difficult
from policy.calendar import add_months, business_date, first_of_month, month_of
from policy.subsidy_period import is_stable_contract

PARAMETER_PREFIX = "hiring"  # `hiring.stable_contract_months` and the rest of §10's parameters
EPIDEMIC = "hiring_epidemic"
PRIORITY = "hiring_priority"
AGENCY = "hiring_agency"
PERIOD = "once"

RULE_ONE_SUBSIDY = "§10: one hiring subsidy per enterprise, person and program"

LONG_TERM_UNEMPLOYED = "long_term_unemployed"
GRADUATING_YEAR_GRADUATE = "graduating_year_graduate"

# Facts a case or the route reads: the contract and its end, and the employer's registration.
CONTRACT_FACT_TYPES: tuple[str, ...] = ("contract.signed", "contract.terminated")
ENTERPRISE_FACT_TYPE = "enterprise.registered"
CONTRIBUTION = "contribution.paid"
# A case rejected for want of a fact (POLICY.md part 2 "late facts across topics") judges again
# on the contract between the pair, the employer's registration (K6a) or the person's (K6b); the
# pair's other events that reach it meanwhile are held for if it reopens.
HELD_WHILE_REJECTED: tuple[str, ...] = ("application.submitted", CONTRIBUTION, "contract.terminated")


# The person's registration: the one fact that can put them in a §10 priority group late (the
# graduation year is on the contract itself).
REGISTRATION = "unemployment.registered"


def rejudged_on(program: str) -> frozenset[str]:
    """The late facts that may reverse a rejection of `program` made for want of them."""
    return frozenset({"contract.signed", ENTERPRISE_FACT_TYPE if program == EPIDEMIC else REGISTRATION})


# -- both programs ------------------------------------------------------------------------------
def stable_hire(term_months: int | None, signed_on: date, params: Parameters) -> bool:
    """§10 签订1年以上劳动合同 (`hiring.stable_contract_months`)."""
    return is_stable_contract(term_months, signed_on, params, PARAMETER_PREFIX)


@dataclass(frozen=True)
class Hire:
    """The contract between the pair, as the route reads it from the event and a case from its
    stored `contract.signed`."""

    enterprise_id: str
    person_id: str
    signed_on: date
    term_months: int | None
    graduation_year: int | None


@dataclass(frozen=True)
class Judgement:
    """Whether a hire may have one program's subsidy on the facts known.

    `refusal`: the rule text of why not (None: it may), `for_want_of_fact`: whether a fact that may
    still come on another topic could change that (POLICY.md part 2 "late facts across topics"; a
    contract too short or signed after the priority window is final). For K6b once the contract
    and its date pass, the person's priority groups and registration start (`groups_judged`)."""

    refusal: str | None = None
    for_want_of_fact: bool = False
    groups_judged: bool = False
    groups: tuple[str, ...] = ()
    registered_on: date | None = None


def judge(program: str, hire: Hire, person_facts: list[Fact], enterprise_facts: Iterable[Fact], params: Parameters) -> Judgement:
    """§10 for one program: a stable contract, and K6a an employer making epidemic supplies, K6b
    a contract signed by `hiring.priority_until` of a person in a priority group. The one
    judgement the route (which cases a contract opens) and the case (whether it opens, or is
    judged again on a late fact) both make. `person_facts`: the person's stored K12 facts."""
    signed_on = hire.signed_on
    if not stable_hire(hire.term_months, signed_on, params):
        return Judgement(f"§10 签订1年以上劳动合同: a contract of {hire.term_months} months "
                         f"(< {params.get('hiring.stable_contract_months', signed_on)})")
    if program == EPIDEMIC:
        if not makes_epidemic_supplies(hire.enterprise_id, enterprise_facts):
            return Judgement(f"§10: {hire.enterprise_id} is not registered as producing or distributing epidemic supplies", True)
        return Judgement()
    if not within_priority_window(signed_on, params):
        return Judgement(f"§10 实施期限: contract signed on {signed_on}, after {params.day('hiring.priority_until', signed_on)}")
    registered_on = registered_since(hire.person_id, person_facts, signed_on)
    groups = tuple(priority_groups(hire.person_id, hire.graduation_year, signed_on, person_facts, params))
    if groups:
        return Judgement(groups_judged=True, groups=groups, registered_on=registered_on)
    return Judgement(
        f"§10: {hire.person_id} was neither registered unemployed for "
        f"{params.get('hiring.long_term_unemployed_months', signed_on)} months on {signed_on} "
        f"(registered since {registered_on}) nor a graduate of {signed_on.year}",
        True, groups_judged=True, registered_on=registered_on,
    )


# -- K6a: epidemic supplies ---------------------------------------------------------------------
def makes_epidemic_supplies(enterprise_id: str, facts: Iterable[Fact]) -> bool:
    """§10 生产、配送疫情防控急需物资: the enterprise's latest `enterprise.registered` says
    `epidemic_supplies: true` (no registration, or the flag absent, is no)."""
    latest: Fact | None = None
    for f in sorted(facts, key=lambda f: (f.event_time, f.event_key)):
        if f.type == ENTERPRISE_FACT_TYPE and f.payload.get("enterprise_id") == enterprise_id:
            latest = f
    return latest is not None and latest.payload.get("epidemic_supplies") is True


def enterprise_city(enterprise_id: str, facts: Iterable[Fact]) -> str | None:
    """The city of the enterprise's latest registration."""
    city = None
    for f in sorted(facts, key=lambda f: (f.event_time, f.event_key)):
        if f.type == ENTERPRISE_FACT_TYPE and f.payload.get("enterprise_id") == enterprise_id:
            city = f.payload.get("city")
    return city if isinstance(city, str) else None


def outside_epidemic_period(signed_on: date, declared_on: date | None, lifted_on: date | None) -> str | None:
    """§10 在疫情防控期间新招用: the hire must be signed in [S, L]. The reason it is not, or None
    when it is inside so far (L unknown: the epidemic is not over, every hire after S is inside;
    S unknown: not judged yet, see `epidemic_period_known`)."""
    if declared_on is not None and signed_on < declared_on:
        return f"signed on {signed_on}, before the epidemic was declared on {declared_on}"
    if lifted_on is not None and signed_on > lifted_on:
        return f"signed on {signed_on}, after the epidemic was lifted on {lifted_on}"
    return None


def epidemic_period_known(declared_on: date | None) -> bool:
    """A hire can be judged inside the epidemic period only once S is known."""
    return declared_on is not None


def application_deadline(lifted_on: date | None, params: Parameters) -> date | None:
    """§10 申请日期原则上为疫情解除后3个月内: the last day to apply, L + 3 months (None while L is
    unknown: no deadline yet)."""
    if lifted_on is None:
        return None
    return add_months(lifted_on, params.get("hiring.application_months_after_lift", lifted_on))


def application_in_time(applied_on: date, lifted_on: date | None, params: Parameters) -> bool:
    """An application on or before L + 3 months (any date while L is unknown)."""
    deadline = application_deadline(lifted_on, params)
    return deadline is None or applied_on <= deadline


def epidemic_subsidy(signed_on: date, params: Parameters) -> int:
    """§10 每新招用1人…不超过1000元: `hiring.epidemic_per_hire`, in force on the hire date."""
    return int(params.get("hiring.epidemic_per_hire", signed_on))


def agency_subsidy(signed_on: date, params: Parameters) -> int:
    """§10 不低于200元/人: `hiring.agency_per_hire`, in force on the hire date."""
    return int(params.get("hiring.agency_per_hire", signed_on))


def agency_cap(on: date, params: Parameters) -> int:
    """§10 每户人力资源服务机构补助金额最高不超过10万元: `hiring.agency_cap` in force on the day
    of the payment (the cap bounds the agency's running total when it is paid)."""
    return int(params.get("hiring.agency_cap", on))


def within_cap(amount: int, cap: int, used: int) -> int:
    """What a capped payee may still be paid: `amount`, or what is left of `cap` after `used`,
    whichever is less (0 once the cap is used up). The store applies the same rule atomically."""
    return max(0, min(amount, cap - used))


# -- K6b: priority groups -----------------------------------------------------------------------
def profile_day(signed_on: date) -> date:
    """The day the person's registration is judged on: the day before the hire, because the
    deregistration or employment registration the hire itself causes is dated on or after it."""
    return signed_on - timedelta(days=1)


def long_term_unemployed(registered_on: date | None, signed_on: date, params: Parameters) -> bool:
    """§10 登记失业半年以上: registered unemployed for at least `hiring.long_term_unemployed_months`
    months on the hire date, i.e. registered on or before signed_on − N months."""
    if registered_on is None:
        return False
    months = params.get("hiring.long_term_unemployed_months", signed_on)
    return registered_on <= add_months(signed_on, -months)


def graduating_year_graduate(graduation_year: int | None, signed_on: date) -> bool:
    """§10 毕业年度高校毕业生: hired in the calendar year of their graduation."""
    return graduation_year is not None and graduation_year == signed_on.year


def within_priority_window(signed_on: date, params: Parameters) -> bool:
    """§10 实施期限至2020年12月31日: the contract signed on or before `hiring.priority_until`."""
    return signed_on <= params.day("hiring.priority_until", signed_on)


def priority_groups(person_id: str, graduation_year: int | None, signed_on: date, facts: list[Fact], params: Parameters) -> list[str]:
    """The §10 priority groups the hired person belongs to on the hire date (facts are the
    person's stored K12 facts)."""
    profile = difficult.profile_from_facts(person_id, facts, profile_day(signed_on))
    groups = []
    if long_term_unemployed(profile.registered_on, signed_on, params):
        groups.append(LONG_TERM_UNEMPLOYED)
    if graduating_year_graduate(graduation_year, signed_on):
        groups.append(GRADUATING_YEAR_GRADUATE)
    return groups


def registered_since(person_id: str, facts: list[Fact], signed_on: date) -> date | None:
    """The start of the registration in force the day before the hire (for the timeline)."""
    return difficult.profile_from_facts(person_id, facts, profile_day(signed_on)).registered_on


@dataclass(frozen=True)
class CountedMonth:
    """A month of the employer's contributions for the hired person, as first received."""

    month: str
    employer_amount: int
    received_on: date


def counts_for_priority(month: str, starts_on: date) -> bool:
    """Contributions for months from the contract's start month on count (earlier months are
    not contributions for this hire)."""
    return first_of_month(month) >= first_of_month(month_of(starts_on))


@dataclass(frozen=True)
class PrioritySubsidy:
    months: tuple[str, ...]
    amount: int
    completed_on: date  # the day the last of the months was paid


def priority_subsidy(counted: list[CountedMonth], si_months: int) -> PrioritySubsidy | None:
    """§10 按企业为其缴纳3至6个月社会保险费标准: once `si_months` distinct months are paid (in the
    order they were paid), the sum of their employer share; None until then."""
    first: dict[str, CountedMonth] = {}
    for c in sorted(counted, key=lambda c: (c.received_on, c.month)):
        first.setdefault(c.month, c)
        if len(first) == si_months:
            chosen = list(first.values())
            return PrioritySubsidy(
                months=tuple(sorted(c.month for c in chosen)),
                amount=sum(c.employer_amount for c in chosen),
                completed_on=max(c.received_on for c in chosen),
            )
    return None


def si_months(signed_on: date, params: Parameters) -> int:
    """§10 按企业为其缴纳3至6个月社会保险费标准: how many months of the employer's contributions K6b
    counts and pays (`hiring.si_months`, in force on the hire date)."""
    return int(params.get("hiring.si_months", signed_on))


def priority_rule(si_months: int, months: Iterable[str]) -> str:
    """The rule text of a K6b payment: the employer share of these months."""
    return f"§10 按企业为其缴纳{si_months}个月社会保险费标准: employer share for {', '.join(months)}"


def priority_deadline(starts_on: date, params: Parameters) -> date:
    """The day a K6b case stops waiting: starts_on + `hiring.si_wait_months` (default 12)."""
    return add_months(starts_on, params.get("hiring.si_wait_months", starts_on))


def opened_by_late_registration(person_id: str, contract: dict[str, object], contract_seen: datetime, registration_seen: datetime,
                                before: list[Fact], now: list[Fact], params: Parameters) -> bool:
    """POLICY.md part 2 "late facts across topics" for a K6b hire: whether a registration that
    reached the intake after the contract opens the case the contract would have opened had the
    registration come first — a stable contract signed by `hiring.priority_until`, the person in
    no priority group on the facts known when the contract came (`before`) but in one with the
    registration (`now`), which came within `intake.late_fact_days` of the contract."""
    signed_on = date.fromisoformat(str(contract["signed_on"]))
    term = contract.get("term_months")
    if not stable_hire(term if isinstance(term, int) else None, signed_on, params) or not within_priority_window(signed_on, params):
        return False
    decided = business_date(contract_seen)
    if business_date(registration_seen) > decided + timedelta(days=int(params.get("intake.late_fact_days", decided))):
        return False
    year = contract.get("graduation_year")
    graduation_year = year if isinstance(year, int) else None
    return not priority_groups(person_id, graduation_year, signed_on, before, params) and bool(
        priority_groups(person_id, graduation_year, signed_on, now, params))
