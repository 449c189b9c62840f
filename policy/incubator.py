"""K16 incubator_subsidy (创业孵化载体补贴, §12) as pure rules, one case per incubator and year.

- City support (各市…按其实际支出的基本运营和公共服务等费用的一定比例给予补助):
  floor(`incubator.city_share` × (operating + public_services)) of the year's latest expenses
  report, at most `incubator.city_cap`.
- Provincial special subsidy (每年…给予10家孵化基地每家最高不超过500万元的省级专项补贴): an
  accredited incubator's application is approved or denied by a province supervisor, at most
  `incubator.provincial_slots` approvals a year province-wide (`approval_refusal` judges an
  approval against the year's earlier ones, for the store to apply atomically); an approved
  incubator gets min(`incubator.provincial_cap`, operating + public_services).
- Rent relief (对疫情期间为入驻的企业减免租金的各类创业孵化载体…给予一定数额的补助): for a month
  that overlaps the epidemic period, floor(`incubator.rent_relief_share` × rent waived), from the
  city's `incubator.rent_relief_fund`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.parameters import Parameters
from policy.calendar import add_months, first_of_month, month_end
from policy.corrections import Owed
from policy.funds import Fund

CITY_PROGRAM = "incubator_city"
PROVINCIAL_PROGRAM = "incubator_provincial"
RENT_RELIEF_PROGRAM = "incubator_rent_relief"
FUND = Fund.EMPLOYMENT_SUBSIDY


def payee(incubator_id: str) -> str:
    return f"incubator/{incubator_id}"


def year_start(year: int) -> date:
    """The first day of year Y: the period start whose parameters a year's payments use."""
    return date(year, 1, 1)


@dataclass(frozen=True)
class ExpensesReport:
    """The latest `incubator.expenses_reported` of a year (a later one replaces it)."""

    year: int
    operating: int
    public_services: int

    @property
    def eligible_expenses(self) -> int:
        """基本运营和公共服务等费用: operating plus public services."""
        return self.operating + self.public_services


def city_support(report: ExpensesReport, params: Parameters) -> int:
    """floor(`incubator.city_share` × expenses), at most `incubator.city_cap` (per incubator and year)."""
    on = year_start(report.year)
    share = params.ratio("incubator.city_share", on)
    amount = report.eligible_expenses * share.numerator // share.denominator
    return min(amount, int(params.get("incubator.city_cap", on)))


def application_refusal(accredited_on: date | None, applied_on: date) -> str | None:
    """Only an accredited incubator applies for the provincial subsidy (POLICY.md K16): the
    reason an application is refused when no accreditation dated on or before it is on file."""
    if accredited_on is None or accredited_on > applied_on:
        return f"§12: the incubator is not accredited on {applied_on}"
    return None


def approval_refusal(year: int, approvals_so_far: int, params: Parameters) -> str | None:
    """§12 每年…10家: the reason an approval is refused when the year already has
    `incubator.provincial_slots` approvals province-wide (counted by the store); None while a
    slot is free."""
    slots = int(params.get("incubator.provincial_slots", year_start(year)))
    if approvals_so_far >= slots:
        return f"§12: the {slots} provincial slots of {year} are taken (incubator.provincial_slots)"
    return None


def provincial_subsidy(report: ExpensesReport, params: Parameters) -> int:
    """§12 每家最高不超过500万元, 根据实际支出的基本运营和公共服务等费用: the year's expenses, at
    most `incubator.provincial_cap`."""
    return min(report.eligible_expenses, int(params.get("incubator.provincial_cap", year_start(report.year))))


def overlaps_epidemic(month: str, declared_on: date | None, lifted_on: date | None) -> bool:
    """A month overlaps the epidemic period [S, L] (L unknown: the epidemic goes on)."""
    if declared_on is None:
        return False
    if month_end(month) < declared_on:
        return False
    return lifted_on is None or first_of_month(month) <= lifted_on


def rent_relief(month: str, rent_waived: int, declared_on: date | None, lifted_on: date | None, params: Parameters) -> int:
    """floor(`incubator.rent_relief_share` × rent waived) for a month that overlaps the epidemic
    period, else 0."""
    if not overlaps_epidemic(month, declared_on, lifted_on):
        return 0
    share = params.ratio("incubator.rent_relief_share", first_of_month(month))
    return rent_waived * share.numerator // share.denominator


def rent_relief_fund(month: str, params: Parameters) -> Fund:
    """§12 从就业补助资金或工业企业结构调整专项奖补资金列支: the city's choice."""
    return Fund(params.get("incubator.rent_relief_fund", first_of_month(month)))


def settles_on(year: int, params: Parameters) -> date:
    """The case of year Y closes `settled` `incubator.settle_months` after the year's end."""
    return add_months(year_start(year + 1), int(params.get("incubator.settle_months", year_start(year))))


RULE_CITY = "§12 各市…按其实际支出的基本运营和公共服务等费用的一定比例给予补助: incubator.city_share, at most incubator.city_cap"
RULE_PROVINCIAL = "§12 每年…给予10家孵化基地每家最高不超过500万元的省级专项补贴"
RULE_RENT_RELIEF = "§12 对疫情期间为入驻的企业减免租金的各类创业孵化载体…给予一定数额的补助: incubator.rent_relief_share"
SELECTION_TASK = "provincial_selection"


def incubator_and_year(event_type: str, data: Mapping[str, Any]) -> tuple[str, int]:
    """The (incubator, year) a report or a provincial application is about: its case."""
    if event_type == "incubator.rent_relief_reported":
        return str(data["incubator_id"]), int(str(data["month"])[:4])
    if event_type == "application.submitted":
        return str(data["applicant"]), int(data["details"]["year"])
    return str(data["incubator_id"]), int(data["year"])


def slot_scope(year: int) -> str:
    """The year's provincial approvals, shared province-wide by every incubator's case."""
    return f"incubator_provincial/{year}"


def provincial_slots(year: int, params: Parameters) -> int:
    return int(params.get("incubator.provincial_slots", year_start(year)))


@dataclass(frozen=True)
class RentRelief:
    """An `incubator.rent_relief_reported`: the rent waived in a month, reported on `received`
    (for cases opened under `k16-latest-rent-relief-stands`, the day the month's first report
    arrived, whichever report stands)."""

    month: str
    rent_waived: int
    received: date


def owed(
    incubator_id: str,
    report: tuple[ExpensesReport, date] | None,
    approved_on: date | None,
    reliefs: dict[str, RentRelief],
    declared_on: date | None,
    lifted_on: date | None,
    params: Parameters,
) -> list[Owed]:
    """What the incubator's year owes on the facts known now: the city support of the latest
    expenses report (`report`: the report and the day the first one arrived), the provincial
    subsidy once approved and reported, and the rent relief of each reported month. A later report
    for the year, or a lift date that moves, changes what is owed: the ledger corrects, never edits."""
    rows: list[Owed] = []
    to = payee(incubator_id)
    if report is not None:
        expenses, received = report
        period = str(expenses.year)
        rows.append(Owed(program=CITY_PROGRAM, period=period, amount=city_support(expenses, params), fund=str(FUND),
                         payee=to, due_on=received, rule=RULE_CITY))
        if approved_on is not None:
            rows.append(Owed(program=PROVINCIAL_PROGRAM, period=period, amount=provincial_subsidy(expenses, params),
                             fund=str(FUND), payee=to, due_on=max(received, approved_on), rule=RULE_PROVINCIAL))
    for month, relief in sorted(reliefs.items()):
        rows.append(Owed(program=RENT_RELIEF_PROGRAM, period=month,
                         amount=rent_relief(month, relief.rent_waived, declared_on, lifted_on, params),
                         fund=str(rent_relief_fund(month, params)), payee=to, due_on=relief.received, rule=RULE_RENT_RELIEF))
    return rows
