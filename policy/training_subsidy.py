"""K14 vocational_training_subsidy (职业培训补贴, §1, §11, §13, §14, §15) with 劳动预备制 (§11)
as pure rules.

An enrolment (`training.enrolled`) is eligible on its start date when the trainee is in one of
the groups below; a completion with a certificate at the enrolled level pays the subsidy of the
level (a share of it for online courses) to the trainee, or, for on-the-job training, a fixed
amount per trainee to the sponsoring enterprise. A person gets at most `training.max_per_year`
subsidies per calendar year of completion and never two for the same occupation and level:
`limit_refusal` judges a completion against the person's earlier paid subsidies, so that the
store can apply it in the transaction that records the payment. 劳动预备制 trainees (registered
unemployed, under 20, willing to train, course starting in the 2020 window) are also paid a
living allowance for each completed training month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.cases import Fact
from contracts.events import as_date
from contracts.parameters import Parameters
from policy import difficult
from policy.calendar import add_months, month_window
from policy.corrections import Owed
from policy.funds import Fund

PROGRAM = "vocational_training_subsidy"
ON_JOB_PROGRAM = "on_job_training_subsidy"
LIVING_ALLOWANCE_PROGRAM = "labour_preparation_allowance"
PERIOD = "once"

ONLINE = "online"
FLEXIBLE_KIND = "flexible"  # EVENTS.md employment.registered kind of a flexible worker (§13)

# EVENTS.md training groups, each a clause of POLICY.md K14.
REGISTERED_UNEMPLOYED = "registered_unemployed"
GRADUATE = "graduate"
EMPLOYEE = "employee"
FLEXIBLE_WORKER = "flexible_worker"
# §11 高校毕业生、农民工、退役军人、建档立卡贫困劳动力、残疾人等重点群体专项培训; §15 (a migrant
# worker from another province stranded in Liaoning counts: 可按规定享受我省有关政策).
STATED_GROUPS: tuple[str, ...] = ("migrant_worker", "poverty_registered", "veteran", "disabled")


@dataclass(frozen=True)
class Enrolment:
    """A `training.enrolled` (EVENTS.md), as typed values."""

    enrolment_id: str
    person_id: str
    provider_id: str
    city: str
    occupation: str
    level: str
    mode: str
    starts_on: date
    ends_on: date
    groups: tuple[str, ...] = ()
    sponsor_enterprise_id: str | None = None
    graduation_year: int | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "Enrolment":
        return cls(
            enrolment_id=str(data["enrolment_id"]),
            person_id=str(data["person_id"]),
            provider_id=str(data["provider_id"]),
            city=str(data["city"]),
            occupation=str(data["occupation"]),
            level=str(data["level"]),
            mode=str(data["mode"]),
            starts_on=as_date(data["starts_on"]),
            ends_on=as_date(data["ends_on"]),
            groups=tuple(data.get("groups") or ()),
            sponsor_enterprise_id=data.get("sponsor_enterprise_id"),
            graduation_year=data.get("graduation_year"),
        )

    @property
    def on_the_job(self) -> bool:
        """On-the-job training (§1 职工在岗培训): an employee's course sponsored by an enterprise."""
        return self.sponsor_enterprise_id is not None and EMPLOYEE in self.groups


# -- eligibility on the start date ----------------------------------------------------------------
def is_flexible_worker(person_id: str, facts: Iterable[Fact], on: date) -> bool:
    """§13 灵活就业人员: by `on`, an `employment.registered` of kind flexible that no later
    registration or termination replaced, or a contribution paid without an employer (own
    contributions, EVENTS.md: employer absent = flexible employment)."""
    latest_kind: str | None = None
    own_contribution = False
    for f in sorted(facts, key=lambda f: (difficult.fact_date(f), f.event_time, f.event_key)):
        if f.payload.get("person_id") != person_id or difficult.fact_date(f) > on:
            continue
        if f.type == "employment.registered":
            latest_kind = f.payload.get("kind")
        elif f.type == "employment.terminated":
            latest_kind = None
        elif f.type == "contribution.paid" and f.payload.get("employer_id") is None:
            own_contribution = True
    return latest_kind == FLEXIBLE_KIND or own_contribution


def eligible_groups(enrolment: Enrolment, registered_unemployed: bool, flexible_worker: bool, params: Parameters) -> list[str]:
    """The K14 groups the trainee is in on the start date, sorted:

    - registered unemployed (K12's profile of the start date, or the group as stated);
    - a graduate of a cohort in `training.graduate_cohorts` (§14 专业转换及技能提升培训): the
      `graduate` group with its `graduation_year`; a graduate whose year is unknown is not counted;
    - migrant worker, poverty-registered, veteran, disabled as stated (§11, §15);
    - a flexible worker (§13: `is_flexible_worker`, or the group as stated);
    - an employee in on-the-job training sponsored by an enterprise, the course starting on or
      before `training.on_job_until` (§1).
    """
    on = enrolment.starts_on
    held: set[str] = set()
    if registered_unemployed or REGISTERED_UNEMPLOYED in enrolment.groups:
        held.add(REGISTERED_UNEMPLOYED)
    cohorts = set(params.get("training.graduate_cohorts", on))
    if GRADUATE in enrolment.groups and enrolment.graduation_year in cohorts:
        held.add(GRADUATE)
    held.update(g for g in STATED_GROUPS if g in enrolment.groups)
    if flexible_worker or FLEXIBLE_WORKER in enrolment.groups:
        held.add(FLEXIBLE_WORKER)
    if enrolment.on_the_job and on <= params.day("training.on_job_until", on):
        held.add(EMPLOYEE)
    return sorted(held)


def ineligibility(enrolment: Enrolment, registered_unemployed: bool, flexible_worker: bool, params: Parameters) -> str | None:
    """Why the enrolment is not eligible on its start date (None: it is)."""
    if eligible_groups(enrolment, registered_unemployed, flexible_worker, params):
        return None
    notes = []
    if GRADUATE in enrolment.groups:
        notes.append(f"graduation year {enrolment.graduation_year} is not a cohort of training.graduate_cohorts (§14)")
    if enrolment.on_the_job:
        notes.append(f"on-the-job course starts after training.on_job_until ({params.day('training.on_job_until', enrolment.starts_on)}, §1)")
    detail = f": {'; '.join(notes)}" if notes else ""
    return f"§11, §13, §14, §15: the trainee is in no eligible group on {enrolment.starts_on}{detail}"


# -- the completion -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompletionPayment:
    payee: str
    program: str
    amount: int
    fund: Fund


def completion_payment(enrolment: Enrolment, certificate_level: str | None, params: Parameters) -> CompletionPayment | None:
    """What a completion pays, or None (the case `failed`) without a certificate at the enrolled
    level. On-the-job training pays `training.on_job_per_trainee` to the sponsoring enterprise
    from `skills_upgrading_fund`; any other pays the trainee `training.subsidy_by_level` of the
    level, × `training.online_ratio` (floor) for an online course, from `employment_subsidy_fund`.
    Parameters are those in force on the course's start date."""
    if certificate_level != enrolment.level:
        return None
    on = enrolment.starts_on
    if enrolment.on_the_job:
        amount = int(params.get("training.on_job_per_trainee", on))
        return CompletionPayment(f"enterprise/{enrolment.sponsor_enterprise_id}", ON_JOB_PROGRAM, amount, Fund.SKILLS_UPGRADING)
    amount = int(params.get("training.subsidy_by_level", on)[enrolment.level])
    if enrolment.mode == ONLINE:
        ratio = params.ratio("training.online_ratio", on)
        amount = amount * ratio.numerator // ratio.denominator
    return CompletionPayment(f"person/{enrolment.person_id}", PROGRAM, amount, Fund.EMPLOYMENT_SUBSIDY)


def failure_reason(enrolment: Enrolment, certificate_level: str | None) -> str:
    """Why a completion pays nothing (the case closes `failed`)."""
    if certificate_level is None:
        return "completed without a certificate"
    return f"certificate at level {certificate_level}, not the enrolled level {enrolment.level}"


@dataclass(frozen=True)
class PastSubsidy:
    """A training subsidy already paid for the person (any case of theirs)."""

    completed_on: date
    occupation: str
    level: str


def limit_refusal(completed_on: date, occupation: str, level: str, past: Iterable[PastSubsidy], params: Parameters) -> str | None:
    """The reason a completion is refused (the case closes `rejected`) against the person's
    earlier paid subsidies, or None:

    - 同一职业同一等级不得重复享受: an earlier subsidy for the same occupation and level;
    - at most `training.max_per_year` subsidies per calendar year of completion.
    """
    earlier = list(past)
    if any(p.occupation == occupation and p.level == level for p in earlier):
        return _repeated(occupation, level)
    in_year = sum(1 for p in earlier if p.completed_on.year == completed_on.year)
    if in_year >= int(params.get("training.max_per_year", completed_on)):
        return _year_used_up(in_year, completed_on, params)
    return None


def _repeated(occupation: str, level: str) -> str:
    return f"a subsidy for occupation {occupation} at level {level} was already paid (同一职业同一等级不得重复享受)"


def _year_used_up(in_year: int, completed_on: date, params: Parameters) -> str:
    limit = int(params.get("training.max_per_year", completed_on))
    return f"{in_year} subsidies already paid for completions in {completed_on.year} (training.max_per_year {limit})"


# -- 劳动预备制 (§11) -----------------------------------------------------------------------------
def under_age(birth_date: date, on: date, params: Parameters) -> bool:
    """§11 20岁以下: younger than `trainee.max_age` years on `on` (the birthday makes one that age)."""
    return on < add_months(birth_date, 12 * int(params.get("trainee.max_age", on)))


def labour_preparation_trainee(
    enrolment: Enrolment, registered_unemployed: bool, birth_date: date | None, willing_training: bool, params: Parameters
) -> bool:
    """§11 将20岁以下有意愿的登记失业人员纳入劳动预备制培训政策范围，实施期限为2020年1月1日至12月31日:
    registered unemployed, under `trainee.max_age` and willing to train (the K9 mark) on the start
    date, the course starting in [`trainee.window_from`, `trainee.window_until`]."""
    on = enrolment.starts_on
    return (
        registered_unemployed
        and willing_training
        and birth_date is not None
        and under_age(birth_date, on, params)
        and params.day("trainee.window_from", on) <= on <= params.day("trainee.window_until", on)
    )


@dataclass(frozen=True)
class TrainingMonth:
    n: int
    due_on: date  # the month's end: the day after its last day

    @property
    def period(self) -> str:
        return f"month-{self.n}"


def completed_training_months(enrolment: Enrolment, dropped_on: date | None = None) -> list[TrainingMonth]:
    """The training months the living allowance pays: month n = [start + (n−1) months, start + n
    months), whose last day is on or before the end date and before any drop."""
    months: list[TrainingMonth] = []
    n = 1
    while True:
        _, end = month_window(enrolment.starts_on, n)
        last_day = end - timedelta(days=1)
        if last_day > enrolment.ends_on or (dropped_on is not None and last_day >= dropped_on):
            return months
        months.append(TrainingMonth(n, end))
        n += 1


def living_allowance(month: TrainingMonth, enrolment: Enrolment, params: Parameters) -> int:
    """`trainee.living_allowance` for a completed month, in force on the month's first day."""
    first, _ = month_window(enrolment.starts_on, month.n)
    return int(params.get("trainee.living_allowance", first))


RULE_SUBSIDY = "§11 按规定给予职业培训补贴: training.subsidy_by_level of the certified level (× training.online_ratio online)"
RULE_ON_JOB = "§1 困难企业开展职工在岗培训的补贴: training.on_job_per_trainee to the sponsoring enterprise"
RULE_ALLOWANCE = "§11 劳动预备制: trainee.living_allowance for each completed training month"
RULE_DROPPED = "POLICY.md K14: a dropped course earns no training subsidy; months already completed stay paid"
RULE_ELIGIBLE = ("POLICY.md part 2 late facts: the person's registration (unemployed, or employed as a flexible worker) "
                 "dated on or before the start date, learnt late, makes the enrolment eligible")
FACT_TYPES: tuple[str, ...] = tuple(sorted(set(difficult.PERSON_FACT_TYPES) | {"employment.registered", "employment.terminated",
                                                                       "contribution.paid"}))


def enrolment_key(enrolment_id: str) -> str:
    """The relevance key a completion or a drop (which name the enrolment) reaches the case by."""
    return f"enrolment/{enrolment_id}"


def limit_scopes(enrolment: Enrolment, completed_on: date, params: Parameters) -> list[tuple[str, int]]:
    """The limits a paid completion counts against, shared by all the person's training cases:
    `training.max_per_year` per calendar year of completion, and one per occupation and level
    (同一职业同一等级不得重复享受)."""
    person = f"person/{enrolment.person_id}"
    return [
        (f"training/{person}/{completed_on.year}", int(params.get("training.max_per_year", completed_on))),
        (f"training/{person}/{enrolment.occupation}/{enrolment.level}", 1),
    ]


def limit_reason(enrolment: Enrolment, completed_on: date, held: list[int], params: Parameters) -> str:
    """Why a completion is refused when `limit_scopes` are used up (their counts `held`)."""
    in_year, same = held
    return _repeated(enrolment.occupation, enrolment.level) if same else _year_used_up(in_year, completed_on, params)


def registration(person_id: str, facts: Iterable[Fact], on: date) -> Mapping[str, Any] | None:
    """The person's latest unemployment registration reported by `on` (birth date, willingness)."""
    found = None
    for f in sorted(facts, key=lambda f: (difficult.fact_date(f), f.event_time, f.event_key)):
        if f.type == "unemployment.registered" and f.payload.get("person_id") == person_id and difficult.fact_date(f) <= on:
            found = f.payload
    return found


def owed(
    enrolment: Enrolment,
    trainee: bool,
    dropped_on: date | None,
    granted: CompletionPayment | None,
    completed_on: date | None,
    params: Parameters,
) -> list[Owed]:
    """What the enrolment owes on the facts known now: a 劳动预备制 trainee's living allowance for
    each completed training month (due at the month's end), and the completion's subsidy once it
    was granted (`granted`, after the limits), due on the completion date."""
    rows: list[Owed] = []
    if trainee:
        rows += [Owed(program=LIVING_ALLOWANCE_PROGRAM, period=m.period, amount=living_allowance(m, enrolment, params),
                      fund=str(Fund.EMPLOYMENT_SUBSIDY), payee=f"person/{enrolment.person_id}", due_on=m.due_on,
                      rule=RULE_ALLOWANCE)
                 for m in completed_training_months(enrolment, dropped_on)]
    if granted is not None and completed_on is not None:
        rows.append(Owed(program=granted.program, period=PERIOD, amount=granted.amount, fund=str(granted.fund),
                         payee=granted.payee, due_on=completed_on,
                         rule=RULE_ON_JOB if granted.program == ON_JOB_PROGRAM else RULE_SUBSIDY))
    return rows
