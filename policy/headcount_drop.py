"""Monitoring M2 headcount_drop (§23 社保缴纳大数据比对, §3) as pure rules and a bounded state.

An enterprise's insured headcount for a month is the number of distinct persons with a
`contribution.paid` from it for that month. When the first contribution of month M+1 from an
enterprise arrives, months M−1 and M are compared; a drop of at least `monitoring.drop_ratio`
and at least `monitoring.drop_min` persons, with no K8 layoff plan filed within
`monitoring.drop_plan_days` before the end of month M, is a `headcount_drop` alert (a possible
layoff without the §3 procedure), once per enterprise and month.

`HeadcountState` is computed from the contribution stream as it flows and stays bounded: per
enterprise only the newest `MONTHS_KEPT` months are held (older months are dropped, and a late
contribution for a dropped month is ignored); `size` says how much it holds. The distinct persons
of a month are also what makes a redelivered contribution count once: there are no other seen
keys, so they are dropped with their month.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.parameters import Parameters
from policy.calendar import add_months, first_of_month, month_end, month_of

ALERT = "headcount_drop"
# M−1, M and M+1: what one comparison needs; anything older can no longer be compared.
MONTHS_KEPT = 3


def previous_month(month: str) -> str:
    return month_of(add_months(first_of_month(month), -1))


@dataclass(frozen=True)
class Comparison:
    """Months M−1 and M of an enterprise, compared when the first contribution of M+1 arrived."""

    enterprise_id: str
    previous_month: str
    previous_headcount: int
    month: str
    headcount: int

    @property
    def drop(self) -> int:
        return self.previous_headcount - self.headcount


def alert_id(enterprise_id: str, month: str) -> str:
    """Once per enterprise and month M."""
    return f"{ALERT}/{enterprise_id}/{month}"


# A month's persons are held in this many buckets (by a stable hash of the person id), so that
# counting one contribution rewrites one bucket (about headcount / BUCKETS ids), not the whole
# month, and so that dropping a month knows its keys without scanning the state.
BUCKETS = 32


def bucket_of(person_id: str) -> int:
    return zlib.crc32(person_id.encode()) % BUCKETS


def meta_key(enterprise_id: str) -> str:
    """The enterprise's months held, the months alerted on, and the oldest month it still counts
    (written only when a month starts or an alert is raised, not per contribution)."""
    return f"{enterprise_id}|meta"


def bucket_key(enterprise_id: str, month: str, bucket: int) -> str:
    return f"{enterprise_id}|{month}|{bucket:02d}"


class HeadcountState:
    """Per enterprise and month the distinct persons who contributed, for the newest
    `MONTHS_KEPT` months of the enterprise only, held in any `MutableMapping` of JSON values (a
    dict, or a faust Table in production): every key starts with the enterprise id, so all of an
    enterprise's state lives in the partition of its contributions. Values are never changed in
    place (a faust Table writes its changelog only on assignment): each change is a new value.
    Counting a new person writes one value (its bucket); a headcount is summed from the
    buckets when a comparison needs it."""

    def __init__(self, store: MutableMapping[str, Any] | None = None, months_kept: int = MONTHS_KEPT):
        self._months_kept = months_kept
        self._store: MutableMapping[str, Any] = {} if store is None else store

    def add(self, enterprise_id: str, month: str, person_id: str) -> Comparison | None:
        """Count one contribution. Returns the comparison of the two months before `month` when
        this is the first contribution of `month` from the enterprise and month M−1 is held (M
        may be empty: a headcount of 0); None otherwise, also for a month older than the state holds.
        A contribution already counted (a redelivery, a second payment) changes nothing."""
        meta = self._meta(enterprise_id)
        if month < meta["oldest"]:
            return None  # its comparisons are done and its months dropped: nothing to count
        key = bucket_key(enterprise_id, month, bucket_of(person_id))
        persons: list[str] = self._store.get(key, [])
        at = bisect.bisect_left(persons, person_id)
        if at < len(persons) and persons[at] == person_id:
            return None
        self._store[key] = [*persons[:at], person_id, *persons[at:]]
        if month in meta["months"]:
            return None
        meta["months"] = sorted([*meta["months"], month])
        self._drop_old(enterprise_id, meta)
        self._store[meta_key(enterprise_id)] = meta
        m = previous_month(month)
        before = previous_month(m)
        if m in meta["alerted"] or before not in meta["months"]:
            return None  # alerted already, or no baseline (M−1 unseen or dropped: nothing can drop)
        return Comparison(enterprise_id, before, self.headcount(enterprise_id, before), m, self.headcount(enterprise_id, m))

    def mark_alerted(self, enterprise_id: str, month: str) -> None:
        """Remember that month M of the enterprise has had its alert (once per enterprise and month)."""
        meta = self._meta(enterprise_id)
        if month not in meta["alerted"]:
            meta["alerted"] = sorted([*meta["alerted"], month])
            self._store[meta_key(enterprise_id)] = meta

    def headcount(self, enterprise_id: str, month: str) -> int:
        return sum(len(self._store.get(bucket_key(enterprise_id, month, b), ())) for b in range(BUCKETS))

    def months(self, enterprise_id: str) -> list[str]:
        return list(self._meta(enterprise_id)["months"])

    @property
    def size(self) -> int:
        """What the state holds: one entry per (enterprise, month, person) and per alerted month."""
        return sum(len(value["alerted"]) if key.endswith("|meta") else len(value) for key, value in self._store.items())

    def _meta(self, enterprise_id: str) -> dict[str, Any]:
        """A fresh copy of the enterprise's meta (or an empty one): safe to change."""
        held = self._store.get(meta_key(enterprise_id))
        if held is None:
            return {"months": [], "alerted": [], "oldest": ""}
        return {"months": list(held["months"]), "alerted": list(held["alerted"]), "oldest": held["oldest"]}

    def _drop_old(self, enterprise_id: str, meta: dict[str, Any]) -> None:
        newest = meta["months"][-1]
        oldest = month_of(add_months(first_of_month(newest), -(self._months_kept - 1)))
        meta["oldest"] = max(meta["oldest"], oldest)
        for month in [m for m in meta["months"] if m < meta["oldest"]]:
            for bucket in range(BUCKETS):
                self._store.pop(bucket_key(enterprise_id, month, bucket), None)
        meta["months"] = [m for m in meta["months"] if m >= meta["oldest"]]
        # An alert is about month M, compared while M+1 is the newest; it can't recur once M is gone.
        meta["alerted"] = [m for m in meta["alerted"] if m >= meta["oldest"]]


def is_drop(comparison: Comparison, params: Parameters) -> bool:
    """headcount(M) ≤ headcount(M−1) × (1 − `monitoring.drop_ratio`) and the drop is at least
    `monitoring.drop_min` persons (parameters in force on the first day of M)."""
    on = first_of_month(comparison.month)
    ratio = params.ratio("monitoring.drop_ratio", on)
    fell_enough = comparison.headcount * ratio.denominator <= comparison.previous_headcount * (ratio.denominator - ratio.numerator)
    return fell_enough and comparison.drop >= int(params.get("monitoring.drop_min", on))


def explained_by_layoff_plan(month: str, plans_filed_on: Iterable[date], params: Parameters) -> bool:
    """A K8 layoff plan of the enterprise filed within `monitoring.drop_plan_days` before the end
    of month M (its last day included) explains the drop: the §3 procedure was followed."""
    end = month_end(month)
    first = end - timedelta(days=int(params.get("monitoring.drop_plan_days", first_of_month(month))))
    return any(first <= filed <= end for filed in plans_filed_on)


def should_alert(comparison: Comparison, plans_filed_on: Iterable[date], params: Parameters) -> bool:
    """The alert decision: a drop that no layoff plan explains."""
    return is_drop(comparison, params) and not explained_by_layoff_plan(comparison.month, plans_filed_on, params)
