"""The name of every case kind and the format of its case ids, defined once.

A kind's name is its workflow type (`@workflow.defn(name=...)`), its `CaseKind` search attribute,
its route module's `KIND` and what the console and the tests call it: a workflow module and a
route module each say `KIND = kinds.<NAME>`, and tests/unit/test_route_modules.py checks that
every name here has exactly one of each.

A case id is the business key of one case (its workflow id): the route builds it to start the
case, a case builds another kind's to open it (K2 → K3), and tests build it to find the case.
They carry pseudonymous ids and dates only (docs/SECURITY.md). Dates may be given as `date` or
as the ISO text an event carries; both give the same id.
"""

from __future__ import annotations

from datetime import date

INTERNSHIP_SUBSIDY = "internship_subsidy"  # K1
UNEMPLOYMENT_INSURANCE = "unemployment_insurance"  # K2
UNEMPLOYMENT_ASSISTANCE = "unemployment_assistance"  # K3
FLEXIBLE_EMPLOYMENT_SUBSIDY = "flexible_employment_subsidy"  # K4
PUBLIC_WELFARE_POST = "public_welfare_post"  # K5
HIRING_SUBSIDY = "hiring_subsidy"  # K6
JOB_RETENTION_REFUND = "job_retention_refund"  # K7
LAYOFF_PLAN = "layoff_plan"  # K8
UNEMPLOYED_FOLLOWUP = "unemployed_followup"  # K9
DIBAO_TAPER = "dibao_taper"  # K10
HUBEI_GRADUATE_GRANT = "hubei_graduate_grant"  # K11
STARTUP_LOAN_INTEREST = "startup_loan_interest"  # K13
VOCATIONAL_TRAINING_SUBSIDY = "vocational_training_subsidy"  # K14
ENTERPRISE_SI_SUBSIDY = "enterprise_si_subsidy"  # K15
INCUBATOR_SUBSIDY = "incubator_subsidy"  # K16
TEMPORARY_LIVING_ALLOWANCE = "temporary_living_allowance"  # K17
EMPLOYMENT_SERVICE_SUBSIDY = "employment_service_subsidy"  # K18

# K12 (difficult to employ) is no case of its own: a rule the other kinds ask (policy/difficult.py).
ALL: tuple[str, ...] = (
    INTERNSHIP_SUBSIDY,
    UNEMPLOYMENT_INSURANCE,
    UNEMPLOYMENT_ASSISTANCE,
    FLEXIBLE_EMPLOYMENT_SUBSIDY,
    PUBLIC_WELFARE_POST,
    HIRING_SUBSIDY,
    JOB_RETENTION_REFUND,
    LAYOFF_PLAN,
    UNEMPLOYED_FOLLOWUP,
    DIBAO_TAPER,
    HUBEI_GRADUATE_GRANT,
    STARTUP_LOAN_INTEREST,
    VOCATIONAL_TRAINING_SUBSIDY,
    ENTERPRISE_SI_SUBSIDY,
    INCUBATOR_SUBSIDY,
    TEMPORARY_LIVING_ALLOWANCE,
    EMPLOYMENT_SERVICE_SUBSIDY,
)


def _day(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else day


def internship_case_id(person_id: str, unit_id: str, starts_on: date | str) -> str:
    """K1: one case per internship agreement (person, unit, start)."""
    return f"internship/{person_id}/{unit_id}/{_day(starts_on)}"


def unemployment_insurance_case_id(person_id: str, claim_on: date | str) -> str:
    """K2: one case per claim (person, claim date)."""
    return f"ui/{person_id}/{_day(claim_on)}"


def unemployment_assistance_case_id(person_id: str, opens_on: date | str) -> str:
    """K3: opened by the person's K2 case on the day the assistance starts."""
    return f"ua/{person_id}/{_day(opens_on)}"


def flexible_employment_case_id(applicant: str, applied_on: date | str) -> str:
    """K4: one application per person and day."""
    return f"flexible/{applicant}/{_day(applied_on)}"


def welfare_post_case_id(person_id: str, post_id: str, starts_on: date | str) -> str:
    """K5: one placement (person, post, start)."""
    return f"welfare_post/{person_id}/{post_id}/{_day(starts_on)}"


def hiring_case_id(program: str, enterprise_id: str, person_id: str) -> str:
    """K6: one subsidy per (enterprise, person, program), e.g. `hiring/epidemic/E/P` for the
    program `hiring_epidemic`."""
    return f"hiring/{program.removeprefix('hiring_')}/{enterprise_id}/{person_id}"


def hiring_case_parts(case_id: str) -> tuple[str, str, str]:
    """The (program, enterprise, person) a K6 case id was built from (`hiring_case_id` read back)."""
    prefix, program, enterprise_id, person_id = case_id.split("/", 3)
    if prefix != "hiring":
        raise ValueError(f"{case_id!r} is not a {HIRING_SUBSIDY} case id")
    return f"hiring_{program}", enterprise_id, person_id


def job_retention_case_id(enterprise_id: str, year: int) -> str:
    """K7: one refund per enterprise and year (§1; the ledger key is the year)."""
    return f"retention/{enterprise_id}/{year}"


def layoff_plan_case_id(enterprise_id: str, filed_on: date | str) -> str:
    """K8: one plan per enterprise and filing day."""
    return f"layoff/{enterprise_id}/{_day(filed_on)}"


def followup_case_id(person_id: str, registered_on: date | str) -> str:
    """K9: one case per unemployment registration (person, registration date)."""
    return f"followup/{person_id}/{_day(registered_on)}"


def dibao_taper_case_id(person_id: str, from_month: str) -> str:
    """K10: one taper per person and first month (`YYYY-MM`)."""
    return f"dibao/{person_id}/{from_month}"


def hubei_grant_case_id(person_id: str) -> str:
    """K11: per person, not per application (§14 一次性: once per person)."""
    return f"hubei_grant/{person_id}"


def startup_loan_case_id(bank_id: str, loan_id: str) -> str:
    """K13: one case per loan of a bank."""
    return f"loan/{bank_id}/{loan_id}"


def training_case_id(enrolment_id: str) -> str:
    """K14: one case per enrolment."""
    return f"training/{enrolment_id}"


def enterprise_si_case_id(enterprise_id: str, person_id: str, signed_on: date | str) -> str:
    """K15: one subsidy per hire (enterprise, person, contract date)."""
    return f"enterprise_si/{enterprise_id}/{person_id}/{_day(signed_on)}"


def incubator_case_id(incubator_id: str, year: int) -> str:
    """K16: one case per incubator and year."""
    return f"incubator/{incubator_id}/{year}"


def living_allowance_case_id(applicant: str, applied_on: date | str) -> str:
    """K17: one application per person and day (at most one granted a year is the case's rule,
    judged on the person's earlier cases)."""
    return f"tla/{applicant}/{_day(applied_on)}"


def service_subsidy_case_id(agency_id: str, year: int) -> str:
    """K18: one case per agency and year (so the yearly cap is the case's own)."""
    return f"service/{agency_id}/{year}"
