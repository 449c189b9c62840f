"""`contracts.events.parse_event` for the types EVENTS.md added on 2026-12-01 (POLICY.md part 2):
each parses to its typed data, and each bad field is a dead letter whose reason names it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts.events import (
    DATA_MODELS,
    FUND_NAMES,
    InvalidEvent,
    LoanGranted,
    LoanInterestCharged,
    PayeeAccount,
    ServiceDelivered,
    TrainingCompleted,
    parse_event,
)
from contracts.topics import ALL_TOPICS, OUTPUT_TOPICS, PAYMENT_INSTRUCTIONS, TOPIC_OF_TYPE
from policy.funds import Fund
from testkit.events import cloud_event, line

# One valid record per added type: (type, subject, data).
VALID: dict[str, tuple[str, dict[str, Any]]] = {
    "loan.granted": ("person/P1", {
        "loan_id": "L1", "bank_id": "B1", "borrower": "P1", "borrower_kind": "individual", "city": "2101",
        "principal": 10000000, "rate_bp": 485, "lpr_bp": 385, "granted_on": "2020-04-01", "term_months": 24,
        "groups": ["graduate", "platform_worker"],
    }),
    "loan.interest_charged": ("person/P1", {
        "loan_id": "L1", "period": "2020-Q2", "from": "2020-04-01", "to": "2020-06-30", "interest": 121250,
    }),
    "loan.extended": ("person/P1", {"loan_id": "L1", "on": "2020-06-01", "months": 6, "reason": "epidemic"}),
    "loan.repaid": ("person/P1", {"loan_id": "L1", "on": "2021-04-01"}),
    "loan.defaulted": ("person/P1", {"loan_id": "L1", "on": "2021-04-01"}),
    "training.enrolled": ("person/P1", {
        "enrolment_id": "T1", "person_id": "P1", "provider_id": "V1", "city": "2101", "occupation": "4-10-01-01",
        "level": "junior", "mode": "online", "starts_on": "2020-03-01", "ends_on": "2020-05-31",
        "groups": ["registered_unemployed"],
    }),
    "training.completed": ("person/P1", {"enrolment_id": "T1", "person_id": "P1", "on": "2020-06-01", "certificate_level": "junior"}),
    "training.dropped": ("person/P1", {"enrolment_id": "T1", "person_id": "P1", "on": "2020-04-10"}),
    "service.delivered": ("agency/A1", {"agency_id": "A1", "city": "2101", "on": "2020-03-05", "service": "job_placement", "person_id": "P1"}),
    "incubator.accredited": ("incubator/I1", {"incubator_id": "I1", "city": "2101", "operator": "government", "on": "2019-06-01"}),
    "incubator.expenses_reported": ("incubator/I1", {
        "incubator_id": "I1", "year": 2020, "operating": 3000000, "public_services": 1000000, "on": "2021-01-15",
    }),
    "incubator.rent_relief_reported": ("incubator/I1", {
        "incubator_id": "I1", "month": "2020-03", "tenants": 12, "rent_waived": 480000, "on": "2020-04-05",
    }),
    "payee.account_registered": ("bank/B1", {
        "payee": "bank/B1", "bank": "B1", "account_number": "6222020200012345678", "holder_name": "某银行", "on": "2020-04-01",
    }),
    "payee.account_updated": ("incubator/I1", {
        "payee": "incubator/I1", "bank": "B2", "account_number": "6222020200087654321", "holder_name": "孵化基地", "on": "2020-05-01",
    }),
    "payment.settled": ("bank/B1", {"instruction_id": "PI-1", "on": "2020-07-02"}),
    "payment.returned": ("bank/B1", {"instruction_id": "PI-1", "on": "2020-07-02", "reason": "account_frozen"}),
    "fund.budget_set": ("city/2101", {"city": "2101", "fund": "inclusive_finance_fund", "year": 2020, "amount": 500000000}),
}


def record(type_: str, subject: str, data: dict[str, Any]) -> bytes:
    return line(cloud_event(id=f"x-{type_}", source="es/2101", type=type_, subject=subject, on=date(2020, 4, 1), data=data))


def valid(type_: str, **changes: Any) -> bytes:
    subject, data = VALID[type_]
    return record(type_, subject, {**data, **changes})


def without(type_: str, name: str) -> bytes:
    subject, data = VALID[type_]
    return record(type_, subject, {k: v for k, v in data.items() if k != name})


def reason_of(raw: bytes) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    assert "\n" not in caught.value.reason
    return caught.value.reason


# -- every added type ---------------------------------------------------------------------------
@pytest.mark.parametrize("type_", sorted(VALID))
def test_each_added_type_parses_to_its_typed_data(type_: str) -> None:
    event = parse_event(valid(type_))
    assert isinstance(event.typed(), DATA_MODELS[type_])


@pytest.mark.parametrize("type_", sorted(VALID))
def test_each_required_field_missing_is_a_dead_letter_naming_it(type_: str) -> None:
    model = DATA_MODELS[type_]
    required = [f.alias or name for name, f in model.model_fields.items() if f.is_required()]
    assert required
    for name in required:
        reason = reason_of(without(type_, name))
        assert reason.startswith(f"invalid data for {type_}: data.{name}"), reason


@pytest.mark.parametrize("type_", sorted(VALID))
def test_each_added_type_has_its_topic(type_: str) -> None:
    assert type_ in TOPIC_OF_TYPE


def test_the_topics_of_part_2() -> None:
    """EVENTS.md "Added 2026-12-01": the new input topics, and payments.instructions as an output."""
    assert TOPIC_OF_TYPE["loan.granted"] == "finance.loans"
    assert TOPIC_OF_TYPE["incubator.expenses_reported"] == "entrepreneurship"
    assert TOPIC_OF_TYPE["payee.account_updated"] == "payees.accounts"
    assert TOPIC_OF_TYPE["payment.returned"] == "payments.results"
    assert TOPIC_OF_TYPE["training.enrolled"] == TOPIC_OF_TYPE["service.delivered"] == "employment.service"
    assert TOPIC_OF_TYPE["fund.budget_set"] == "policy.events"
    assert PAYMENT_INSTRUCTIONS == "payments.instructions" and PAYMENT_INSTRUCTIONS in OUTPUT_TOPICS
    assert PAYMENT_INSTRUCTIONS in ALL_TOPICS and PAYMENT_INSTRUCTIONS not in TOPIC_OF_TYPE.values()


def test_every_type_of_the_contract_has_a_topic() -> None:
    assert set(DATA_MODELS) == set(TOPIC_OF_TYPE)


def test_the_contract_names_the_funds_of_policy() -> None:
    """POLICY.md conventions: one list of funds, in the contract and as policy's enum."""
    assert set(FUND_NAMES) == {str(f) for f in Fund}


# -- loans --------------------------------------------------------------------------------------
def test_loan_granted_borrower_subject_form_is_normalised_by_borrower_kind() -> None:
    person = parse_event(valid("loan.granted", borrower="person/P1", bank_id="bank/B1"))
    assert (person.data["borrower"], person.data["bank_id"]) == ("P1", "B1")
    enterprise = parse_event(valid("loan.granted", borrower="enterprise/E1", borrower_kind="small_enterprise"))
    assert isinstance(enterprise.typed(), LoanGranted) and enterprise.data["borrower"] == "E1"


def test_loan_granted_borrower_of_the_other_kind_is_refused_with_the_reason() -> None:
    reason = reason_of(valid("loan.granted", borrower="enterprise/E1"))
    assert reason == "invalid data for loan.granted: data.borrower: expected a person id, got the subject form enterprise/…"
    reason = reason_of(valid("loan.granted", borrower="person/P1", borrower_kind="small_enterprise"))
    assert "borrower: expected an enterprise id" in reason


@pytest.mark.parametrize(("name", "value"), [
    ("borrower_kind", "company"), ("principal", -1), ("principal", "10000000"), ("rate_bp", 4.85),
    ("lpr_bp", True), ("granted_on", "2020-4-1"), ("term_months", 0), ("groups", ["astronaut"]), ("city", "1101"),
    ("bank_id", "B 1"), ("loan_id", "L/1"),
])
def test_loan_granted_bad_field_is_a_dead_letter_naming_it(name: str, value: Any) -> None:
    assert reason_of(valid("loan.granted", **{name: value})).startswith(f"invalid data for loan.granted: data.{name}")


def test_interest_period_is_a_quarter_with_its_days_in_order() -> None:
    data = parse_event(valid("loan.interest_charged")).typed()
    assert isinstance(data, LoanInterestCharged)
    assert (data.period, data.from_, data.to, data.interest) == ("2020-Q2", date(2020, 4, 1), date(2020, 6, 30), 121250)
    assert parse_event(valid("loan.interest_charged")).data["from"] == "2020-04-01"


@pytest.mark.parametrize("period", ["2020-Q5", "2020-Q0", "2020Q2", "2020-q2", "2020-06", 20202, ""])
def test_interest_period_that_is_not_a_quarter_is_a_dead_letter(period: Any) -> None:
    reason = reason_of(valid("loan.interest_charged", period=period))
    assert reason.startswith("invalid data for loan.interest_charged: data.period:") and "YYYY-Qn" in reason


def test_interest_period_ending_before_it_starts_is_a_dead_letter() -> None:
    reason = reason_of(valid("loan.interest_charged", to="2020-03-31"))
    assert reason.startswith("invalid data for loan.interest_charged: data.") and "to: 2020-03-31 is before from" in reason


@pytest.mark.parametrize(("name", "value"), [("months", 0), ("months", "6"), ("reason", "holiday"), ("on", "06/01/2020")])
def test_loan_extended_bad_field_is_a_dead_letter_naming_it(name: str, value: Any) -> None:
    assert reason_of(valid("loan.extended", **{name: value})).startswith(f"invalid data for loan.extended: data.{name}")


# -- training and services ----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [
    ("level", "master"), ("mode", "correspondence"), ("groups", ["student"]), ("occupation", ""),
    ("sponsor_enterprise_id", "person/P1"), ("person_id", "enterprise/E1"), ("graduation_year", "2020"),
])
def test_training_enrolled_bad_field_is_a_dead_letter_naming_it(name: str, value: Any) -> None:
    assert reason_of(valid("training.enrolled", **{name: value})).startswith(f"invalid data for training.enrolled: data.{name}")


def test_training_ending_before_it_starts_is_a_dead_letter() -> None:
    assert "ends_on: 2020-02-01 is before starts_on" in reason_of(valid("training.enrolled", ends_on="2020-02-01"))


def test_training_completed_without_a_certificate_is_null_not_absent() -> None:
    data = parse_event(valid("training.completed", certificate_level=None)).typed()
    assert isinstance(data, TrainingCompleted) and data.certificate_level is None
    assert reason_of(valid("training.completed", certificate_level="expert")).startswith(
        "invalid data for training.completed: data.certificate_level"
    )


def test_service_delivered_names_the_person_or_enterprise_it_was_for() -> None:
    ok = parse_event(valid("service.delivered", service="enterprise_service", person_id=None, enterprise_id="enterprise/E1"))
    assert isinstance(ok.typed(), ServiceDelivered) and ok.data["enterprise_id"] == "E1"
    assert "person_id: required for the service career_guidance" in reason_of(
        valid("service.delivered", service="career_guidance", person_id=None)
    )
    assert "enterprise_id: required for the service enterprise_service" in reason_of(
        valid("service.delivered", service="enterprise_service")
    )
    assert reason_of(valid("service.delivered", service="cleaning")).startswith("invalid data for service.delivered: data.service")


# -- incubators ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("type_", "name", "value"), [
    ("incubator.accredited", "operator", "university"),
    ("incubator.accredited", "incubator_id", "person/P1"),
    ("incubator.expenses_reported", "year", "2020"),
    ("incubator.expenses_reported", "year", 20),
    ("incubator.expenses_reported", "operating", -5),
    ("incubator.expenses_reported", "public_services", 1.5),
    ("incubator.rent_relief_reported", "month", "2020-13"),
    ("incubator.rent_relief_reported", "tenants", -1),
    ("incubator.rent_relief_reported", "rent_waived", "480000"),
])
def test_incubator_bad_field_is_a_dead_letter_naming_it(type_: str, name: str, value: Any) -> None:
    assert reason_of(valid(type_, **{name: value})).startswith(f"invalid data for {type_}: data.{name}")


def test_incubator_subject_form_is_normalised() -> None:
    assert parse_event(valid("incubator.accredited", incubator_id="incubator/I1")).data["incubator_id"] == "I1"


# -- payee accounts and payment results ---------------------------------------------------------
@pytest.mark.parametrize("payee", ["bank/B1", "person/P1", "enterprise/E1", "agency/A1", "incubator/I1"])
def test_payee_is_a_subject_of_a_payee_kind(payee: str) -> None:
    assert parse_event(valid("payee.account_registered", payee=payee)).data["payee"] == payee


@pytest.mark.parametrize("payee", ["B1", "city/2101", "bank/B 1", "loan/L1", 7])
def test_payee_that_is_not_a_subject_is_a_dead_letter(payee: Any) -> None:
    assert reason_of(valid("payee.account_registered", payee=payee)).startswith(
        "invalid data for payee.account_registered: data.payee:"
    )


def test_bad_account_number_is_a_dead_letter_that_does_not_quote_it() -> None:
    """docs/SECURITY.md: account numbers are personal data; the reason names the field only."""
    number = "6222-0202-0001-2345"
    reason = reason_of(valid("payee.account_updated", account_number=number))
    assert reason.startswith("invalid data for payee.account_updated: data.account_number:")
    assert number not in reason and "6222" not in reason


def test_account_number_and_holder_name_stay_out_of_the_repr() -> None:
    data = parse_event(valid("payee.account_registered")).typed()
    assert isinstance(data, PayeeAccount)
    assert "6222020200012345678" not in repr(data) and "某银行" not in repr(data)
    assert data.account_number == "6222020200012345678"


@pytest.mark.parametrize(("type_", "name", "value"), [
    ("payment.returned", "reason", "lost"),
    ("payment.settled", "instruction_id", "PI 1"),
    ("payment.settled", "on", "2020-07-32"),
    ("fund.budget_set", "fund", "lottery_fund"),
    ("fund.budget_set", "amount", -1),
    ("fund.budget_set", "year", "2020"),
])
def test_payment_and_budget_bad_field_is_a_dead_letter_naming_it(type_: str, name: str, value: Any) -> None:
    assert reason_of(valid(type_, **{name: value})).startswith(f"invalid data for {type_}: data.{name}")


# -- the new programs of application.submitted ---------------------------------------------------
def application(program: str, applicant: str, details: Any) -> bytes:
    return record("application.submitted", applicant if "/" in applicant else "person/X",
                  {"program": program, "applicant": applicant, "on": "2020-04-01", "details": details})


def test_temporary_living_allowance_applicant_is_a_person() -> None:
    assert parse_event(application("temporary_living_allowance", "person/P1", {})).data["applicant"] == "P1"
    assert "applicant: expected a person id" in reason_of(application("temporary_living_allowance", "enterprise/E1", {}))


def test_incubator_provincial_applicant_is_an_incubator_and_names_its_year() -> None:
    event = parse_event(application("incubator_provincial", "incubator/I1", {"year": 2020}))
    assert (event.data["applicant"], event.data["details"]) == ("I1", {"year": 2020})
    assert "applicant: expected an incubator id" in reason_of(application("incubator_provincial", "person/P1", {"year": 2020}))


@pytest.mark.parametrize("details", [{}, {"year": "2020"}, {"year": True}, {"year": 20}, "2020"])
def test_incubator_provincial_without_a_year_is_a_dead_letter_naming_it(details: Any) -> None:
    reason = reason_of(application("incubator_provincial", "incubator/I1", details))
    assert reason.startswith("invalid data for application.submitted: data") and "details" in reason
