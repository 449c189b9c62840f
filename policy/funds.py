"""The funds a payment can be drawn from (POLICY.md conventions)."""

from enum import StrEnum


class Fund(StrEnum):
    EMPLOYMENT_SUBSIDY = "employment_subsidy_fund"
    UI = "ui_fund"
    RESTRUCTURING = "restructuring_fund"
    LOCAL = "local_fund"
    DIBAO = "dibao_fund"
