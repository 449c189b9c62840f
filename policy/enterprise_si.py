"""K15 enterprise_si_subsidy (企业吸纳就业困难人员社会保险补贴, §2) as pure functions.

An enterprise that hires a difficult-to-employ person on a stable contract gets, for each of up
to `enterprise_si.months` counted months, the employer share it actually paid for that person.
Months are calendar months counted from the month the contract starts; a month in which the
enterprise's fees were exempted (`si.fee_exemption`) is not counted, so the period's end moves
later by it (§2 减免期间企业吸纳就业困难人员的社会保险补贴可顺延). What a case owes per month is
`owed_by_month` (policy.contribution_schedule): an exemption reported after the months it covers
were paid makes them not counted (an overpayment) and postpones the period; a case opened before
corrections keeps a month already paid counted (`counted_months(..., paid)`), so the enterprise
never gets more than `enterprise_si.months` paid months either way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, timedelta

from contracts.cases import Fact
from contracts.events import ContractSigned, ContributionPaid
from contracts.parameters import Parameters
from policy import difficult, enterprise_profile
from policy.calendar import add_months, first_of_month, month_of
from policy.contribution_schedule import Report, contribution_owed
from policy.corrections import Owed
from policy.funds import Fund
from policy.subsidy_period import is_stable_contract

PROGRAM = "enterprise_si"
PARAMETER_PREFIX = "enterprise_si"


def is_stable_hire(contract: ContractSigned, params: Parameters) -> bool:
    """POLICY.md K15: a contract of ≥ `enterprise_si.stable_contract_months` months or open-ended."""
    return is_stable_contract(contract.term_months, contract.signed_on, params, PARAMETER_PREFIX)


def judged_on(contract: ContractSigned) -> date:
    """The day K12 is judged: the day before signing (the person was still unemployed then)."""
    return contract.signed_on - timedelta(days=1)


def registered_before_signing(person_id: str, facts: list[Fact], contract: ContractSigned) -> bool:
    """Whether the person was registered unemployed on the day before the contract was signed."""
    return difficult.profile_from_facts(person_id, facts, judged_on(contract)).registered_on is not None


def counted_months(start: date, months: int, exempt: Collection[str], paid: Collection[str] = ()) -> list[str]:
    """The first `months` counted months from the month of `start`, skipping exempted months
    that were not already paid ("YYYY-MM", in order)."""
    counted: list[str] = []
    day = start.replace(day=1)
    while len(counted) < months:
        month = month_of(day)
        if month in paid or month not in exempt:
            counted.append(month)
        day = add_months(day, 1)
    return counted


def skipped_months(start: date, counted: list[str]) -> list[str]:
    """The exempted months between the first and the last counted month (the postponement)."""
    if not counted:
        return []
    skipped: list[str] = []
    day = start.replace(day=1)
    last = first_of_month(counted[-1])
    while day <= last:
        if month_of(day) not in counted:
            skipped.append(month_of(day))
        day = add_months(day, 1)
    return skipped


def payable_months(counted: list[str], separated_on: date | None) -> list[str]:
    """Counted months up to the month of the separation (months after it are not paid)."""
    if separated_on is None:
        return list(counted)
    return [m for m in counted if m <= month_of(separated_on)]


def closing_day(last_payable: str, params: Parameters) -> date:
    """The day after the wait for the last payable month's contribution: the first day after the
    month plus `enterprise_si.settle_months` months."""
    first = first_of_month(last_payable)
    return add_months(first, 1 + params.get("enterprise_si.settle_months", first))


def is_employer_contribution(contribution: ContributionPaid, enterprise_id: str, person_id: str) -> bool:
    """The enterprise's contribution for the hired person."""
    return contribution.employer_id == enterprise_id and contribution.person_id == person_id


def employer_share(contribution: ContributionPaid) -> int:
    """§2 (national): the employer share actually paid for the person (employee share excluded)."""
    return contribution.employer_amount


def due_on(month: str, received: date) -> date:
    """A month is paid once its contribution was received and the month has begun."""
    return max(received, first_of_month(month))


RULE_EXEMPTED = "§2 减免期间…社会保险补贴可顺延: a month of fee exemption is not counted (the period is postponed by it)"
RULE_SEPARATED = "§2: no subsidy for a month after the month of the separation"


def share_rule(contract: ContractSigned, month: str, amount: int, n: int) -> str:
    """The rule of one counted month's subsidy, in words (the ledger row shows it)."""
    return f"§2: employer share {amount} fen paid by {contract.employer_id} for {contract.person_id} in {month} (counted month {n})"


def owed_by_month(
    *, contract: ContractSigned, counted: list[str], exempt: Collection[str], reports: Mapping[str, Report],
    separated_on: date | None,
) -> list[Owed]:
    """What a K15 case owes for each month with the employer's contribution known: the employer
    share for a counted month up to the month of the separation; nothing for an exempted month or
    a month after the separation (one already paid is overpaid)."""
    position = {month: n for n, month in enumerate(counted, start=1)}
    return contribution_owed(
        program=PROGRAM, payee=f"enterprise/{contract.employer_id}", fund=str(Fund.EMPLOYMENT_SUBSIDY), months=counted,
        reports=reports, stops_on=separated_on + timedelta(days=1) if separated_on is not None else None, not_before=None,
        amount=lambda month, r: r.amount,
        rule=lambda month, r: share_rule(contract, month, r.amount, position[month]),
        stopped_rule=RULE_SEPARATED,
        excluded={month: RULE_EXEMPTED for month in exempt},
    )


def exemption_cause(enterprise_id: str, facts: Iterable[Fact], months: Collection[str]) -> str | None:
    """The event (`source#id`) of the latest fee exemption of the enterprise covering any of `months`."""
    covering = [
        f for f in facts
        if f.type == enterprise_profile.FEE_EXEMPTION and f.payload.get("enterprise_id") == enterprise_id
        and set(enterprise_profile.months_between(f.payload["from_month"], f.payload["to_month"])) & set(months)
    ]
    return max(covering, key=lambda f: (f.event_time, f.event_key)).event_key if covering else None
