"""A monthly benefit schedule shared by the kinds that pay by month (K2, K1, K5; K3, K4, K15 can
state theirs the same way): what each benefit month of one program is owed, as `Owed` rows for
`policy.corrections.reconcile`.

Benefit month n of a schedule starting on day F is [F + (n-1) months, F + n months) and falls due
at its start (POLICY.md conventions), or, for a kind that pays *completed* months (K1, K5), on
`month_completed_on` through the `due_on` hook; its ledger period is `month-n`, the period the
kinds have always written, so a schedule reconciles against the rows they paid before it existed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from policy.calendar import add_months
from policy.corrections import LedgerEntry, Owed


def month_start(first_day: date, n: int) -> date:
    """The first day of benefit month n (1-based) of a schedule starting on `first_day`."""
    return add_months(first_day, n - 1)


def month_completed_on(first_day: date, n: int) -> date:
    """The day benefit month n is completed: the first day after it (F + n months), when a kind
    that pays completed months pays it."""
    return add_months(first_day, n)


def month_period(n: int) -> str:
    """The ledger period of benefit month n."""
    return f"month-{n}"


def month_number(period: str) -> int:
    """The benefit month n of the ledger period `month-n`."""
    return int(period.removeprefix("month-"))


def last_month_paid(rows: Iterable[LedgerEntry], so_far: int) -> int:
    """The last benefit month with an original payment, after reconciliation wrote `rows`
    (`so_far`: the last one before): what a kind counts its next month from."""
    return max([so_far, *(month_number(r.period) for r in rows if r.entry == "payment")])


def monthly_owed(
    *,
    program: str,
    payee: str,
    fund: str,
    first_day: date,
    months: Iterable[int],
    amount: Callable[[int, date], int],
    rule: Callable[[int, date], str],
    due_on: Callable[[int, date], date] | None = None,
) -> list[Owed]:
    """What `program` owes for each benefit month in `months`, given the month's number and start:
    `amount` (fen, 0 = owed nothing), `rule` (in words) and `due_on` (default: the month's start).

    A month left out of `months` is not owed at all; one already paid then becomes an
    overpayment (what re-employment or retirement does to months after it)."""
    rows = []
    for n in months:
        start = month_start(first_day, n)
        rows.append(
            Owed(
                program=program,
                period=month_period(n),
                amount=amount(n, start),
                fund=fund,
                payee=payee,
                due_on=due_on(n, start) if due_on is not None else start,
                rule=rule(n, start),
            )
        )
    return rows
