"""K12 difficult-to-employ determination (就业困难人员认定, §16) as pure functions.

Other case kinds ask it (K4 flexible employment, K5 welfare posts, K9 follow-up, K15): build a
`PersonProfile` from the stored facts about a person (`profile_from_facts`), then ask which
categories hold on a date (`difficult_categories`) or simply whether any does (`is_difficult`).

Every clause is judged on the date asked: facts dated after it are not looked at, so the same
facts give the same answer whenever the question is asked (late events change the answer only
for the dates they are about).

Registration (城镇登记失业人员) is not required for the plain categories: §16 defines them for
registered unemployed persons, but a person who took flexible employment (K4) or a welfare post
(K5) keeps the determination the employment service made while they were registered, and those
cases only hold facts the service produced. The 参照 rule, whose clauses are about the
registration itself, does require a current registration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from contracts.cases import Fact
from contracts.parameters import Parameters
from policy.calendar import add_months, business_date, first_of_month, within_years_of

# The K12 answer's category names: EVENTS.md person categories where one exists.
ZERO_EMPLOYMENT_HOUSEHOLD = "zero_employment_household"
DIBAO_HOUSEHOLD = "dibao_household"
WITHIN_RETIREMENT_YEARS = "within_retirement_years"  # no EVENTS.md category: derived from the date
DISABLED = "disabled"
SEVERELY_DISABLED = "severely_disabled"
SINGLE_PARENT = "single_parent"
MILITARY_SPOUSE = "military_spouse"
ENTITLED_GROUP = "entitled_group"
MARTYR_FAMILY = "martyr_family"
POVERTY_REGISTERED = "poverty_registered"

# Categories stated by the registration that hold as they are (§16 list).
STATED_CATEGORIES: tuple[str, ...] = (
    SINGLE_PARENT,
    MILITARY_SPOUSE,
    ENTITLED_GROUP,
    MARTYR_FAMILY,
    POVERTY_REGISTERED,
)
# §16 参照: groups treated as difficult to employ once the registration conditions hold.
TREATED_AS_GROUPS: tuple[str, ...] = ("veteran", "model_worker", "land_expropriated")
TREATED_AS_PREFIX = "treated_as:"

# The event types `profile_from_facts` reads; route modules of kinds that ask K12 list them in
# their FACT_TYPES so the intake stores them as facts about their subjects.
PERSON_FACT_TYPES: tuple[str, ...] = (
    "unemployment.registered",
    "unemployment.deregistered",
    "employment.registered",
    "welfare_post.placed",
    "referral.recorded",
    "household.updated",
    "dibao.granted",
    "dibao.ended",
)


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    working_age: bool
    able_to_work: bool
    employed: bool


@dataclass(frozen=True)
class Household:
    """The latest `household.updated` that lists the person (members live together)."""

    members: tuple[HouseholdMember, ...]
    business_income: bool
    household_id: str = ""


@dataclass(frozen=True)
class PersonProfile:
    """What K12 needs to know about a person, as of one date."""

    person_id: str
    registered_on: date | None  # registered unemployed since (None: not registered)
    retirement_date: date | None
    categories: frozenset[str]  # EVENTS.md person categories stated by registration / placement
    household: Household | None
    dibao: bool  # 低保 household member: an active dibao.granted, or the stated category
    referrals_not_hired: int  # referrals during the current registration that led to no job
    flexible_or_self_employed: bool  # flexible or self-employment during the current registration
    referral_dates: tuple[date, ...] = field(default=())


# -- the rule ---------------------------------------------------------------------------------
def is_zero_employment_household(household: Household | None) -> bool:
    """§16 零就业家庭: ≥ 2 members living together, none of the working-age members able (and
    so, if employed, willing) to work has a job, and no business or investment income.

    Willingness is not in the household record; it does not matter: a member who is employed is
    willing, so "every able and willing member is unemployed" is "no able member is employed".
    A household with no working-age able member at all is not a zero-*employment* household:
    there is nobody whose employment the measure is about.
    """
    if household is None or household.business_income or len(household.members) < 2:
        return False
    able = [m for m in household.members if m.working_age and m.able_to_work]
    return bool(able) and not any(m.employed for m in able)


def within_retirement_years(retirement_date: date | None, on: date, params: Parameters) -> bool:
    """§16 距法定退休年龄5年以内: `retirement_date - on <= difficult.retirement_years` years
    (unknown → False). The one "within N years of retirement" rule: the §16 category, and the
    §13/§17 period that runs until retirement (POLICY.md "within 5 years"). §17's funding is
    strict instead (不足: `policy.welfare_post.less_than_retirement_years`)."""
    if retirement_date is None:
        return False
    return within_years_of(retirement_date, on, params.get("difficult.retirement_years", on))


def continuously_registered(profile: PersonProfile, on: date, params: Parameters) -> bool:
    """§16 参照 连续失业1年以上: registered for ≥ `difficult.continuous_unemployed_months` months
    (the registration date plus that many months is on or before `on`)."""
    if profile.registered_on is None:
        return False
    return continuous_registration_reached(profile.registered_on, on, params) <= on


def continuous_registration_reached(registered_on: date, on: date, params: Parameters) -> date:
    """The day a registration of `registered_on` has lasted `difficult.continuous_unemployed_months`
    months (the value in force on `on`): from then on it counts as 连续失业1年以上."""
    return add_months(registered_on, params.get("difficult.continuous_unemployed_months", on))


def treated_as_conditions_hold(profile: PersonProfile, on: date, params: Parameters) -> bool:
    """§16 参照: registered unemployed ≥ 12 continuous months, no flexible or self-employment
    during the registration, and ≥ `difficult.referral_min` referrals that led to no job.

    The seed says 累计2次以上; in Chinese legal text 以上 includes the number itself (as
    POLICY.md's "≥ 2" and the pack's referral_min = 2 say), so two referrals are enough.
    """
    return (
        continuously_registered(profile, on, params)
        and not profile.flexible_or_self_employed
        and profile.referrals_not_hired >= params.get("difficult.referral_min", on)
    )


def difficult_categories(profile: PersonProfile, on: date, params: Parameters) -> list[str]:
    """Every §16 category that holds for the person on `on`, sorted.

    Treated-as (参照) categories are prefixed `treated_as:` (e.g. `treated_as:veteran`) so that
    callers can tell them apart (§17 funding looks at specific categories).
    """
    held: set[str] = set()
    if is_zero_employment_household(profile.household) or (
        profile.household is None and ZERO_EMPLOYMENT_HOUSEHOLD in profile.categories
    ):
        held.add(ZERO_EMPLOYMENT_HOUSEHOLD)
    if profile.dibao:
        held.add(DIBAO_HOUSEHOLD)
    if within_retirement_years(profile.retirement_date, on, params):
        held.add(WITHIN_RETIREMENT_YEARS)
    if DISABLED in profile.categories or SEVERELY_DISABLED in profile.categories:
        held.add(DISABLED)
    if SEVERELY_DISABLED in profile.categories:
        # Not a K12 clause of its own, but §17 funds renewed placements of the severely disabled.
        held.add(SEVERELY_DISABLED)
    held.update(c for c in STATED_CATEGORIES if c in profile.categories)
    if treated_as_conditions_hold(profile, on, params):
        held.update(TREATED_AS_PREFIX + g for g in TREATED_AS_GROUPS if g in profile.categories)
    return sorted(held)


def is_difficult(profile: PersonProfile, on: date, params: Parameters) -> bool:
    """Whether the person is difficult to employ (or treated as such) on `on`."""
    return bool(difficult_categories(profile, on, params))


def treated_as_categories(categories: Iterable[str]) -> list[str]:
    """The 参照 groups among an answer of `difficult_categories` (without the prefix)."""
    return sorted(c[len(TREATED_AS_PREFIX):] for c in categories if c.startswith(TREATED_AS_PREFIX))


# -- the profile from stored facts ------------------------------------------------------------
def fact_date(fact: Fact) -> date:
    """The business date a fact is about: its own date field; a 低保 grant from the first day of
    its month; undated facts (household records) from the day they were reported."""
    if fact.on_date is not None:
        return fact.on_date
    if fact.type == "dibao.granted" and isinstance(fact.payload.get("from_month"), str):
        return first_of_month(fact.payload["from_month"])
    return business_date(fact.event_time)


def household_keys(person_id: str, facts: Iterable[Fact]) -> list[str]:
    """Further keys to load 低保 facts under, to see a grant made to another member of the
    person's household: `household/<id>` (the grant) and the other members' `person/<id>` (its
    ending, which names only the grantee). Facts about other persons loaded this way are only
    used for the household's 低保; everything else is filtered by person id."""
    keys: list[str] = []
    for f in facts:
        if f.type == "household.updated" and _lists(f, person_id):
            for key in [f"household/{f.payload['household_id']}"] + [
                f"person/{m['person_id']}" for m in f.payload.get("members") or () if m.get("person_id") != person_id
            ]:
                if key not in keys:
                    keys.append(key)
    return keys


def _lists(fact: Fact, person_id: str) -> bool:
    return any(isinstance(m, dict) and m.get("person_id") == person_id for m in fact.payload.get("members") or ())


def _household(fact: Fact) -> Household:
    members = tuple(
        HouseholdMember(
            person_id=str(m["person_id"]),
            working_age=bool(m["working_age"]),
            able_to_work=bool(m["able_to_work"]),
            employed=bool(m["employed"]),
        )
        for m in fact.payload.get("members") or ()
    )
    return Household(
        members=members, business_income=bool(fact.payload["business_income"]), household_id=str(fact.payload["household_id"])
    )


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    """Facts in the order of the business dates they are about (then as reported)."""
    return sorted(facts, key=lambda f: (fact_date(f), f.event_time, f.event_key))


def profile_from_facts(person_id: str, facts: list[Fact], on: date) -> PersonProfile:
    """The person's profile as of `on`, from stored facts (as `load_facts` returns them).

    - Registration: the latest `unemployment.registered` on or before `on`, unless a
      deregistration or an employment as an employee dated after it (and by `on`) ended it.
      Flexible and self-employment do not end it here: §16 参照 looks at whether they
      happened 登记失业期间, and records it in `flexible_or_self_employed`.
    - Categories: every category stated by a registration or a welfare-post placement by `on`.
    - Household: the latest `household.updated` listing the person, by `on`.
    - 低保: a grant (to the person, or to their household) in force on `on`, or the stated
      `dibao_household` category unless a `dibao.ended` after the stating event ended it.
    - Referrals: `referral.recorded` in [registration date, `on`] with an outcome other than hired.
    """
    mine = [f for f in _ordered(facts) if fact_date(f) <= on]
    registration: Fact | None = None
    registration_ended = False
    categories: set[str] = set()
    categories_stated_on: date | None = None
    household: Household | None = None
    for f in mine:
        subject = f.payload.get("person_id")
        if f.type == "household.updated":
            if _lists(f, person_id):
                household = _household(f)
            continue
        if subject != person_id:
            continue
        if f.type == "unemployment.registered":
            registration, registration_ended = f, False
        elif f.type == "unemployment.deregistered" and registration is not None:
            registration_ended = True
        elif f.type == "employment.registered" and registration is not None and f.payload.get("kind") == "employee":
            registration_ended = True
        if f.type in ("unemployment.registered", "welfare_post.placed") and f.payload.get("categories"):
            categories.update(f.payload["categories"])
            categories_stated_on = fact_date(f)

    current = registration if registration is not None and not registration_ended else None
    registered_on = fact_date(current) if current is not None else None
    retirement = _retirement_date(mine, person_id)

    referral_dates: list[date] = []
    flexible = False
    if registered_on is not None:
        for f in mine:
            if f.payload.get("person_id") != person_id or fact_date(f) < registered_on:
                continue
            if f.type == "referral.recorded" and f.payload.get("outcome") != "hired":
                referral_dates.append(fact_date(f))
            elif f.type == "employment.registered" and f.payload.get("kind") in ("flexible", "self_employed"):
                flexible = True

    return PersonProfile(
        person_id=person_id,
        registered_on=registered_on,
        retirement_date=retirement,
        categories=frozenset(categories),
        household=household,
        dibao=_dibao(mine, person_id, household, categories, categories_stated_on),
        referrals_not_hired=len(referral_dates),
        flexible_or_self_employed=flexible,
        referral_dates=tuple(referral_dates),
    )


def registered_city(person_id: str, facts: Iterable[Fact]) -> str | None:
    """The city of the person's latest unemployment registration, in the order `facts` come (as
    `load_facts` returns them): the city whose parameters a case of the person is judged with
    when its opening event (an application, a contract) names none."""
    cities = [f.payload.get("city") for f in facts
              if f.type == "unemployment.registered" and f.payload.get("person_id") == person_id]
    return next((c for c in reversed(cities) if isinstance(c, str)), None)


def _retirement_date(facts: list[Fact], person_id: str) -> date | None:
    found: date | None = None
    for f in facts:
        if f.type == "unemployment.registered" and f.payload.get("person_id") == person_id and f.payload.get("retirement_date"):
            found = date.fromisoformat(f.payload["retirement_date"])
    return found


def _dibao(
    facts: list[Fact], person_id: str, household: Household | None, categories: set[str], stated_on: date | None
) -> bool:
    """A grant to the person or their household in force (not ended) by the last fact, or the
    stated category not ended after it was stated."""
    household_id = household.household_id if household else None
    active: set[str] = set()  # grantees whose grant the person shares and which has not ended
    ended_on: date | None = None
    for f in facts:
        grantee = f.payload.get("person_id")
        if f.type == "dibao.granted" and (
            grantee == person_id or (household_id and f.payload.get("household_id") == household_id)
        ):
            active.add(str(grantee))
        elif f.type == "dibao.ended":
            active.discard(str(grantee))
            if grantee == person_id:
                ended_on = fact_date(f)
    granted = bool(active)
    if granted:
        return True
    if DIBAO_HOUSEHOLD in categories:
        return ended_on is None or (stated_on is not None and stated_on > ended_on)
    return False
