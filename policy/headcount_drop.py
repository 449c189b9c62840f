"""Monitoring M2 headcount_drop (§23 社保缴纳大数据比对, §3) as pure rules.

An enterprise's insured headcount for a month is the number of distinct persons with a
`contribution.paid` from it for that month. When the first contribution of month M+1 from an
enterprise arrives, months M−1 and M are compared; a drop of at least `monitoring.drop_ratio`
and at least `monitoring.drop_min` persons, with no K8 layoff plan filed within
`monitoring.drop_plan_days` before the end of month M, is a `headcount_drop` alert (a possible
layoff without the §3 procedure), once per enterprise and month.

The headcounts are not held here: they are counted from the stored contribution facts
(`contribution_facts`, one row per person, month and employer; the store's
`headcount_comparisons`), which K7 keeps anyway. What this module decides is *which* months
are compared for a batch of contributions (`arrivals`), how a comparison is judged, and the
alert's id. How "bounded state, months older than three dropped" reads on stored facts is in
docs/ARCHITECTURE.md ("M2 headcount_drop").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from contracts.parameters import Parameters
from policy.calendar import add_months, first_of_month, month_end, month_of

ALERT = "headcount_drop"


def previous_month(month: str) -> str:
    return month_of(add_months(first_of_month(month), -1))


@dataclass(frozen=True)
class Arrival:
    """Contributions of month M+1 (`next_month`) from an enterprise arrived in a batch: the event
    that may compare months M−1 and M, if M has not been compared yet and M+1 is the enterprise's
    newest month (a late contribution of an older month compares nothing, as when only the
    newest three months were held)."""

    enterprise_id: str
    next_month: str

    @property
    def month(self) -> str:
        return previous_month(self.next_month)

    @property
    def previous_month(self) -> str:
        return previous_month(self.month)


def arrivals(pairs: Iterable[tuple[str, str]]) -> list[Arrival]:
    """The distinct (enterprise, month) of a batch's employer contributions, sorted."""
    return [Arrival(e, m) for e, m in sorted(set(pairs))]


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
