"""The name of every case kind, defined once: its workflow type (`@workflow.defn(name=...)`), its
`CaseKind` search attribute, its route module's `KIND` and what the console and the tests call it.
A workflow module and a route module each say `KIND = kinds.<NAME>`; tests/unit/test_route_modules.py
checks that every name here has exactly one of each.
"""

from __future__ import annotations

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
