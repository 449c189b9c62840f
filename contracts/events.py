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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, model_validator

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

# EVENTS.md: ids are opaque tokens of letters, digits, `-` and `_`. A `/` inside an id would let
# one event name another case's workflow id (`internship/<person>/<unit>/<start>`), so the
# charset is the contract, not a style.
ID_CHARSET = r"[A-Za-z0-9_\-]{1,128}"
_ID = re.compile(rf"^{ID_CHARSET}$")
# The kinds of id that also have a subject form (`person/P1`, EVENTS.md envelope and ledger).
SUBJECT_ID_KINDS = ("person", "enterprise", "agency", "bank", "incubator")


def normalise_id(value: Any, kind: str | None = None) -> str:
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
City = Annotated[StrictStr, Field(pattern=r"^21\d{2}$")]


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
class ContributionPaid(EventData):
    person_id: PersonId
    month: Month
    employer_id: EnterpriseId | None = None
    base: Fen
    employer_amount: Fen
    employee_amount: Fen
    insurances: list[Literal["pension", "unemployment", "medical", "injury"]]


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
}
# Id fields inside a program's `details`, with their kind (lists are lists of such ids).
DETAIL_ID_KINDS = {"hiring_epidemic": {"enterprise_id": "enterprise", "person_ids": "person"}}


class ApplicationSubmitted(EventData):
    program: Literal["flexible_employment_si", "hubei_graduate_grant", "hiring_epidemic", "job_retention"]
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
            out["details"] = details
        return out


def _named(check: Any, field: str, value: Any, kind: str) -> str:
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
    if not where:  # a model-level check names its field in the message
        return f"{prefix.rstrip('.')}: {first['msg']}{more}"
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
        typed = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise InvalidEvent(_first_error(exc, f"invalid data for {envelope.type}: data.")) from None
    # Routes and cases read `data`: give them the normalised ids (`person/P1` → `P1`), keeping
    # the fields the model does not know (EVENTS.md: optional fields may be added).
    normalised = typed.model_dump(mode="json", exclude_unset=True)
    if normalised.items() <= envelope.data.items():
        return envelope
    return envelope.model_copy(update={"data": {**envelope.data, **normalised}})


def city_of_source(source: str) -> str | None:
    """The city a producing system names in its source (`si/2101`, `es/2101-x` is not one), for
    events whose data carries no city; None when the source names none."""
    tail = source.rsplit("/", 1)[-1]
    return tail if len(tail) == 4 and tail.startswith("21") and tail.isdigit() else None
