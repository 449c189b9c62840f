"""The event contract of EVENTS.md as typed, validated models.

Parsing is strict where producers could be wrong in ways that would change money: numbers must
be JSON numbers (not strings), dates must be `YYYY-MM-DD`, months `YYYY-MM`, money non-negative.
Unknown extra fields are accepted (EVENTS.md: adding optional fields is not a breaking change).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


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


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Month = Annotated[str, BeforeValidator(_iso_month)]
Fen = Annotated[StrictInt, Field(ge=0)]
Id = Annotated[StrictStr, Field(min_length=1, max_length=128)]
City = Annotated[StrictStr, Field(pattern=r"^21\d{2}$")]


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
    person_id: Id
    city: City
    registered_on: IsoDate
    birth_date: IsoDate
    retirement_date: IsoDate
    willing_training: StrictBool | None = None
    categories: list[PersonCategory] = Field(default_factory=list)


class UnemploymentDeregistered(EventData):
    person_id: Id
    on: IsoDate
    reason: Literal["employed", "retired", "moved", "other"]


# --- registration.employment ------------------------------------------------------------------
class EmploymentRegistered(EventData):
    person_id: Id
    city: City
    on: IsoDate
    kind: Literal["employee", "flexible", "self_employed"]
    employer_id: Id | None = None


class EmploymentTerminated(EventData):
    person_id: Id
    on: IsoDate
    employer_id: Id | None = None


# --- registration.enterprise ------------------------------------------------------------------
class EnterpriseRegistered(EventData):
    enterprise_id: Id
    city: City
    industry: Annotated[StrictStr, Field(pattern=r"^[a-z_]+$")]
    size: Literal["micro", "small", "medium", "large"]
    epidemic_supplies: StrictBool | None = None


class EnterpriseClosureReported(EventData):
    enterprise_id: Id
    city: City
    on: IsoDate
    kind: Literal["shutdown", "suspension", "merger", "conversion"]
    affected_persons: Annotated[StrictInt, Field(ge=0)] | None = None


# --- si.contributions / si.enrollment / si.benefits -------------------------------------------
class ContributionPaid(EventData):
    person_id: Id
    month: Month
    employer_id: Id | None = None
    base: Fen
    employer_amount: Fen
    employee_amount: Fen
    insurances: list[Literal["pension", "unemployment", "medical", "injury"]]


class InsuredEnrolled(EventData):
    person_id: Id
    employer_id: Id
    on: IsoDate


class InsuredLeft(EventData):
    person_id: Id
    employer_id: Id
    on: IsoDate
    reason: Literal["layoff", "resignation", "contract_end", "retirement", "other"]


class FeeExemption(EventData):
    enterprise_id: Id
    from_month: Month
    to_month: Month


class UiClaimFiled(EventData):
    person_id: Id
    city: City
    claim_on: IsoDate
    insured_months: Annotated[StrictInt, Field(ge=0)]
    involuntary: StrictBool
    retirement_date: IsoDate


# --- labor.contracts --------------------------------------------------------------------------
class ContractSigned(EventData):
    person_id: Id
    employer_id: Id
    signed_on: IsoDate
    starts_on: IsoDate
    term_months: Annotated[StrictInt, Field(ge=1)] | None
    referred_by_agency: Id | None = None
    # The hired person's graduation year when the producer knows it (K6b §10 毕业年度高校毕业生).
    graduation_year: StrictInt | None = None


class ContractTerminated(EventData):
    person_id: Id
    employer_id: Id
    on: IsoDate


# --- employment.service -----------------------------------------------------------------------
class InternshipAgreementSigned(EventData):
    person_id: Id
    unit_id: Id
    city: City
    starts_on: IsoDate
    months: StrictInt
    cohort: StrictInt


class InternshipInterrupted(EventData):
    person_id: Id
    unit_id: Id
    on: IsoDate
    reason: Literal["epidemic", "other"]


class InternshipResumed(EventData):
    person_id: Id
    unit_id: Id
    on: IsoDate


class InternshipEnded(EventData):
    person_id: Id
    unit_id: Id
    on: IsoDate
    reason: Literal["quit", "dismissed", "other"]


class WelfarePostPlaced(EventData):
    person_id: Id
    post_id: Id
    city: City
    kind: Literal["regular", "temporary"]
    months: StrictInt | None = None
    starts_on: IsoDate
    categories: list[PersonCategory] = Field(default_factory=list)


class WelfarePostLeft(EventData):
    person_id: Id
    post_id: Id
    on: IsoDate


class ReferralRecorded(EventData):
    person_id: Id
    on: IsoDate
    employer_id: Id
    outcome: Literal["hired", "declined", "not_hired"]


class FollowupRecorded(EventData):
    person_id: Id
    on: IsoDate
    channel: StrictStr


class ApplicationSubmitted(EventData):
    program: Literal["flexible_employment_si", "hubei_graduate_grant", "hiring_epidemic", "job_retention"]
    applicant: Id
    on: IsoDate
    details: dict[str, Any] = Field(default_factory=dict)


# --- enterprise.hr ----------------------------------------------------------------------------
class LayoffPlanFiled(EventData):
    enterprise_id: Id
    city: City
    filed_on: IsoDate
    planned_count: Annotated[StrictInt, Field(ge=0)]
    insured_headcount: Annotated[StrictInt, Field(ge=0)]


class LayoffUnionNotified(EventData):
    enterprise_id: Id
    on: IsoDate


class LayoffExecuted(EventData):
    enterprise_id: Id
    on: IsoDate
    person_ids: list[Id]


class LayoffObligationsSettled(EventData):
    enterprise_id: Id
    on: IsoDate


# --- civil.affairs ----------------------------------------------------------------------------
class DibaoGranted(EventData):
    person_id: Id
    household_id: Id
    city: City
    monthly_amount: Fen
    from_month: Month


class DibaoEnded(EventData):
    person_id: Id
    on: IsoDate


class HouseholdMember(EventData):
    person_id: Id
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
}

_SUBJECT = re.compile(r"^(person|enterprise|agency|city|province)/[A-Za-z0-9_.\-]{1,128}$")


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope whose `data` has been validated against its type."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"]
    id: Id
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
    return f"{prefix}{where}: {first['msg']}{more}"


def parse_event(raw: bytes) -> CloudEvent:
    """Parse one Kafka record value into a validated CloudEvent or raise `InvalidEvent`."""
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidEvent(f"record too large: {len(raw)} bytes > {MAX_RECORD_BYTES}")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
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
        model.model_validate(envelope.data)
    except ValidationError as exc:
        raise InvalidEvent(_first_error(exc, f"invalid data for {envelope.type}: data.")) from None
    return envelope


def city_of_source(source: str) -> str | None:
    """The city a producing system names in its source (`si/2101`, `es/2101-x` is not one), for
    events whose data carries no city; None when the source names none."""
    tail = source.rsplit("/", 1)[-1]
    return tail if len(tail) == 4 and tail.startswith("21") and tail.isdigit() else None
