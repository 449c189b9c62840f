"""What a case owes, against what its ledger holds: the rows that make them agree (POLICY.md part 2,
"What a case owes, and corrections").

A case states what the facts it knows give for every (program, period) — `Owed` — and its ledger
holds what was written so far — `LedgerEntry` rows, never edited. `reconcile` returns the rows to
add so that, for every (program, period) that has fallen due,

    payment + arrears - overpayment == owed

and recovers open overpayments by deduction from the same payee's new payments of the same fund,
at most `max_deduction` of each. A deduction moves money already owed (the payee is paid the
payment less the deduction); it does not change what a period is worth.

Pure and deterministic (it runs inside workflows): the same owed schedule and ledger give the
same rows, with the same keys, every time — what makes a retried or replayed reconciliation
write nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from contracts.cases import LedgerEntryKind as Entry

# The sign of each entry in what a period is worth to the payee (EVENTS.md "Ledger").
WORTH_SIGN: dict[Entry, int] = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}

Key = tuple[str, str]  # (program, period)


def replaces(at: datetime, event: str, known_at: datetime, known_event: str) -> bool:
    """Whether a report announced at business time `at` (CloudEvent `event`, `source#id`) replaces
    the one that stands for the same period, announced at `known_at` (POLICY.md part 2: a corrected
    report replaces an earlier one): the later in business time stands whatever order the two are
    delivered in; a tie goes to the larger event key, so both orders agree."""
    return (at, event) > (known_at, known_event)


@dataclass(frozen=True)
class Owed:
    """What the facts known now give for one (program, period)."""

    program: str
    period: str
    amount: int  # fen, >= 0 (0: the period is owed nothing, e.g. eligibility removed)
    fund: str
    payee: str
    due_on: date
    rule: str  # the rule that gives the amount, in words (shown on the ledger row)

    @property
    def key(self) -> Key:
        return (self.program, self.period)


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row of a case. Unique per (program, period, entry, seq): the original payment
    is seq 0, the n-th correction of that period and entry is seq n."""

    program: str
    period: str
    entry: Entry
    amount: int  # fen, > 0; `entry` gives its direction
    fund: str
    payee: str
    due_on: date
    rule: str
    seq: int = 0
    # Corrections: the period they correct (for a deduction: the period of the overpayment it
    # recovers, while `period` is the period of the payment it is taken from).
    corrects: str | None = None
    cause: str | None = None  # the event (`source#id`) whose fact made the correction

    @property
    def key(self) -> Key:
        return (self.program, self.period)


def worth(ledger: Iterable[LedgerEntry]) -> dict[Key, int]:
    """What each (program, period) is worth to the payee so far: payment + arrears - overpayment."""
    total: dict[Key, int] = defaultdict(int)
    for row in ledger:
        total[row.key] += WORTH_SIGN[row.entry] * row.amount
    return dict(total)


# How an `overpayment_recovery` task (what deduction could not recover when the payee had no more
# payments) is decided: the receivable is closed either way, under the outcome's rule.
RECOVERY_OUTCOMES: dict[str, str] = {
    "repaid": "POLICY.md part 2: the overpayment repaid by the payee outside deduction (receivable closed)",
    "written_off": "POLICY.md part 2: the overpayment written off by the office, not recoverable (receivable closed)",
}

# What was recovered outside deduction, per (payee, fund), in fen: an `overpayment_recovery` task
# decided repaid by the payee or written off by the office (workflows/case_base.py).
Settled = Mapping[tuple[str, str], int]


def outstanding(ledger: Iterable[LedgerEntry], settled: Settled | None = None) -> dict[tuple[str, str], int]:
    """Overpayments not yet recovered, per (payee, fund): overpayment - deduction - settled."""
    left: dict[tuple[str, str], int] = defaultdict(int)
    for row in ledger:
        if row.entry == "overpayment":
            left[(row.payee, row.fund)] += row.amount
        elif row.entry == "deduction":
            left[(row.payee, row.fund)] -= row.amount
    for key, amount in (settled or {}).items():
        left[key] -= amount
    return {k: v for k, v in left.items() if v > 0}


def reconcile(
    owed: Sequence[Owed],
    ledger: Sequence[LedgerEntry],
    today: date,
    max_deduction: Fraction,
    cause: str | None = None,
    rule_of_removal: str = "no longer owed on the facts known now",
    settled: Settled | None = None,
) -> list[LedgerEntry]:
    """The rows to add to `ledger` so that every period due by `today` is worth what is `owed`.

    - A due period never paid: its `payment` row (the original).
    - A paid period worth less than owed: an `arrears` row for the difference, due `today`.
    - A paid period worth more than owed (or no longer owed at all): an `overpayment` row.
    - Each new payment or arrears row of a payee and fund with overpayments outstanding carries a
      `deduction` of at most `max_deduction` of it, oldest overpayment first. What is `settled`
      outside deduction (repaid, written off) is no longer outstanding: the oldest first.
    Periods not yet due are left alone (their payment is written when they fall due).
    """
    owed_by_key = {o.key: o for o in owed}
    if len(owed_by_key) != len(owed):
        raise ValueError("owed names a (program, period) twice")
    so_far = worth(ledger)
    originals = {row.key: row for row in ledger if row.entry == "payment"}
    seqs: dict[tuple[str, str, Entry], int] = defaultdict(int)
    for row in ledger:
        seqs[(row.program, row.period, row.entry)] = max(seqs[(row.program, row.period, row.entry)], row.seq)

    def next_seq(program: str, period: str, entry: Entry) -> int:
        seqs[(program, period, entry)] += 1
        return seqs[(program, period, entry)]

    new: list[LedgerEntry] = []
    for o in sorted(owed, key=lambda o: (o.due_on, o.program, o.period)):
        if o.due_on > today:
            continue
        original = originals.get(o.key)
        if original is None:
            if o.amount > 0:
                new.append(LedgerEntry(o.program, o.period, "payment", o.amount, o.fund, o.payee, o.due_on, o.rule))
            continue
        diff = o.amount - so_far.get(o.key, 0)
        if diff > 0:
            new.append(LedgerEntry(o.program, o.period, "arrears", diff, o.fund, o.payee, today, o.rule,
                                   next_seq(o.program, o.period, "arrears"), corrects=o.period, cause=cause))
        elif diff < 0:
            new.append(LedgerEntry(o.program, o.period, "overpayment", -diff, original.fund, original.payee, today,
                                   o.rule, next_seq(o.program, o.period, "overpayment"), corrects=o.period, cause=cause))
    for key, original in sorted(originals.items()):
        worth_now = so_far.get(key, 0)
        if key not in owed_by_key and worth_now > 0:
            new.append(LedgerEntry(original.program, original.period, "overpayment", worth_now, original.fund,
                                   original.payee, today, rule_of_removal,
                                   next_seq(original.program, original.period, "overpayment"),
                                   corrects=original.period, cause=cause))
    return new + _deductions(list(ledger) + new, new, max_deduction, next_seq, settled or {})


@dataclass
class _Receivable:
    """What is left to recover of one overpayment row: its period, and the event that made the
    period overpaid (what a deduction recovering it names as its cause)."""

    period: str
    cause: str | None
    left: int


def _receivables(ledger: Sequence[LedgerEntry], settled: Settled) -> dict[tuple[str, str], list[_Receivable]]:
    """Per (payee, fund), what is left of the overpaid periods, oldest period first (by its first
    overpayment), and within a period by cause in the order the overpayments were written (one
    item for consecutive overpayments of one cause); a period's deductions recover its items in
    that order; what is `settled` of a (payee, fund) closes its oldest items."""
    by_payee: dict[tuple[str, str], dict[str, list[_Receivable]]] = defaultdict(dict)
    for row in sorted((r for r in ledger if r.entry == "overpayment"), key=lambda r: (r.due_on, r.period, r.seq)):
        items = by_payee[(row.payee, row.fund)].setdefault(row.period, [])
        if items and items[-1].cause == row.cause:
            items[-1].left += row.amount
        else:
            items.append(_Receivable(row.period, row.cause, row.amount))
    for row in ledger:
        if row.entry != "deduction" or row.corrects is None:
            continue
        taken = row.amount
        for item in by_payee[(row.payee, row.fund)][row.corrects]:
            part = min(item.left, taken)
            item.left -= part
            taken -= part
    open_items = {k: [r for items in v.values() for r in items if r.left > 0] for k, v in by_payee.items()}
    for key, amount in settled.items():
        for item in open_items.get(key, []):
            part = min(item.left, amount)
            item.left -= part
            amount -= part
    return {k: [r for r in v if r.left > 0] for k, v in open_items.items()}


def _deductions(
    ledger: Sequence[LedgerEntry], new: Sequence[LedgerEntry], max_deduction: Fraction,
    next_seq: Callable[[str, str, Entry], int], settled: Settled,
) -> list[LedgerEntry]:
    """Deductions from the new payment and arrears rows for the overpayments still open, oldest
    first, at most `max_deduction` of each payment: one row per (payment, overpaid period, cause).
    A deduction names the overpayment it recovers — its period (`corrects`) and the event that
    made that period overpaid (`cause`), not the cause of the payment it is taken from
    (POLICY.md part 2: each correction names the period, the rule and the event)."""
    receivables = _receivables(ledger, settled)
    rows: list[LedgerEntry] = []
    for pay in new:
        if pay.entry not in ("payment", "arrears"):
            continue
        room = int(pay.amount * max_deduction)  # down to the fen
        for item in receivables.get((pay.payee, pay.fund), []):
            take = min(room, item.left)
            if take <= 0:
                continue
            item.left -= take
            room -= take
            rows.append(LedgerEntry(pay.program, pay.period, "deduction", take, pay.fund, pay.payee, pay.due_on,
                                    f"recovery of the overpayment of {item.period} (at most {max_deduction} of a payment)",
                                    next_seq(pay.program, pay.period, "deduction"), corrects=item.period,
                                    cause=item.cause))
    return rows
