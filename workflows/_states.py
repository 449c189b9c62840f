"""The typed state of each case kind: what its workflow knows beyond what every case knows
(case_base.CaseWorkflow), and what continue-as-new carries for it.

A kind's state is a dataclass whose fields all have defaults; the base writes its fields as
top-level keys of the carried payload (dates as ISO strings, models as their JSON dump, int keys
as strings): the format every kind's hand-written carry used before the template, so a run
continued by older code restores under this one, and a field added later takes its default.

This module is imported passed through the workflow sandbox, and each state's adapter is built
here when the module is first imported (outside any sandbox): inside one, `datetime.date` is a
restricted proxy that pydantic cannot build a schema for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Annotated, Any, TypeVar, dataclass_transform

from pydantic import BeforeValidator, TypeAdapter

from contracts.cases import Fact
from contracts.events import (
    ApplicationSubmitted,
    ContractSigned,
    DibaoGranted,
    InternshipAgreementSigned,
    LayoffPlanFiled,
    UiClaimFiled,
    UnemploymentRegistered,
    WelfarePostPlaced,
)
from policy import hiring, hubei, incubator, internship, service_subsidy, startup_loan, training_subsidy, unemployment
from policy.contribution_schedule import Report
from policy.funds import Fund
from policy.subsidy_period import Period

_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}
T = TypeVar("T")


@dataclass_transform(field_specifiers=(field,))
def case_state(cls: type[T]) -> type[T]:
    """A kind's state: a dataclass, with its adapter built now."""
    state_type = dataclass(cls)
    _ADAPTERS[state_type] = TypeAdapter(state_type)
    return state_type


def dump_state(state: Any) -> dict[str, Any]:
    return _ADAPTERS[type(state)].dump_python(state, mode="json")  # type: ignore[no-any-return]


def load_state(state_type: type[T], carried: dict[str, Any]) -> T:
    names = [f.name for f in fields(state_type)]  # type: ignore[arg-type]
    return _ADAPTERS[state_type].validate_python({n: carried[n] for n in names if n in carried})  # type: ignore[no-any-return]


@dataclass
class Reconciling:
    """What the state of a kind that states what it owes (`CaseWorkflow.owed`) carries: whether
    the case pays by reconciling (chosen when it opens, behind the kind's `workflow.patched`;
    False for a case opened by the code before, and for its carried payloads), and the latest
    event whose fact changed what is owed (named on the corrections it makes)."""

    reconciles: bool = False
    cause: str | None = None


# -- internship_subsidy ----------------------------------------------------------------
@case_state
class InternshipState:
    agreement: InternshipAgreementSigned | None = None
    pauses: list[internship.Pause] = field(default_factory=list)
    months_paid: int = 0
    reconciles: bool = False  # `reconciles` and `cause` as in InsuranceState
    cause: str | None = None
    # The day the internship ended early, or the intern was hired by the unit.
    ended_on: date | None = None
    hired_on: date | None = None
    # The reason the end gave (the closing rule names it; a close may wait: CaseWorkflow.closing).
    ended_reason: str | None = None
    # A month an open interruption holds is owed nothing (policy.internship.owed_months); cases
    # opened before kept it owed until the period end.
    open_pause_owes_nothing: bool = False
    # Cases opened under k1-resume-matches-its-pause take an interruption dated before the open
    # one, and a resumption ends the open pause it follows (workflows/internship_subsidy.py).
    resume_matches_its_pause: bool = False


# -- unemployed_followup ---------------------------------------------------------------
@case_state
class FollowupState:
    registration: UnemploymentRegistered | None = None
    followed: dict[int, date] = field(default_factory=dict)  # registered month → first contact dated in it
    checked_through: int = 0  # months whose escalation day has been judged
    escalations: dict[int, str] = field(default_factory=dict)  # registered month → escalation task id
    long_term_since: date | None = None
    training_checked: bool = False
    training_notice_on: date | None = None
    anniversary_checked: bool = False
    treated_as: dict[str, date] = field(default_factory=dict)  # 参照 group → the day it started to hold
    categories: list[str] = field(default_factory=list)  # K12's latest answer
    categories_on: date | None = None
    referrals: int = 0


# -- dibao_taper -----------------------------------------------------------------------
@case_state
class DibaoState(Reconciling):
    grant: DibaoGranted | None = None
    employed_on: date | None = None
    decision_task: str | None = None
    months: int | None = None
    decided_by: str | None = None
    months_paid: int = 0
    # Cases opened under k10-latest-grant-stands: the business time and event key of the grant
    # that stands, so of two grants from one month the one announced last stands in any order.
    latest_grant_stands: bool = False
    grant_announced: tuple[datetime, str] | None = None


# -- layoff_plan -----------------------------------------------------------------------
@case_state
class LayoffState:
    plan: LayoffPlanFiled | None = None
    mass: bool = False
    union_notified_on: date | None = None
    executed_on: date | None = None
    executed_persons: int = 0
    premature: bool = False
    # The last day the obligations may be settled (§3); re-aimed by an `extend` decision.
    obligations_due: date | None = None
    escalated: str | None = None
    settled_before_execution: date | None = None


# -- unemployment_assistance -----------------------------------------------------------
@case_state
class AssistanceState(Reconciling):
    person_id: str = ""
    reason: str = ""
    ui_case_id: str | None = None
    months: int = 0
    months_paid: int = 0
    reemployed_on: date | None = None


# -- unemployment_insurance ------------------------------------------------------------
@case_state
class InsuranceState(Reconciling):
    claim: UiClaimFiled | None = None
    by_contribution: int = 0
    carried_over: int = 0
    entitlement: int = 0
    eligible: bool = True
    months_paid: int = 0
    uplift_paid: list[int] = field(default_factory=list)  # benefit months whose uplift was paid
    linkages: list[unemployment.PriceLinkage] = field(default_factory=list)  # in the order learned, one per month
    linkage_paid: list[str] = field(default_factory=list)
    reemployed_on: date | None = None
    continuation: bool = False
    assistance_case_id: str | None = None
    # Whether the price linkage is part of what the case owes (chosen at opening: LINKAGE_OWED).
    links_owed: bool = False
    # The business date of the last epidemic fact received while running: an uplift that
    # becomes owed for a month already paid falls due then.
    epidemic_learned_on: date | None = None


def _reports(value: Any) -> Any:
    """K4/K15 contributions as carried before reports were compared: month → [fen, received]."""
    return {
        m: dict(zip(("amount", "received_on"), r, strict=False)) if isinstance(r, (list, tuple)) else r for m, r in value.items()
    }


# Contributions by month paid for: the report that stands (policy.contribution_schedule).
Reports = Annotated[dict[str, Report], BeforeValidator(_reports)]


# -- flexible_employment_subsidy -------------------------------------------------------
@case_state
class FlexibleState:
    application: ApplicationSubmitted | None = None
    categories: list[str] = field(default_factory=list)
    period: Period | None = None
    contributions: Reports = field(default_factory=dict)
    paid_months: dict[str, int] = field(default_factory=dict)
    # Stable employment: the day it begins (the earliest stable contract's start).
    employed_from: date | None = None
    # As K2's: whether the case reconciles what it owes (chosen at opening), and the latest event
    # whose fact changed what is owed.
    reconciles: bool = False
    cause: str | None = None


# -- enterprise_si_subsidy -------------------------------------------------------------
@case_state
class EnterpriseSiState:
    contract: ContractSigned | None = None
    categories: list[str] = field(default_factory=list)
    exempt: set[str] = field(default_factory=set)
    # The employer's contributions for the person (the employer share).
    contributions: Reports = field(default_factory=dict)
    paid_months: dict[str, int] = field(default_factory=dict)
    separated_on: date | None = None
    # Months whose exemption was already noted on the timeline (paid before it, or not paid).
    exempt_noted: set[str] = field(default_factory=set)
    reconciles: bool = False
    cause: str | None = None
    # Opened under `k15-late-facts`: a hire rejected as not difficult to employ listens for the
    # K12 fact that makes the person so.
    late_facts: bool = False


# -- public_welfare_post ---------------------------------------------------------------
APPROVAL_NOT_NEEDED = "not_needed"
APPROVAL_PENDING = "pending"
APPROVAL_GRANTED = "approved"


@case_state
class WelfarePostState:
    placement: WelfarePostPlaced | None = None
    categories: list[str] = field(default_factory=list)
    placement_number: int = 0
    fund: Fund = Fund.EMPLOYMENT_SUBSIDY
    fund_reason: str = ""
    period: Period | None = None
    months_paid: int = 0
    approval: str = APPROVAL_NOT_NEEDED  # or APPROVAL_PENDING, APPROVAL_GRANTED
    approval_task: str | None = None
    # The day the person is off the post: left it, or stable employment begins.
    left_on: date | None = None
    employed_from: date | None = None
    paid_past_end: int = 0
    reconciles: bool = False  # `reconciles` and `cause` as in InsuranceState
    cause: str | None = None


def _counted_months(value: Any) -> Any:
    """K6b's counted months as carried before the template: [month, fen, received] lists."""
    return [dict(zip(("month", "employer_amount", "received_on"), m, strict=False)) if isinstance(m, (list, tuple)) else m for m in value]


# -- hiring_subsidy --------------------------------------------------------------------
@case_state
class HiringState:
    program: str = ""
    enterprise: str = ""
    person: str = ""
    contract: ContractSigned | None = None
    groups: list[str] = field(default_factory=list)
    registered_on: date | None = None
    # K6a: the earliest application naming the person, the first contribution (month, received).
    applied_on: date | None = None
    contribution: tuple[str, date] | None = None
    agency_paid: int | None = None
    # K6b: contribution months as first received (carried as [month, fen, received] before the
    # template); the contract's end.
    counted: Annotated[list[hiring.CountedMonth], BeforeValidator(_counted_months)] = field(default_factory=list)
    # Cases opened under k6-latest-report-stands: K6b's months as the report that stands for each
    # (the one announced last, policy.contribution_schedule), in place of `counted` (the first
    # delivered). Not K6a's `contribution` above, which only needs the first day one was paid.
    latest_report_stands: bool = False
    contributions: Reports = field(default_factory=dict)
    terminated_on: date | None = None
    months_paid: list[str] = field(default_factory=list)
    # The deadline the read model was last told of (a re-aimed one is recorded when it moves).
    next_deadline: date | None = None
    # Cases opened under k6-reconcile-owed: what is owed is what the facts known now give, and
    # the event that last changed it is named on a correction.
    reconciles: bool = False
    cause: str | None = None
    # Cases opened under k6-late-facts: a rejection for want of a fact listens for it, holding the
    # pair's events that reach it meanwhile (`hiring.HELD_WHILE_REJECTED`, held by the base) for if it reopens.
    late_facts: bool = False


# -- hubei_graduate_grant --------------------------------------------------------------
@case_state
class HubeiGrantState:
    application: ApplicationSubmitted | None = None
    grant: hubei.GrantDetails | None = None  # the application's parsed details
    reason: str | None = None  # why not eligible
    # Cases opened under k11-reconcile-owed: the grant is what the facts known now give, and the
    # event that last changed it is named on a correction.
    reconciles: bool = False
    cause: str | None = None
    # Cases opened under k11-latest-application-stands: the business time and event key of the
    # application whose details stand (the one announced last, whatever order they arrived in).
    announced: tuple[datetime, str] | None = None


# -- job_retention_refund --------------------------------------------------------------
@case_state
class RetentionState:
    application: ApplicationSubmitted | None = None
    year: int | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    formula: str | None = None
    # Cases opened under k7-reconcile-owed: the enterprise's facts as known now (those stored at
    # the application plus those that arrived since), the refund they give, and the event that
    # last changed it.
    reconciles: bool = False
    facts: list[Fact] = field(default_factory=list)
    cause: str | None = None
    # Cases opened under k7-late-facts: a rejection for want of a fact listens for it.
    late_facts: bool = False


# -- temporary_living_allowance ---------------------------------------------------------
@case_state
class LivingAllowanceState:
    application: ApplicationSubmitted | None = None
    months: int = 0  # tla.months in force on the application date
    reemployed_on: date | None = None
    # The event that last changed what is owed (named on the corrections it causes).
    cause: str | None = None


# -- startup_loan_interest ----------------------------------------------------------------
@case_state
class StartupLoanState:
    loan: startup_loan.Loan | None = None
    # Interest periods the bank reported: period → (the period, the day the report arrived).
    reported: dict[str, tuple[startup_loan.InterestPeriod, date]] = field(default_factory=dict)
    extensions: list[startup_loan.Extension] = field(default_factory=list)
    repaid_on: date | None = None
    defaulted_on: date | None = None
    claim_task: str | None = None  # the guarantee_claim task raised on default
    # The event that last changed what is owed (named on the corrections it causes).
    cause: str | None = None
    # Opened under `k13-late-facts`: a loan rejected for want of the enterprise's registration
    # listens for it; the bank's reports reaching it meanwhile are held (by the base) for a reopening.
    late_facts: bool = False
    # Opened under `k13-order-independent`: of two reports of a period the one announced last
    # stands (`announced`: period → its business time and event key), and only the term's last
    # period completes the case.
    order_independent: bool = False
    announced: dict[str, tuple[datetime, str]] = field(default_factory=dict)


# -- employment_service_subsidy -------------------------------------------------------------
@case_state
class ServiceSubsidyState:
    agency_id: str = ""
    year: int = 0
    services: list[service_subsidy.Service] = field(default_factory=list)
    # Employments of the persons placed, read from the store when their quarter is settled (and,
    # opened under `k18-late-jobs`, taken as they arrive).
    employments: list[service_subsidy.Employment] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)  # the quarters settled so far
    cause: str | None = None
    late_jobs: bool = False  # opened under `k18-late-jobs`: found by the persons it placed


# -- incubator_subsidy ----------------------------------------------------------------------
@case_state
class IncubatorState:
    incubator_id: str = ""
    year: int = 0
    # The year's latest expenses report and the day the first one arrived.
    report: tuple[incubator.ExpensesReport, date] | None = None
    reliefs: dict[str, incubator.RentRelief] = field(default_factory=dict)
    selection_task: str | None = None
    approved_on: date | None = None
    denied: bool = False
    cause: str | None = None
    # Cases opened under k16-latest-report-stands: the business time and event key of the
    # expenses report that stands (the one announced last, whatever order they arrived in).
    latest_report_stands: bool = False
    report_announced: tuple[datetime, str] | None = None
    # Cases opened under k16-latest-rent-relief-stands: per month, the business time and event
    # key of the rent relief report that stands (the one announced last, whatever the order).
    latest_relief_stands: bool = False
    relief_announced: dict[str, tuple[datetime, str]] = field(default_factory=dict)


# -- vocational_training_subsidy ------------------------------------------------------------
@case_state
class TrainingState:
    enrolment: training_subsidy.Enrolment | None = None
    groups: list[str] = field(default_factory=list)  # the eligible groups on the start date
    trainee: bool = False  # 劳动预备制: also paid a living allowance per completed month
    completed_on: date | None = None
    certificate_level: str | None = None
    dropped_on: date | None = None
    granted: training_subsidy.CompletionPayment | None = None  # the completion's subsidy, once within the limits
    judged: bool = False  # the completion was judged (paid, failed or refused by a limit)
    refusal: str | None = None  # why a limit refused the completion's subsidy
    cause: str | None = None
    # Opened under `k14-late-facts`: an enrolment rejected for want of the person's registration
    # listens for it; its completion or drop reaching it meanwhile is held (by the base) for a reopening.
    late_facts: bool = False
