"""Monitoring M2 headcount_drop (§23 社保缴纳大数据比对, §3) as pure rules and a bounded state.

An enterprise's insured headcount for a month is the number of distinct persons with a
`contribution.paid` from it for that month. When the first contribution of month M+1 from an
enterprise arrives, months M−1 and M are compared; a drop of at least `monitoring.drop_ratio`
and at least `monitoring.drop_min` persons, with no K8 layoff plan filed within
`monitoring.drop_plan_days` before the end of month M, is a `headcount_drop` alert (a possible
layoff without the §3 procedure), once per enterprise and month.

`HeadcountState` is computed from the contribution stream as it flows and stays bounded: per
enterprise only the newest `MONTHS_KEPT` months are held (older months are dropped, and a late
contribution for a dropped month is ignored); `size` says how much it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from policy.calendar import add_months, first_of_month, month_end, month_of
from policy.pack import Parameters

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


@dataclass
class _Enterprise:
    persons: dict[str, set[str]] = field(default_factory=dict)  # month → distinct persons
    alerted: set[str] = field(default_factory=set)  # months M already alerted on
    oldest_kept: str = ""  # the oldest month held (months sort as text: YYYY-MM)


class HeadcountState:
    """Per enterprise and month the distinct persons who contributed, for the newest
    `MONTHS_KEPT` months of the enterprise only."""

    def __init__(self, months_kept: int = MONTHS_KEPT):
        self._months_kept = months_kept
        self._enterprises: dict[str, _Enterprise] = {}

    def add(self, enterprise_id: str, month: str, person_id: str) -> Comparison | None:
        """Count one contribution. Returns the comparison of the two months before `month` when
        this is the first contribution of `month` from the enterprise and month M−1 is held (M
        may be empty: a headcount of 0); None otherwise, also for a month older than the state holds."""
        ent = self._enterprises.setdefault(enterprise_id, _Enterprise())
        if month < ent.oldest_kept:
            return None  # its comparisons are done and its months dropped: nothing to count
        persons = ent.persons.get(month)
        if persons is not None:
            persons.add(person_id)
            return None
        ent.persons[month] = {person_id}
        self._drop_old(ent)
        m = previous_month(month)
        before = previous_month(m)
        if m in ent.alerted or before not in ent.persons:
            return None  # alerted already, or no baseline (M−1 unseen or dropped: nothing can drop)
        return Comparison(enterprise_id, before, len(ent.persons.get(before, ())), m, len(ent.persons.get(m, ())))

    def mark_alerted(self, enterprise_id: str, month: str) -> None:
        """Remember that month M of the enterprise has had its alert (once per enterprise and month)."""
        ent = self._enterprises.setdefault(enterprise_id, _Enterprise())
        ent.alerted.add(month)

    def headcount(self, enterprise_id: str, month: str) -> int:
        ent = self._enterprises.get(enterprise_id)
        return len(ent.persons.get(month, ())) if ent else 0

    def months(self, enterprise_id: str) -> list[str]:
        ent = self._enterprises.get(enterprise_id)
        return sorted(ent.persons) if ent else []

    @property
    def size(self) -> int:
        """What the state holds: one entry per (enterprise, month, person) and per alerted month."""
        return sum(sum(len(p) for p in e.persons.values()) + len(e.alerted) for e in self._enterprises.values())

    def _drop_old(self, ent: _Enterprise) -> None:
        newest = max(ent.persons)
        oldest = month_of(add_months(first_of_month(newest), -(self._months_kept - 1)))
        ent.oldest_kept = oldest
        for month in [m for m in ent.persons if m < oldest]:
            del ent.persons[month]
        # An alert is about month M, compared while M+1 is the newest; it can't recur once M is gone.
        ent.alerted = {m for m in ent.alerted if m >= oldest}


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
