"""Reconciliation of disbursement against the ledger (POLICY.md part 2): per city and fund, what
the ledger owes and where that money stands — settled, instructed and unanswered, returned,
waiting for an account — plus the double settlements to recover, and every key not settled
with its account masked. Works over the store protocol, so both stores report alike."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from activities.account_vault import mask_last4
from activities.store import Store

STATUSES = ("settled", "instructed", "returned", "awaiting_account", "stopped")


@dataclass
class FundLine:
    city: str | None
    fund: str
    keys: int = 0
    total: int = 0  # fen the disbursed keys are worth
    by_status: dict[str, list[int]] = field(default_factory=lambda: {s: [0, 0] for s in STATUSES})  # [count, fen]


@dataclass(frozen=True)
class Unsettled:
    ledger_key: str
    payee: str
    status: str
    attempts: int
    since: date
    amount: int
    account: str | None  # masked: **** and the last 4


@dataclass(frozen=True)
class Reconciliation:
    today: date
    not_taken: int  # paying ledger rows due by today with no disbursement yet
    lines: list[FundLine]
    exceptions: list[Unsettled]
    batches_open: int

    def as_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "not_taken": self.not_taken, "batches_open": self.batches_open,
                "lines": [asdict(line) for line in self.lines],
                "exceptions": [{**asdict(e), "since": e.since.isoformat()} for e in self.exceptions]}


async def reconcile(store: Store, today: date, city: str | None = None) -> Reconciliation:
    lines: dict[tuple[str | None, str], FundLine] = {}
    exceptions: list[Unsettled] = []
    last4: dict[str, list[str]] = defaultdict(list)
    for state in await store.disbursements():
        due = state.due
        if city is not None and due.city != city:
            continue
        line = lines.setdefault((due.city, due.fund), FundLine(due.city, due.fund))
        line.keys += 1
        line.total += due.amount
        counts = line.by_status[state.status]
        counts[0] += 1
        counts[1] += due.amount
        if state.status != "settled":
            if due.payee not in last4:
                last4[due.payee] = [v.last4 for v in await store.account_versions(due.payee)]
            exceptions.append(Unsettled(due.ledger_key, due.payee, state.status, state.attempt, state.since,
                                         due.amount, _masked(state.account_ref, last4[due.payee])))
    not_taken = [d for d in await store.due_for_disbursement(today, 100_000) if city is None or d.city == city]
    open_batches = [b for b in await store.batches() if not b.closed and (city is None or b.city == city)]
    return Reconciliation(today, len(not_taken), sorted(lines.values(), key=lambda x: (x.city or "", x.fund)),
                          exceptions, len(open_batches))


def _masked(account_ref: str | None, versions: list[str]) -> str | None:
    if account_ref is None:
        return None
    version = int(account_ref.rpartition("#")[2])
    return mask_last4(versions[version - 1]) if 0 < version <= len(versions) else None


def text(report: Reconciliation) -> str:
    """A few lines for people (yuan with two decimals)."""
    out = [f"disbursement on {report.today}: {report.not_taken} due ledger row(s) not yet taken, "
           f"{report.batches_open} batch(es) open"]
    for line in report.lines:
        parts = ", ".join(f"{s} {n} ({fen / 100:,.2f})" for s, (n, fen) in line.by_status.items() if n)
        out.append(f"  {line.city or 'province'} {line.fund}: {line.keys} key(s), {line.total / 100:,.2f} yuan — {parts}")
    for e in report.exceptions:
        out.append(f"  ! {e.ledger_key} {e.status} since {e.since}, attempts {e.attempts}, "
                   f"{e.amount / 100:,.2f} yuan, account {e.account or '-'}")
    return "\n".join(out)
