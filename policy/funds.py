"""The funds a payment can be drawn from (POLICY.md conventions; the names are the contract's,
contracts.events.FUND_NAMES, which a test keeps equal to this enum)."""

from enum import StrEnum


class Fund(StrEnum):
    EMPLOYMENT_SUBSIDY = "employment_subsidy_fund"
    UI = "ui_fund"
    RESTRUCTURING = "restructuring_fund"
    LOCAL = "local_fund"
    DIBAO = "dibao_fund"
    SKILLS_UPGRADING = "skills_upgrading_fund"  # §22 职业技能提升行动专账资金
    INCLUSIVE_FINANCE = "inclusive_finance_fund"  # 普惠金融发展专项资金: guaranteed-loan interest subsidies
