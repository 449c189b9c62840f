"""K2 unemployment_insurance (失业保险金) and K3 unemployment_assistance (失业补助金), §18, as
pure functions of dates, facts and parameters.

Benefit month n of a claim filed on day C is [C + (n-1) months, C + n months) and is paid at its
start (POLICY.md conventions). Every amount is read from `Parameters` on the date the month
starts, so a parameter change applies to the months that start on or after its effective date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

from contracts.parameters import Parameters
from policy.calendar import add_months, first_of_month, less_than_years_before, month_of
from policy.corrections import Owed
from policy.funds import Fund
from policy.monthly_schedule import month_start, monthly_owed

# Ledger programs: the benefit and its epidemic uplift are separate rows, so an uplift owed after
# a late or corrected lift date can be paid for a month whose benefit was paid already.
PROGRAM_BENEFIT = "unemployment_insurance"
PROGRAM_UPLIFT = "epidemic_uplift"
PROGRAM_PRICE_LINKAGE = "price_linkage"
PROGRAM_ASSISTANCE = "unemployment_assistance"

REEMPLOYMENT_TYPES = ("employment.registered", "contract.signed", "contribution.paid")


# -- K2 eligibility and entitlement -----------------------------------------------------------
def months_by_contribution(insured_months: int, params: Parameters, on: date) -> int:
    """失业保险条例 §17 via `ui.months_by_contribution`: 12–59 insured months → 12, 60–119 → 18,
    ≥ 120 → 24; fewer than the first step → 0 (not eligible)."""
    entitled = 0
    for from_months, months in sorted(params.get("ui.months_by_contribution", on)):
        if insured_months >= from_months:
            entitled = months
    return entitled


def is_insured(insured_months: int) -> bool:
    """参保: a claimant with any insured months. §18 gives 失业补助金 to insured unemployed
    people who do not qualify for 失业保险金; someone never insured gets neither."""
    return insured_months > 0


def eligible(insured_months: int, involuntary: bool, params: Parameters, on: date) -> bool:
    """POLICY.md K2: eligible if insured long enough for an entitlement (≥ 12 months) and the
    separation was involuntary (非因本人意愿中断就业)."""
    return involuntary and months_by_contribution(insured_months, params, on) > 0


def unused_months_of_previous(previous: Sequence[Mapping[str, Any]]) -> int:
    """Months left unused by the person's previous K2 case (the latest closed one).

    `previous` are the read-model summaries of earlier K2 cases, oldest first; a case writes its
    `unused_months` in its summary (a re-employed case keeps what it did not draw, an exhausted
    one has none left)."""
    if not previous:
        return 0
    return max(0, int(previous[-1].get("unused_months") or 0))


def entitlement_months(insured_months: int, carried_over: int, params: Parameters, on: date) -> int:
    """Months by contribution plus the previous claim's unused months, capped at
    `ui.carry_over_cap_months` (合并计算，最长不超过24个月)."""
    total = months_by_contribution(insured_months, params, on) + carried_over
    return min(total, params.integer("ui.carry_over_cap_months", on))


def payable(n: int, claim_on: date, retirement_date: date, reemployed_on: date | None, entitlement: int,
            continuation: bool) -> bool:
    """Whether benefit month n is paid on the facts known: it starts before retirement, on or
    before any re-employment, and within the entitlement (or the continuation to retirement)."""
    start = month_start(claim_on, n)
    return (
        before_retirement(start, retirement_date)
        and month_paid_before_stop(start, reemployed_on)
        and (n <= entitlement or continuation)
    )


def months_due(today: date, claim_on: date, retirement_date: date, reemployed_on: date | None, entitlement: int,
               continuation: bool) -> list[int]:
    """The benefit months paid on the facts known that started by `today` (each condition of
    `payable` only ever stops later months, so the first one not paid ends the list)."""
    months: list[int] = []
    n = 1
    while month_start(claim_on, n) <= today and payable(n, claim_on, retirement_date, reemployed_on,
                                                                entitlement, continuation):
        months.append(n)
        n += 1
    return months


def owed_by_month(*, payee: str, claim_on: date, months: list[int], entitlement: int, params: Parameters,
                  declared_on: date | None, lifted_on: date | None, benefit_rule: str, continuation_rule: str,
                  uplift_rule: str) -> list[Owed]:
    """What a K2 claim owes for its benefit months `months` (see `months_due`): the benefit of
    each, and its epidemic uplift (0 for a month outside [S, L + 3 months), so an uplift paid
    for it is an overpayment under the uplift's rule). Amounts are read on each month's start,
    so a parameter change effective from a past date changes the months since."""
    fund = str(Fund.UI)
    benefit = monthly_owed(
        program=PROGRAM_BENEFIT, payee=payee, fund=fund, first_day=claim_on, months=months,
        amount=lambda n, start: monthly_benefit(start, params),
        rule=lambda n, start: benefit_rule if n <= entitlement else continuation_rule,
    )
    uplift = monthly_owed(
        program=PROGRAM_UPLIFT, payee=payee, fund=fund, first_day=claim_on, months=months,
        amount=lambda n, start: epidemic_uplift(start, params) if uplift_applies(start, declared_on, lifted_on, params) else 0,
        rule=lambda n, start: uplift_rule,
    )
    return benefit + uplift


def entitlement_end(claim_on: date, months: int) -> date:
    """The day after the last entitlement month: the claim date plus the entitlement."""
    return add_months(claim_on, months)


# -- K2 amounts -------------------------------------------------------------------------------
def uplift_until(lifted_on: date | None, params: Parameters) -> date | None:
    """L + 3 months (§18 至疫情解除后3个月), the first month start without uplift; None while L is
    unknown."""
    if lifted_on is None:
        return None
    return add_months(lifted_on, params.get("ui.uplift_months_after_lift", lifted_on))


def uplift_applies(month_start: date, declared_on: date | None, lifted_on: date | None, params: Parameters) -> bool:
    """§18 临时性提高发放标准: a benefit month starting on or after S and before L + 3 months.

    No declared epidemic (S unknown) means no epidemic period, so no uplift; while L is unknown
    the period is still running and the uplift applies (POLICY.md K2)."""
    if declared_on is None or month_start < declared_on:
        return False
    until = uplift_until(lifted_on, params)
    return until is None or month_start < until


def monthly_benefit(month_start: date, params: Parameters) -> int:
    """`ui.monthly_benefit` in force on the day the month starts."""
    return int(params.get("ui.monthly_benefit", month_start))


def epidemic_uplift(month_start: date, params: Parameters) -> int:
    """`ui.epidemic_uplift` in force on the day the month starts."""
    return int(params.get("ui.epidemic_uplift", month_start))


@dataclass(frozen=True)
class PriceLinkage:
    """§18 价格临时补贴 for a city's calendar month, triggered on `triggered_on`."""

    month: str
    amount: int
    triggered_on: date


def linked_benefit_month(claim_on: date, month: str, last_month: int) -> int | None:
    """The benefit month (1..last_month) that starts in calendar `month`, or None.

    "Paying benefit in that month" is read as: a benefit payment falls due in that calendar
    month. Month starts are the claim day in successive calendar months, so at most one benefit
    month starts in any calendar month, and the linkage is paid at most once."""
    first = first_of_month(month)
    n = (first.year - claim_on.year) * 12 + (first.month - claim_on.month) + 1
    if 1 <= n <= last_month and month_of(month_start(claim_on, n)) == month:
        return n
    return None


LINKAGE_PERIOD_PREFIX = "price-linkage-"


def price_linkage_period(month: str) -> str:
    """The ledger period of a price-linkage payment (one per case per linked month)."""
    return f"{LINKAGE_PERIOD_PREFIX}{month}"


def price_linkage_month(period: str) -> str:
    """The calendar month of the price-linkage ledger period `period`."""
    return period.removeprefix(LINKAGE_PERIOD_PREFIX)


def months_started(today: date, claim_on: date) -> int:
    """How many benefit months of the claim have started by `today`, paid or not."""
    n = 0
    while month_start(claim_on, n + 1) <= today:
        n += 1
    return n


def linkage_owed(*, payee: str, claim_on: date, today: date, months: list[int], linkages: Sequence[PriceLinkage],
                 rule: str, not_owed_rule: str) -> list[Owed]:
    """What a K2 claim owes for the price linkages it knows (§18 价格联动, once per case for a
    calendar month in which it pays benefit), as facts like the benefit months `months` (see
    `months_due`):

    - a linkage whose calendar month has a benefit month starting in it that is paid on the facts
      known now is owed its amount, due when that month starts or, if triggered later, the day it
      was triggered: a linkage learnt for a month paid already is that period's first payment,
      not arrears, due the day it is learnt (no linkage row existed to correct);
    - one whose benefit month has started but is not paid on the facts known now (a backdated
      re-employment, retirement, the end of entitlement) is owed nothing, under `not_owed_rule`,
      so a linkage paid for it becomes an overpayment caused by the fact that removed the month;
    - one for a calendar month of no benefit month of the claim, or not started yet, owes nothing
      and names no period (a later reconciliation pays it when its month starts)."""
    paid = set(months)
    owed: list[Owed] = []
    started = months_started(today, claim_on)
    for linkage in sorted(linkages, key=lambda x: x.month):
        n = linked_benefit_month(claim_on, linkage.month, started)
        if n is None:
            continue
        start = month_start(claim_on, n)
        if n in paid:
            owed.append(Owed(PROGRAM_PRICE_LINKAGE, price_linkage_period(linkage.month), linkage.amount, str(Fund.UI),
                             payee, max(start, linkage.triggered_on), rule))
        else:
            owed.append(Owed(PROGRAM_PRICE_LINKAGE, price_linkage_period(linkage.month), 0, str(Fund.UI), payee, start,
                             not_owed_rule))
    return owed


# -- re-employment ----------------------------------------------------------------------------
def reemployment_date(event_type: str, data: Mapping[str, Any], since: date) -> date | None:
    """The day a person counts as re-employed according to one input event, or None if the
    event is no sign of re-employment after `since` (the claim date, or the day a K3 case opened).

    - `employment.registered`: its `on` date.
    - `contract.signed`: the earlier of signing and start (a backdated start means work began
      then; a contract signed for a later start already commits the person to the job).
    - `contribution.paid` by an employer for a month after the month of `since`: the first day
      of that month (the month of `since` itself is still paid by the employer the person left).
      A contribution without an employer is flexible employment's own and says nothing here.
    Signals dated before `since` are about the job the person left and are ignored.
    """
    found: date | None = None
    if event_type == "employment.registered":
        found = date.fromisoformat(data["on"])
    elif event_type == "contract.signed":
        found = min(date.fromisoformat(data["signed_on"]), date.fromisoformat(data["starts_on"]))
    elif event_type == "contribution.paid":
        if data.get("employer_id") and contribution_after(data["month"], since):
            found = first_of_month(data["month"])
    if found is None or found < since:
        return None
    return found


def contribution_after(month: str, since: date) -> bool:
    """An employer's contribution for a calendar month after the month of `since`."""
    return month > month_of(since)


def month_paid_before_stop(month_start: date, reemployed_on: date | None) -> bool:
    """Re-employment stops payment from the next month: the month in which the person is
    re-employed (its start on or before that day) is still paid, later ones are not."""
    return reemployed_on is None or month_start <= reemployed_on


# -- K2 end of entitlement ----------------------------------------------------------------------
def continues_to_retirement(retirement_date: date, entitlement_ends: date, params: Parameters) -> bool:
    """§18 距离法定退休年龄不足1年的，可继续领取失业保险金直至法定退休年龄: judged on the day
    entitlement ends, `retirement_date - that day < ui.retirement_continuation_years`.

    POLICY.md writes `<=`; the seed's 不足 is strictly less, and the seed wins."""
    return less_than_years_before(retirement_date, entitlement_ends, params.get("ui.retirement_continuation_years", entitlement_ends))


def before_retirement(month_start: date, retirement_date: date) -> bool:
    """Benefit is paid up to the month retirement falls in: a month that starts before the
    retirement date is paid, one starting on or after it is not (the person draws a pension)."""
    return month_start < retirement_date


# -- K3 -----------------------------------------------------------------------------------------
def assistance_window_open(opens_on: date, params: Parameters) -> bool:
    """A K3 case is not opened after `ua.window_until` (judged on the day it would open)."""
    return opens_on <= params.day("ua.window_until", opens_on)


def assistance_months(params: Parameters, opens_on: date) -> int:
    """`ua.months` in force on the day the assistance period starts."""
    return int(params.get("ua.months", opens_on))


def assistance_months_due(today: date, opened_on: date, months: int, reemployed_on: date | None) -> list[int]:
    """The assistance months (1..`months`) owed on the facts known that started by `today`: those
    starting on or before any re-employment (it stops payment from the next month)."""
    return [
        n for n in range(1, months + 1)
        if month_start(opened_on, n) <= today and month_paid_before_stop(month_start(opened_on, n), reemployed_on)
    ]


def assistance_owed(*, payee: str, opened_on: date, months: list[int], params: Parameters, rule: str) -> list[Owed]:
    """What a K3 case owes for its assistance months `months` (see `assistance_months_due`):
    `assistance_amount` read on each month's start, so a backdated change of `ua.ratio` or
    `ui.monthly_benefit` changes the months since its effective date."""
    return monthly_owed(
        program=PROGRAM_ASSISTANCE, payee=payee, fund=str(Fund.UI), first_day=opened_on, months=months,
        amount=lambda n, start: assistance_amount(start, params), rule=lambda n, start: rule,
    )


def assistance_amount(month_start: date, params: Parameters) -> int:
    """`ua.ratio` × `ui.monthly_benefit` in force on the month's start, rounded down to the fen."""
    ratio = params.ratio("ua.ratio", month_start)
    benefit = monthly_benefit(month_start, params)
    return benefit * ratio.numerator // ratio.denominator
