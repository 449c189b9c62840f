"""The event contract of EVENTS.md as typed, validated models.

Parsing is strict where producers could be wrong in ways that would change money: numbers must
be JSON numbers (not strings), dates must be `YYYY-MM-DD`, months `YYYY-MM`, money non-negative.
Unknown extra fields are accepted (EVENTS.md: adding optional fields is not a breaking change).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args

import msgspec
import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, model_validator

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")


def as_date(value: date | str) -> date:
    """A date as it crosses a boundary: already a date, or `YYYY-MM-DD` text (event data, TOML)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return date.fromisoformat(value)


def _iso_month(value: Any) -> Any:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise ValueError("expected a month as YYYY-MM")
    return value


def _quarter(value: Any) -> Any:
    if not isinstance(value, str) or not _QUARTER.match(value):
        raise ValueError("expected a quarter as YYYY-Qn (n = 1..4)")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Month = Annotated[str, BeforeValidator(_iso_month)]
# A calendar quarter, the period of interest reports and service settlements (EVENTS.md ledger).
Quarter = Annotated[str, BeforeValidator(_quarter)]
Year = Annotated[StrictInt, Field(ge=1000, le=9999)]
Fen = Annotated[StrictInt, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=0)]

# EVENTS.md: ids are opaque tokens of letters, digits, `-` and `_`. A `/` inside an id would let
# one event name another case's workflow id (`internship/<person>/<unit>/<start>`), so the
# charset is the contract, not a style.
ID_CHARSET = r"[A-Za-z0-9_\-]{1,128}"
_ID = re.compile(rf"^{ID_CHARSET}$")
# The kinds of id that also have a subject form (`person/P1`, EVENTS.md envelope and ledger).
SUBJECT_ID_KINDS = ("person", "enterprise", "agency", "bank", "incubator")
_SUBJECT_ID = re.compile(rf"^({'|'.join(SUBJECT_ID_KINDS)})/{ID_CHARSET}$")


def normalise_id(value: object, kind: str | None = None) -> str:
    """An id field's value as the bare token: the subject form of the field's own kind
    (`person/P1` in a person field) is accepted and stripped; a subject of another kind, or any
    character outside the charset, is refused with the reason (ValueError)."""
    if not isinstance(value, str):
        raise ValueError("expected an id as a string")
    prefix, sep, rest = value.partition("/")
    if sep and prefix in SUBJECT_ID_KINDS:
        if kind is None:
            raise ValueError(f"expected a bare id here, got the subject form {prefix}/…")
        if prefix != kind:
            article = "an" if kind[0] in "aeiou" else "a"
            raise ValueError(f"expected {article} {kind} id, got the subject form {prefix}/…")
        value = rest
    if not _ID.match(value):
        raise ValueError("an id is 1 to 128 letters, digits, '-' or '_'")
    return value


def _id_of(kind: str | None) -> BeforeValidator:
    return BeforeValidator(lambda value: normalise_id(value, kind))


Id = Annotated[StrictStr, _id_of(None)]
PersonId = Annotated[StrictStr, _id_of("person")]
EnterpriseId = Annotated[StrictStr, _id_of("enterprise")]
AgencyId = Annotated[StrictStr, _id_of("agency")]
BankId = Annotated[StrictStr, _id_of("bank")]
IncubatorId = Annotated[StrictStr, _id_of("incubator")]
# A Liaoning city code (21xx, EVENTS.md); policy code that reads a code from text matches it too.
CITY_CODE = re.compile(r"^21\d{2}$")
City = Annotated[StrictStr, Field(pattern=CITY_CODE.pattern)]
# The funds a payment names (POLICY.md conventions); policy/funds.py gives them their enum.
FundName = Literal[
    "employment_subsidy_fund", "ui_fund", "restructuring_fund", "local_fund", "dibao_fund",
    "skills_upgrading_fund", "inclusive_finance_fund",
]
FUND_NAMES: tuple[str, ...] = get_args(FundName)


def _trace_header(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= _TRACE_HEADER_MAX else None


_TRACE_HEADER_MAX = 512  # W3C Trace Context: a tracestate has at most 32 entries of about 16 bytes
TraceHeader = Annotated[str | None, BeforeValidator(_trace_header)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- registration.unemployment ---------------------------------------------------------------
PersonCategory = Literal[
    "zero_employment_household", "dibao_household", "disabled", "severely_disabled", "single_parent",
    "military_spouse", "entitled_group", "martyr_family", "poverty_registered", "veteran",
    "model_worker", "land_expropriated",
]


class UnemploymentRegistered(EventData):
    person_id: PersonId
    city: City
    registered_on: IsoDate
    birth_date: IsoDate
    retirement_date: IsoDate
    willing_training: StrictBool | None = None
    categories: list[PersonCategory] = Field(default_factory=list)


class UnemploymentDeregistered(EventData):
    person_id: PersonId
    on: IsoDate
    reason: Literal["employed", "retired", "moved", "other"]


# --- registration.employment ------------------------------------------------------------------
class EmploymentRegistered(EventData):
    person_id: PersonId
    city: City
    on: IsoDate
    kind: Literal["employee", "flexible", "self_employed"]
    employer_id: EnterpriseId | None = None


class EmploymentTerminated(EventData):
    person_id: PersonId
    on: IsoDate
    employer_id: EnterpriseId | None = None


# --- registration.enterprise ------------------------------------------------------------------
class EnterpriseRegistered(EventData):
    enterprise_id: EnterpriseId
    city: City
    industry: Annotated[StrictStr, Field(pattern=r"^[a-z_]+$")]
    size: Literal["micro", "small", "medium", "large"]
    epidemic_supplies: StrictBool | None = None


class EnterpriseClosureReported(EventData):
    enterprise_id: EnterpriseId
    city: City
    on: IsoDate
    kind: Literal["shutdown", "suspension", "merger", "conversion"]
    affected_persons: Annotated[StrictInt, Field(ge=0)] | None = None


# --- si.contributions / si.enrollment / si.benefits -------------------------------------------
Insurance = Literal["pension", "unemployment", "medical", "injury"]


class ContributionPaid(EventData):
    person_id: PersonId
    month: Month
    employer_id: EnterpriseId | None = None
    base: Fen
    employer_amount: Fen
    employee_amount: Fen
    insurances: list[Insurance]


class InsuredEnrolled(EventData):
    person_id: PersonId
    employer_id: EnterpriseId
    on: IsoDate


class InsuredLeft(EventData):
    person_id: PersonId
    employer_id: EnterpriseId
    on: IsoDate
    reason: Literal["layoff", "resignation", "contract_end", "retirement", "other"]


class FeeExemption(EventData):
    enterprise_id: EnterpriseId
    from_month: Month
    to_month: Month


class UiClaimFiled(EventData):
    person_id: PersonId
    city: City
    claim_on: IsoDate
    insured_months: Annotated[StrictInt, Field(ge=0)]
    involuntary: StrictBool
    retirement_date: IsoDate


# --- labor.contracts --------------------------------------------------------------------------
class ContractSigned(EventData):
    person_id: PersonId
    employer_id: EnterpriseId
    signed_on: IsoDate
    starts_on: IsoDate
    term_months: Annotated[StrictInt, Field(ge=1)] | None
    referred_by_agency: AgencyId | None = None
    # The hired person's graduation year when the producer knows it (K6b §10 毕业年度高校毕业生).
    graduation_year: StrictInt | None = None


class ContractTerminated(EventData):
    person_id: PersonId
    employer_id: EnterpriseId
    on: IsoDate


# --- employment.service -----------------------------------------------------------------------
class InternshipAgreementSigned(EventData):
    person_id: PersonId
    unit_id: Id
    city: City
    starts_on: IsoDate
    months: StrictInt
    cohort: StrictInt


class InternshipInterrupted(EventData):
    person_id: PersonId
    unit_id: Id
    on: IsoDate
    reason: Literal["epidemic", "other"]


class InternshipResumed(EventData):
    person_id: PersonId
    unit_id: Id
    on: IsoDate


class InternshipEnded(EventData):
    person_id: PersonId
    unit_id: Id
    on: IsoDate
    reason: Literal["quit", "dismissed", "other"]


class WelfarePostPlaced(EventData):
    person_id: PersonId
    post_id: Id
    city: City
    kind: Literal["regular", "temporary"]
    months: StrictInt | None = None
    starts_on: IsoDate
    categories: list[PersonCategory] = Field(default_factory=list)


class WelfarePostLeft(EventData):
    person_id: PersonId
    post_id: Id
    on: IsoDate


class ReferralRecorded(EventData):
    person_id: PersonId
    on: IsoDate
    employer_id: EnterpriseId
    outcome: Literal["hired", "declined", "not_hired"]


class FollowupRecorded(EventData):
    person_id: PersonId
    on: IsoDate
    channel: StrictStr


# Who applies for each program: the kind of the `applicant` id, so that its subject form is
# unambiguous (EVENTS.md: "applicant (person_id or enterprise_id)").
APPLICANT_KIND = {
    "flexible_employment_si": "person",
    "hubei_graduate_grant": "person",
    "hiring_epidemic": "enterprise",
    "job_retention": "enterprise",
    "temporary_living_allowance": "person",
    "incubator_provincial": "incubator",
}
# Id fields inside a program's `details`, with their kind (lists are lists of such ids).
DETAIL_ID_KINDS = {"hiring_epidemic": {"enterprise_id": "enterprise", "person_ids": "person"}}
# Year fields a program's `details` must carry (K16's provincial application names its year,
# which picks the year's slots: a wrong type would take a slot of no year).
DETAIL_YEARS = {"incubator_provincial": ("year",)}


class ApplicationSubmitted(EventData):
    program: Literal[
        "flexible_employment_si", "hubei_graduate_grant", "hiring_epidemic", "job_retention",
        "temporary_living_allowance", "incubator_provincial",
    ]
    applicant: Id
    on: IsoDate
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _ids_of_the_program(cls, raw: Any) -> Any:
        """Normalise the applicant and the detail ids by the kind the program gives them, before
        the fields' own checks (which then see bare ids)."""
        if not isinstance(raw, dict) or raw.get("program") not in APPLICANT_KIND:
            return raw
        program = raw["program"]
        out = dict(raw)
        if "applicant" in out:
            out["applicant"] = _named(normalise_id, "applicant", out["applicant"], APPLICANT_KIND[program])
        details = out.get("details")
        if isinstance(details, dict):
            details = dict(details)
            for name, kind in DETAIL_ID_KINDS.get(program, {}).items():
                value = details.get(name)
                if isinstance(value, list):
                    details[name] = [_named(normalise_id, f"details.{name}", v, kind) for v in value]
                elif value is not None:
                    details[name] = _named(normalise_id, f"details.{name}", value, kind)
            for name in DETAIL_YEARS.get(program, ()):
                _named(_year, f"details.{name}", details.get(name), name)
            out["details"] = details
        elif program in DETAIL_YEARS:
            raise ValueError(f"details: expected an object with {', '.join(DETAIL_YEARS[program])}")
        return out


def _year(value: Any, _name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1000 <= value <= 9999:
        raise ValueError("expected a year as a four-digit number")
    return value


_Checked = TypeVar("_Checked")


def _named(check: Callable[[Any, str], _Checked], field: str, value: Any, kind: str) -> _Checked:
    """`check(value, kind)`, its refusal naming the field (a model-level check has no location)."""
    try:
        return check(value, kind)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None


# --- enterprise.hr ----------------------------------------------------------------------------
class LayoffPlanFiled(EventData):
    enterprise_id: EnterpriseId
    city: City
    filed_on: IsoDate
    planned_count: Annotated[StrictInt, Field(ge=0)]
    insured_headcount: Annotated[StrictInt, Field(ge=0)]


class LayoffUnionNotified(EventData):
    enterprise_id: EnterpriseId
    on: IsoDate


class LayoffExecuted(EventData):
    enterprise_id: EnterpriseId
    on: IsoDate
    person_ids: list[PersonId]


class LayoffObligationsSettled(EventData):
    enterprise_id: EnterpriseId
    on: IsoDate


# --- civil.affairs ----------------------------------------------------------------------------
class DibaoGranted(EventData):
    person_id: PersonId
    household_id: Id
    city: City
    monthly_amount: Fen
    from_month: Month


class DibaoEnded(EventData):
    person_id: PersonId
    on: IsoDate


class HouseholdMember(EventData):
    person_id: PersonId
    working_age: StrictBool
    able_to_work: StrictBool
    employed: StrictBool


class HouseholdUpdated(EventData):
    household_id: Id
    members: list[HouseholdMember]
    business_income: StrictBool


# --- policy.events ----------------------------------------------------------------------------
class EpidemicDeclared(EventData):
    on: IsoDate


class EpidemicLifted(EventData):
    on: IsoDate


class PriceLinkageTriggered(EventData):
    city: City
    month: Month
    amount: Fen


class ParameterChanged(EventData):
    city: City | None
    name: Annotated[StrictStr, Field(min_length=1)]
    value: Any
    effective_on: IsoDate


class FundBudgetSet(EventData):
    city: City
    fund: FundName
    year: Year
    amount: Fen


# --- finance.loans (EVENTS.md, added 2026-12-01) ----------------------------------------------
LoanGroup = Literal[
    "registered_unemployed", "graduate", "migrant_worker", "returnee", "veteran", "difficult_to_employ",
    "disabled", "poverty_registered", "platform_worker",
]
# The kind of the `borrower` id for each borrower kind, so that its subject form is unambiguous.
BORROWER_KIND = {"individual": "person", "small_enterprise": "enterprise"}


class LoanGranted(EventData):
    loan_id: Id
    bank_id: BankId
    borrower: Id
    borrower_kind: Literal["individual", "small_enterprise"]
    city: City
    principal: Fen
    rate_bp: Count
    lpr_bp: Count
    granted_on: IsoDate
    term_months: Annotated[StrictInt, Field(ge=1)]
    groups: list[LoanGroup] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _borrower_of_its_kind(cls, raw: Any) -> Any:
        """Normalise the borrower by the kind `borrower_kind` gives it (a person for an
        individual, an enterprise for a small enterprise), as ApplicationSubmitted does its applicant."""
        if not isinstance(raw, dict) or raw.get("borrower_kind") not in BORROWER_KIND or "borrower" not in raw:
            return raw
        kind = BORROWER_KIND[raw["borrower_kind"]]
        return {**raw, "borrower": _named(normalise_id, "borrower", raw["borrower"], kind)}


class LoanInterestCharged(EventData):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    loan_id: Id
    period: Quarter
    from_: IsoDate = Field(alias="from")
    to: IsoDate
    interest: Fen

    @model_validator(mode="after")
    def _to_not_before_from(self) -> "LoanInterestCharged":
        if self.to < self.from_:
            raise ValueError(f"to: {self.to} is before from ({self.from_})")
        return self


class LoanExtended(EventData):
    loan_id: Id
    on: IsoDate
    months: Annotated[StrictInt, Field(ge=1)]
    reason: Literal["epidemic", "other"]


class LoanRepaid(EventData):
    loan_id: Id
    on: IsoDate


class LoanDefaulted(EventData):
    loan_id: Id
    on: IsoDate


# --- employment.service: training and services (EVENTS.md, added 2026-12-01) -----------------
TrainingLevel = Literal["junior", "intermediate", "senior", "special_skill"]
TrainingGroup = Literal[
    "registered_unemployed", "graduate", "migrant_worker", "poverty_registered", "veteran", "disabled",
    "flexible_worker", "employee",
]


class TrainingEnrolled(EventData):
    enrolment_id: Id
    person_id: PersonId
    provider_id: Id
    city: City
    occupation: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    level: TrainingLevel
    mode: Literal["onsite", "online"]
    starts_on: IsoDate
    ends_on: IsoDate
    groups: list[TrainingGroup] = Field(default_factory=list)
    sponsor_enterprise_id: EnterpriseId | None = None
    # The trainee's graduation year when the producer knows it (K14 graduate cohorts, §14).
    graduation_year: Year | None = None

    @model_validator(mode="after")
    def _ends_not_before_start(self) -> "TrainingEnrolled":
        if self.ends_on < self.starts_on:
            raise ValueError(f"ends_on: {self.ends_on} is before starts_on ({self.starts_on})")
        return self


class TrainingCompleted(EventData):
    enrolment_id: Id
    person_id: PersonId
    on: IsoDate
    certificate_level: TrainingLevel | None


class TrainingDropped(EventData):
    enrolment_id: Id
    person_id: PersonId
    on: IsoDate


# Whom each service is for: the field that must name them (K18 counts persons or enterprises).
SERVICE_RECIPIENT = {
    "job_placement": "person_id",
    "career_guidance": "person_id",
    "startup_service": "person_id",
    "enterprise_service": "enterprise_id",
}


class ServiceDelivered(EventData):
    agency_id: AgencyId
    city: City
    on: IsoDate
    service: Literal["job_placement", "career_guidance", "startup_service", "enterprise_service"]
    person_id: PersonId | None = None
    enterprise_id: EnterpriseId | None = None

    @model_validator(mode="after")
    def _names_its_recipient(self) -> "ServiceDelivered":
        field = SERVICE_RECIPIENT[self.service]
        if getattr(self, field) is None:
            raise ValueError(f"{field}: required for the service {self.service}")
        return self


# --- entrepreneurship (EVENTS.md, added 2026-12-01) -------------------------------------------
class IncubatorAccredited(EventData):
    incubator_id: IncubatorId
    city: City
    operator: Literal["government", "private"]
    on: IsoDate


class IncubatorExpensesReported(EventData):
    incubator_id: IncubatorId
    year: Year
    operating: Fen
    public_services: Fen
    on: IsoDate


class IncubatorRentReliefReported(EventData):
    incubator_id: IncubatorId
    month: Month
    tenants: Count
    rent_waived: Fen
    on: IsoDate


# --- payees.accounts / payments.results (EVENTS.md, added 2026-12-01) -------------------------
def _payee(value: Any) -> Any:
    if not isinstance(value, str) or not _SUBJECT_ID.match(value):
        raise ValueError(f"expected a payee as <kind>/<id>, kind one of {', '.join(SUBJECT_ID_KINDS)}")
    return value


# A payee in its subject form (EVENTS.md ledger: person, enterprise, agency, bank or incubator).
Payee = Annotated[StrictStr, BeforeValidator(_payee)]
# docs/SECURITY.md: account numbers and holder names are personal data. repr=False keeps them
# out of every repr (and so out of logs of a model); the refusal messages never quote them.
AccountNumber = Annotated[StrictStr, Field(pattern=r"^[0-9A-Za-z]{4,34}$", repr=False)]
HolderName = Annotated[StrictStr, Field(min_length=1, max_length=200, repr=False)]


class PayeeAccount(EventData):
    """`payee.account_registered` and `payee.account_updated` carry the same fields."""

    payee: Payee
    bank: BankId
    account_number: AccountNumber
    holder_name: HolderName
    on: IsoDate


class PaymentSettled(EventData):
    instruction_id: Id
    on: IsoDate


class PaymentReturned(EventData):
    instruction_id: Id
    on: IsoDate
    reason: Literal["account_closed", "account_frozen", "name_mismatch", "other"]


DATA_MODELS: dict[str, type[EventData]] = {
    "unemployment.registered": UnemploymentRegistered,
    "unemployment.deregistered": UnemploymentDeregistered,
    "employment.registered": EmploymentRegistered,
    "employment.terminated": EmploymentTerminated,
    "enterprise.registered": EnterpriseRegistered,
    "enterprise.closure_reported": EnterpriseClosureReported,
    "contribution.paid": ContributionPaid,
    "insured.enrolled": InsuredEnrolled,
    "insured.left": InsuredLeft,
    "si.fee_exemption": FeeExemption,
    "ui.claim.filed": UiClaimFiled,
    "contract.signed": ContractSigned,
    "contract.terminated": ContractTerminated,
    "internship.agreement_signed": InternshipAgreementSigned,
    "internship.interrupted": InternshipInterrupted,
    "internship.resumed": InternshipResumed,
    "internship.ended": InternshipEnded,
    "welfare_post.placed": WelfarePostPlaced,
    "welfare_post.left": WelfarePostLeft,
    "referral.recorded": ReferralRecorded,
    "followup.recorded": FollowupRecorded,
    "application.submitted": ApplicationSubmitted,
    "layoff.plan_filed": LayoffPlanFiled,
    "layoff.union_notified": LayoffUnionNotified,
    "layoff.executed": LayoffExecuted,
    "layoff.obligations_settled": LayoffObligationsSettled,
    "dibao.granted": DibaoGranted,
    "dibao.ended": DibaoEnded,
    "household.updated": HouseholdUpdated,
    "policy.epidemic.declared": EpidemicDeclared,
    "policy.epidemic.lifted": EpidemicLifted,
    "policy.price_linkage.triggered": PriceLinkageTriggered,
    "policy.parameter.changed": ParameterChanged,
    "fund.budget_set": FundBudgetSet,
    "loan.granted": LoanGranted,
    "loan.interest_charged": LoanInterestCharged,
    "loan.extended": LoanExtended,
    "loan.repaid": LoanRepaid,
    "loan.defaulted": LoanDefaulted,
    "training.enrolled": TrainingEnrolled,
    "training.completed": TrainingCompleted,
    "training.dropped": TrainingDropped,
    "service.delivered": ServiceDelivered,
    "incubator.accredited": IncubatorAccredited,
    "incubator.expenses_reported": IncubatorExpensesReported,
    "incubator.rent_relief_reported": IncubatorRentReliefReported,
    "payee.account_registered": PayeeAccount,
    "payee.account_updated": PayeeAccount,
    "payment.settled": PaymentSettled,
    "payment.returned": PaymentReturned,
}

_SUBJECT = re.compile(rf"^({'|'.join(SUBJECT_ID_KINDS)}|city|province)/{ID_CHARSET}$")


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope whose `data` has been validated against its type."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"]
    # The deduplication key with source: any text (EVENTS.md's id charset is for the ids of
    # persons, enterprises and the like, which end up in workflow ids; this one does not).
    id: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    source: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    type: StrictStr
    subject: Annotated[StrictStr, Field(pattern=_SUBJECT.pattern)]
    time: datetime
    datacontenttype: StrictStr | None = None
    data: dict[str, Any]
    # The CloudEvents distributed-tracing extension (W3C Trace Context): the producer's span, which
    # the intake's span continues (observability/tracing.py). Never a reason to refuse an event: a
    # malformed value is dropped and the intake starts a new trace.
    traceparent: TraceHeader = None
    tracestate: TraceHeader = None

    @property
    def key(self) -> str:
        """`source#id`: the deduplication key as one text, as facts, reports and outcomes name the
        event (CaseEvent.key is the same for a delivered event)."""
        return f"{self.source}#{self.id}"

    def typed(self) -> EventData:
        """The `data` as the model of this event's type (validated when the event was parsed)."""
        return DATA_MODELS[self.type].model_validate(self.data)


class InvalidEvent(Exception):
    """A record that must go to the dead letters; `reason` says why in one line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


MAX_RECORD_BYTES = 1_000_000


def _first_error(err: ValidationError, prefix: str = "") -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    if not where:  # a model-level check names its field first in its message: "<field>: why"
        message = first["msg"].removeprefix("Value error, ")
        field, sep, why = message.partition(": ")
        if sep and _FIELD_PATH.match(field):
            return f"{prefix}{field}: {why}{more}"
        return f"{prefix.rstrip('.')}: {message}{more}"
    return f"{prefix}{where}: {first['msg']}{more}"


_FIELD_PATH = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


# Integers orjson cannot keep exact (beyond signed 64 bits have at least 19 digits): a run of
# 19 ASCII digits, found as a run of 19 zeros once every digit reads "0" — a translate and a
# substring search take an eighth of the time of the regex `\d{19}` on a record (issue 16).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19


def has_long_digit_run(raw: bytes) -> bool:
    """Whether `raw` holds 19 ASCII digits in a row (what the regex `rb"\\d{19}"` finds)."""
    return _LONG_DIGIT_RUN in bytes(raw).translate(_DIGITS_AS_ZERO)


def load_json(raw: bytes) -> Any:
    """The one JSON parse of input bytes (record values, HTTP bodies).

    orjson first: on the firehose it parses a record in a fifth of the standard parser's time
    (docs/BENCHMARKS.md). What orjson refuses goes to `json.loads`, which then decides exactly as
    before: the same reason for a record that is not JSON, and the same document for what only
    the standard parser accepts (NaN, lone surrogate escapes, a byte order mark). orjson reads an
    integer beyond 64 bits as a float where json keeps an int, so a run of 19 digits anywhere
    (in a string too: harmless, only slower) sends the record to json as well."""
    if not has_long_digit_run(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None


def check_size(size: int) -> None:
    if size > MAX_RECORD_BYTES:
        raise InvalidEvent(f"record too large: {size} bytes > {MAX_RECORD_BYTES}")


def parse_event(raw: bytes) -> CloudEvent:
    """Parse one structured-mode event (a Kafka record value, an HTTP body) into a validated
    CloudEvent or raise `InvalidEvent`; contracts/cloudevents_binding.py decodes both modes."""
    check_size(len(raw))
    fast = fast_contribution_bytes(raw)
    return fast if fast is not None else validate_event(load_json(raw))


def validate_event(doc: Any) -> CloudEvent:
    """A decoded CloudEvent document (attributes and `data`) validated against EVENTS.md, or `InvalidEvent`."""
    fast = fast_contribution(doc) if isinstance(doc, dict) and doc.get("type") == FIREHOSE_TYPE else None
    return fast if fast is not None else validate_full(doc)


def validate_full(doc: Any) -> CloudEvent:
    """`validate_event` through the models alone (what decides every document the firehose's
    fast path does not accept, and what the fast path is tested against)."""
    if not isinstance(doc, dict) or "specversion" not in doc:
        raise InvalidEvent("not a CloudEvent: no specversion")
    try:
        envelope = CloudEvent.model_validate(doc)
    except ValidationError as exc:
        raise InvalidEvent(_first_error(exc, "not a valid CloudEvent: ")) from None
    if envelope.time.tzinfo is None:
        raise InvalidEvent("not a valid CloudEvent: time has no UTC offset")
    model = DATA_MODELS.get(envelope.type)
    if model is None:
        raise InvalidEvent(f"unknown type: {envelope.type}")
    try:
        typed = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise InvalidEvent(_first_error(exc, f"invalid data for {envelope.type}: data.")) from None
    # Routes and cases read `data`: give them the normalised ids (`person/P1` → `P1`), keeping
    # the fields the model does not know (EVENTS.md: optional fields may be added).
    normalised = typed.model_dump(mode="json", exclude_unset=True, by_alias=True)
    if normalised.items() <= envelope.data.items():
        return envelope
    return envelope.model_copy(update={"data": {**envelope.data, **normalised}})


# --- the firehose's fast path (issue 16 item 1) ------------------------------------------------
# Nearly every record of a month is a `contribution.paid` nobody has a case for; validating its
# envelope and data through pydantic was a third of the intake's CPU per record. A document of
# the plain shape producers send is checked by msgspec structs instead (parse and checks in C, on
# the record's bytes: `fast_contribution_bytes`; or on a decoded document: `fast_contribution`),
# with patterns as strict as the models' validators or stricter (an id in its bare form only,
# the one RFC 3339 time form producers send); anything else — a field missing, of another type,
# an id in its subject form, a big integer — returns None and takes the full path, which then
# accepts or refuses it exactly as before. So the fast path only ever accepts, and only what the
# full path accepts as the same event (tests/unit/test_firehose_decode.py, over a corpus and
# generated documents).
FIREHOSE_TYPE = "contribution.paid"
_OPTIONAL_ENVELOPE_KEYS = ("datacontenttype", "traceparent", "tracestate")
_ENVELOPE_KEYS = frozenset({"specversion", "id", "source", "type", "subject", "time", "data"})
# Only the one textual form of an event time that producers send (RFC 3339 with an offset);
# pydantic parses more (unix numbers, a space for T, ...), which the full path still takes.
# ASCII digits only (`(?a)`): msgspec compiles the pattern text without flags.
_RFC3339 = r"(?a)\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z"
_MAX_EXACT = 2**63 - 1  # amounts beyond it take the full path (nothing real comes near)
# msgspec's patterns are searched (`re.search`): anchored with \A and \Z, a trailing newline is
# refused as pydantic's patterns refuse it.
_BareId = Annotated[str, msgspec.Meta(pattern=rf"\A{ID_CHARSET}\Z")]
_FenAmount = Annotated[int, msgspec.Meta(ge=0, le=_MAX_EXACT)]


class _PlainContribution(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """A contribution's `data` of the plain shape (the fields `ContributionPaid` reads; others are
    kept in the event's data, unread, as the model keeps them)."""

    person_id: _BareId
    month: Annotated[str, msgspec.Meta(pattern=r"\A" + _MONTH.pattern.strip("^$") + r"\Z")]
    employer_id: _BareId | None = None
    base: _FenAmount
    employer_amount: _FenAmount
    employee_amount: _FenAmount
    insurances: list[Insurance]


class _PlainEnvelope(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    specversion: Literal["1.0"]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    type: Literal["contribution.paid"]
    subject: Annotated[str, msgspec.Meta(pattern=r"\A" + _SUBJECT.pattern.strip("^$") + r"\Z")]
    time: Annotated[str, msgspec.Meta(pattern=_RFC3339)]
    # A JSON null takes the full path (the model's `None` and an absent one differ in fields set).
    datacontenttype: str | msgspec.UnsetType = msgspec.UNSET
    # Any value: the model keeps a plausible trace header and drops the rest (`_trace_header`).
    traceparent: Any = msgspec.UNSET
    tracestate: Any = msgspec.UNSET


class _PlainRecord(_PlainEnvelope, kw_only=True, forbid_unknown_fields=False):
    data: msgspec.Raw  # parsed apart (`load_json`), so fields the structs do not name are kept


class _PlainDocument(_PlainEnvelope, kw_only=True, forbid_unknown_fields=False):
    data: dict[str, Any]


_RECORD_DECODER = msgspec.json.Decoder(_PlainRecord)
# The record's bytes name the type: anything else is not worth a try.
_FIREHOSE_MARK = f'"{FIREHOSE_TYPE}"'.encode()


def fast_contribution_bytes(raw: bytes) -> CloudEvent | None:
    """A structured `contribution.paid` record of the plain shape as the event `parse_event`
    would give, or None when it is anything else (then the full path decides)."""
    if _FIREHOSE_MARK not in raw:
        return None
    try:
        envelope = _RECORD_DECODER.decode(raw)
        data = load_json(bytes(envelope.data))
    except (msgspec.ValidationError, msgspec.DecodeError, InvalidEvent):
        return None
    return _plain_event(envelope, data) if type(data) is dict else None


def fast_contribution(doc: dict[str, Any]) -> CloudEvent | None:
    """A decoded `contribution.paid` document of the plain shape as the event `validate_event`
    would give, or None when it is anything else (then the full path decides)."""
    try:
        envelope = msgspec.convert(doc, _PlainDocument)
    except msgspec.ValidationError:
        return None
    return _plain_event(envelope, envelope.data)


def _plain_event(envelope: _PlainRecord | _PlainDocument, data: dict[str, Any]) -> CloudEvent | None:
    try:
        msgspec.convert(data, _PlainContribution)
        when = datetime.fromisoformat(envelope.time)  # the pattern passes a few impossible dates
    except (msgspec.ValidationError, ValueError):
        return None
    content_type = None if envelope.datacontenttype is msgspec.UNSET else envelope.datacontenttype
    traceparent, tracestate = envelope.traceparent, envelope.tracestate
    fields: dict[str, Any] = {"specversion": "1.0", "id": envelope.id, "source": envelope.source, "type": FIREHOSE_TYPE,
                              "subject": envelope.subject, "time": when, "datacontenttype": content_type,
                              "data": data, "traceparent": None if traceparent is msgspec.UNSET else _trace_header(traceparent),
                              "tracestate": None if tracestate is msgspec.UNSET else _trace_header(tracestate)}
    given = set(_ENVELOPE_KEYS)  # a set, as pydantic keeps it (model_copy updates it)
    given.update(name for name in _OPTIONAL_ENVELOPE_KEYS if getattr(envelope, name) is not msgspec.UNSET)
    return _checked_event(fields, given)


def _checked_event(fields: dict[str, Any], given: set[str]) -> CloudEvent:
    """The event of fields already checked, as `model_validate` leaves it (every field, and the
    given ones as set): `model_construct` costs 5 µs here, more than validating did; this 1 µs.
    The corpus test compares the result with the full path's, fields set included."""
    event = CloudEvent.__new__(CloudEvent)
    object.__setattr__(event, "__dict__", fields)
    object.__setattr__(event, "__pydantic_fields_set__", given)
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event


def city_of_source(source: str) -> str | None:
    """The city a producing system names in its source (`si/2101`, `es/2101-x` is not one), for
    events whose data carries no city; None when the source names none."""
    tail = source.rsplit("/", 1)[-1]
    return tail if len(tail) == 4 and tail.startswith("21") and tail.isdigit() else None
