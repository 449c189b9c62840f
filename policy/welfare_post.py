"""K5 public_welfare_post (公益性岗位, §17) as pure functions.

A placement pays the post subsidy (岗位补贴) and the social-insurance subsidy (社会保险补贴)
for each completed month. Who may be placed (K12) is `policy.difficult`'s business; the period
arithmetic shared with K4 is `policy.subsidy_period`. What a placement owes on the facts known
now (`owed_by_month`, POLICY.md part 2) is both subsidies of every month completed, or still to
complete, on the post: a month that ends after the person left it or found stable employment is
not owed, so one paid before that was known is overpaid.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date

from contracts.parameters import Parameters
from policy import difficult
from policy.calendar import less_than_years_before
from policy.corrections import Owed
from policy.funds import Fund
from policy.monthly_schedule import month_completed_on, monthly_owed
from policy.subsidy_period import Period, capped_period, standard_period

PARAMETER_PREFIX = "welfare_post"
# Two subsidies, two ledger programs: §17 names 岗位补贴 and 社会保险补贴 as separate subsidies
# with separate amounts, and cities budget and reconcile them separately.
PROGRAM_POST = "welfare_post_subsidy"
PROGRAM_SI = "welfare_post_si_subsidy"
EXTRA_PLACEMENT_TASK = "extra_placement"
# What takes a person off the post before its period ends: leaving it, or stable employment
# (the events a case reads for `off_post`; also the ones a closed case still listening takes).
OFF_POST_EVENTS = ("welfare_post.left", "contract.signed")
RULE_NOT_ON_POST = (
    "§17: only months completed on the post are paid: on the facts known now the person left the post "
    "or was in stable employment before this month ended"
)

# §17: whose renewed placement may still be paid from 就业补助资金.
RENEWAL_FUNDED_CATEGORIES = ("zero_employment_household", "severely_disabled")
NEAR_RETIREMENT = "within_retirement_years"


def temporary_months_valid(months: int | None, params: Parameters, on: date) -> bool:
    """§17 临时性公益性岗位: a temporary post lasts `welfare_post.temporary_months_min`..`max`
    (3..6) months; anything else is bad input."""
    if months is None:
        return False
    return params.integer("welfare_post.temporary_months_min", on) <= months <= params.integer("welfare_post.temporary_months_max", on)


def placement_period(kind: str, months: int | None, starts_on: date, retirement_date: date | None, params: Parameters) -> Period:
    """Regular: `welfare_post.regular_months`, or until retirement when within
    `difficult.retirement_years` of it at the start. Temporary: its agreed months, never past
    retirement."""
    if kind == "temporary":
        if months is None:
            raise ValueError("a temporary post needs its months")
        return capped_period(starts_on, months, retirement_date)
    return standard_period(starts_on, params.get("welfare_post.regular_months", starts_on), retirement_date, params)


def placement_number(earlier_statuses: Iterable[str]) -> int:
    """§17 累计安置次数: this placement's number, counting the person's earlier placements that
    were not rejected (a denied or ineligible placement was never a placement)."""
    return 1 + sum(1 for status in earlier_statuses if status != "rejected")


def needs_approval(number: int, params: Parameters, on: date) -> bool:
    """§17 原则上不超过2次: a placement beyond `welfare_post.max_placements` needs a supervisor."""
    return number > params.integer("welfare_post.max_placements", on)


def placement_limit_rule(params: Parameters, on: date) -> str:
    """The rule text of an extra placement's approval (`welfare_post.max_placements` on `on`)."""
    return f"§17 累计安置次数原则上不超过{params.get('welfare_post.max_placements', on)}次"


def monthly_payments(month_start: date, params: Parameters) -> list[tuple[str, int]]:
    """(program, fen) for one completed month, at the amounts in force on the month's first day."""
    return [
        (PROGRAM_POST, params.get("welfare_post.post_subsidy", month_start)),
        (PROGRAM_SI, params.get("welfare_post.si_subsidy", month_start)),
    ]


def _priced(program: str, params: Parameters) -> Callable[[int, date], int]:
    """`program`'s amount for a month, from (n, first day): the price in force on its first day."""
    return lambda n, begins: dict(monthly_payments(begins, params))[program]


def owed_by_month(
    *, payee: str, fund: str, start: date, months: Iterable[int], params: Parameters, rule: Callable[[int, date], str]
) -> list[Owed]:
    """Both subsidies of each of `months` (month n of a placement starting on `start`), priced on
    the month's first day (so a parameter change effective from a past date changes the months
    since), due when the month is completed; `rule` words the row from (n, first day)."""
    months = list(months)
    return [
        row
        for program in (PROGRAM_POST, PROGRAM_SI)
        for row in monthly_owed(
            program=program, payee=payee, fund=fund, first_day=start, months=months,
            amount=_priced(program, params),
            rule=rule, due_on=lambda n, begins: month_completed_on(start, n),
        )
    ]


@dataclass(frozen=True)
class FundChoice:
    fund: Fund
    reason: str


def placement_fund(number: int, categories: Collection[str], near_retirement: bool) -> FundChoice:
    """§17: the first placement and its extension are paid from 就业补助资金; a renewed placement
    only for zero-employment household members, the severely disabled and those within 5 years
    of retirement, everyone else's from other local money (不允许在就业补助资金中列支)."""
    if number <= 1:
        return FundChoice(Fund.EMPLOYMENT_SUBSIDY, "§17: first placement (and its extension): employment_subsidy_fund")
    held = [c for c in RENEWAL_FUNDED_CATEGORIES if c in categories] + ([NEAR_RETIREMENT] if near_retirement else [])
    if held:
        return FundChoice(
            Fund.EMPLOYMENT_SUBSIDY,
            f"§17: renewed placement (no. {number}) of a person who is {', '.join(held)}: employment_subsidy_fund",
        )
    return FundChoice(
        Fund.LOCAL,
        f"§17: renewed placement (no. {number}), none of {', '.join(RENEWAL_FUNDED_CATEGORIES)}, {NEAR_RETIREMENT}: "
        "not from 就业补助资金 → local_fund",
    )


def fund_categories(profile: difficult.PersonProfile, on: date, params: Parameters, extra: Iterable[str] = ()) -> frozenset[str]:
    """Every category the fund rule looks at: K12's answer (zero-employment household is derived
    there from the household facts), the registered categories (severely_disabled is not a K12
    category of its own) and those stated on the placement."""
    return frozenset(difficult.difficult_categories(profile, on, params)) | frozenset(profile.categories) | frozenset(extra)


def fund_for(number: int, profile: difficult.PersonProfile, on: date, params: Parameters, extra: Iterable[str] = ()) -> FundChoice:
    """The fund of a placement judged on its start date (the day the city decides to place
    again), kept for all its months and its extension."""
    return placement_fund(
        number,
        fund_categories(profile, on, params, extra),
        less_than_retirement_years(profile.retirement_date, on, params),
    )


def less_than_retirement_years(retirement_date: date | None, on: date, params: Parameters) -> bool:
    """§17 距离法定退休年龄不足5年: strictly less than `difficult.retirement_years` years to
    retirement (POLICY.md says "within"; the seed's 不足 wins)."""
    return retirement_date is not None and less_than_years_before(
        retirement_date, on, params.get("difficult.retirement_years", on)
    )
