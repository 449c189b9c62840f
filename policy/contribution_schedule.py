"""What a contribution-driven subsidy owes per month (K4 flexible employment §13/§16, K15 an
enterprise's hire §2), as `Owed` rows for `policy.corrections.reconcile`.

The subsidy of a period month is a function of the contribution known for that month (the report
that stands, `Report`), of the period (the kind gives its months in order: K4 its period and
extension, K15 its counted months postponed by fee exemptions) and of the day the subsidy stopped
(stable employment, a separation). A month is owed once a contribution is known for it, the month
has begun and the case may pay (never before `not_before`); its ledger period is the month itself
("YYYY-MM"), the period both kinds have always written, so a schedule reconciles against the rows
they paid before it existed.

A month with a contribution known that is not owed any more — one after the subsidy stopped, one
the kind excludes (a fee-exempted month) — is stated with amount 0 and the reason, so one already
paid becomes an overpayment that names why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from policy.calendar import business_date, first_of_month
from policy.corrections import LedgerEntry, Owed, replaces, worth


@dataclass(frozen=True)
class Report:
    """The contribution report that stands for one month.

    `amount`: the fen the subsidy is computed from (K4 all the person paid, K15 the employer
    share); `received_on`: the business day the month was first reported (it cannot fall due
    before); `at` / `event`: the business time and `source#id` of the report that stands (None:
    carried from before reports were compared)."""

    amount: int
    received_on: date
    at: datetime | None = None
    event: str | None = None


def take_report(known: Report | None, amount: int, at: datetime, event: str) -> Report:
    """A report for a month already reported replaces the one that stood if it is later in
    business time (POLICY.md part 2: a corrected report replaces an earlier one); the later of two
    reports stands whatever order they are delivered in (`policy.corrections.replaces`). The month
    keeps the day it was first reported."""
    if known is None:
        return Report(amount, business_date(at), at, event)
    received_on = min(known.received_on, business_date(at))
    if known.at is not None and not replaces(at, event, known.at, known.event or ""):
        return Report(known.amount, received_on, known.at, known.event)
    return Report(amount, received_on, at, event)


def contribution_owed(
    *,
    program: str,
    payee: str,
    fund: str,
    months: Sequence[str],
    reports: Mapping[str, Report],
    stops_on: date | None,
    not_before: date | None,
    amount: Callable[[str, Report], int],
    rule: Callable[[str, Report], str],
    stopped_rule: str,
    excluded: Mapping[str, str] | None = None,
) -> list[Owed]:
    """What a contribution-driven subsidy owes, one row per month with a report.

    `months`: the period months in order; a month among them with a report that began before
    `stops_on` (the first day the subsidy no longer runs; None: it runs on) is owed
    `amount(month, report)` under `rule(month, report)`, due on the latest of the day it was first
    reported, the month's first day and `not_before`. A reported period month that began on or
    after `stops_on` is owed 0 under `stopped_rule`; a reported month in `excluded` (month →
    reason) is owed 0 under its reason. Reported months neither in `months` nor `excluded` (before
    the period, after its end) are not the subsidy's."""
    excluded = excluded or {}
    rows: list[Owed] = []

    def row(month: str, report: Report, fen: int, why: str) -> Owed:
        due = max(report.received_on, first_of_month(month), not_before or date.min)
        return Owed(program=program, period=month, amount=fen, fund=fund, payee=payee, due_on=due, rule=why)

    for month in months:
        report = reports.get(month)
        if report is None:
            continue
        if stops_on is not None and first_of_month(month) >= stops_on:
            rows.append(row(month, report, 0, stopped_rule))
        else:
            rows.append(row(month, report, amount(month, report), rule(month, report)))
    for month, why in sorted(excluded.items()):
        report = reports.get(month)
        if report is not None and month not in months:
            rows.append(row(month, report, 0, why))
    return rows


def next_due(owed: Iterable[Owed], ledger: Iterable[LedgerEntry]) -> date | None:
    """The first day a month owed something and not paid yet falls due (None: none is waiting)."""
    paid = {row.key for row in ledger if row.entry == "payment"}
    days = [o.due_on for o in owed if o.amount > 0 and o.key not in paid]
    return min(days, default=None)


def months_worth(ledger: Iterable[LedgerEntry], program: str) -> dict[str, int]:
    """What each month of `program` written to the ledger is worth to the payee so far (original
    plus corrections)."""
    return {period: fen for (prog, period), fen in worth(ledger).items() if prog == program}
