"""Monitoring M2 headcount_drop (§23 社保缴纳大数据比对, §3) on the stored contribution facts.

The rules are policy/headcount_drop.py's; the headcounts are counted by the store from the
contribution facts the intake has just stored (activities/headcount_facts.py). This module is
what runs them, in production (streams/app.py, after each `si.contributions` batch) and in
`jiuye simulate` (after each record), the same way:

- `arrivals_of(outcomes)`: the (enterprise, month) of a batch's employer contributions (any
  outcome but a dead letter: those were stored). A flexible worker's own contribution (no
  `employer_id`) has no enterprise.
- `HeadcountMonitor.judge(outcomes)`: one store statement finds the months M to compare (M+1
  arrived in the batch, M not compared yet, M+1 the enterprise's newest month) with the
  headcounts of M−1 and M; each fall is judged, an alert raised, and then the months are
  recorded as compared (`mark_headcount_judged`).

Judging a comparison reads the enterprise's facts stored by the intake under `enterprise/<id>`
(streams/routes/layoff.py keeps them): the city of the alert (and of the parameters) from the
enterprise's registration (else a layoff plan's city; none: a province alert, city null), and
the K8 plans (`layoff.plan_filed`, `filed_on`) that explain a drop. Facts are read when the
comparison is made: a plan or registration that arrives on its topic after the first
contribution of M+1 was handled is not seen (topics are not ordered against each other).
Only a comparison with a fall in headcount reads facts: once per enterprise and month at most.

The delivery guarantee: the judging runs after the batch's facts are durable and before its
offsets are committed. Alerts are raised (idempotent on `headcount_drop/<enterprise>/<month>`)
before the months are recorded as compared, so a crash anywhere in between redelivers the
batch, which finds the same months uncompared and raises the same alert id, which the store
drops. Two intake processes of one group (contributions are keyed by person, so an enterprise's
month spans partitions) may both find a month uncompared: both raise the same alert id, and the
store keeps one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from activities.store import alert_event
from contracts.cases import AlertRecord, Fact
from policy import headcount_drop
from policy.calendar import first_of_month, month_end
from policy.pack import PolicyPack
from streams.intake import Outcome
from streams.monitoring import UNCOUNTED_STATUSES, city_from_facts

CONTRIBUTION = "contribution.paid"
REGISTRATION = "enterprise.registered"
LAYOFF_PLAN = "layoff.plan_filed"
FACT_TYPES = (REGISTRATION, LAYOFF_PLAN)


def arrivals_of(outcomes: Iterable[Outcome]) -> list[headcount_drop.Arrival]:
    """The distinct (enterprise, month) of the employer contributions among `outcomes`."""
    pairs = []
    for outcome in outcomes:
        event = outcome.event
        if event is None or event.type != CONTRIBUTION or outcome.status in UNCOUNTED_STATUSES:
            continue
        employer = event.data.get("employer_id")
        if isinstance(employer, str) and employer:
            pairs.append((employer, event.data["month"]))
    return headcount_drop.arrivals(pairs)


class Store(Protocol):
    async def headcount_comparisons(self, arrivals: Sequence[headcount_drop.Arrival]) -> list[headcount_drop.Comparison]: ...

    async def mark_headcount_judged(self, judged: Sequence[tuple[str, str]]) -> None: ...

    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]: ...

    async def raise_alert(self, alert: AlertRecord, message: dict[str, Any]) -> bool: ...


class HeadcountMonitor:
    """M2 over the store (stored contributions, enterprise facts, alerts)."""

    def __init__(self, pack: PolicyPack, store: Store):
        self.pack = pack
        self.store = store

    async def judge(self, outcomes: Iterable[Outcome]) -> list[AlertRecord]:
        """Compare the months a batch's contributions call for and raise the alerts; returns those
        newly raised. Call only once the batch's facts are stored."""
        arrivals = arrivals_of(outcomes)
        if not arrivals:
            return []
        comparisons = await self.store.headcount_comparisons(arrivals)
        raised: list[AlertRecord] = []
        facts_of: dict[str, list[Fact]] = {}
        for comparison in comparisons:
            if comparison.drop <= 0:
                continue
            enterprise = comparison.enterprise_id
            if enterprise not in facts_of:
                facts_of[enterprise] = await self.store.subject_facts([f"enterprise/{enterprise}"], list(FACT_TYPES))
            alert = self.alert_for(comparison, facts_of[enterprise])
            # Raised before the months are recorded as compared (idempotent on its id): see the docstring.
            if alert is not None and await self.store.raise_alert(alert, alert_event(alert)):
                raised.append(alert)
        await self.store.mark_headcount_judged([(c.enterprise_id, c.month) for c in comparisons])
        return raised

    def alert_for(self, comparison: headcount_drop.Comparison, facts: Sequence[Fact]) -> AlertRecord | None:
        """The alert for a comparison, or None (no drop, or a K8 plan explains it)."""
        registered = [f for f in facts if f.type == REGISTRATION]
        city = city_from_facts(registered) or city_from_facts(facts)
        params = self.pack.parameters(city)
        # Validated at intake (contracts/events.py): a stored plan's filed_on is an ISO date.
        plans = [date.fromisoformat(f.payload["filed_on"]) for f in facts if f.type == LAYOFF_PLAN]
        if not headcount_drop.should_alert(comparison, plans, params):
            return None
        on = first_of_month(comparison.month)
        return AlertRecord(
            alert_id=headcount_drop.alert_id(comparison.enterprise_id, comparison.month),
            kind=headcount_drop.ALERT,
            city=city,
            on_date=on,
            details={
                "enterprise_id": comparison.enterprise_id,
                "previous_month": comparison.previous_month,
                "previous_headcount": comparison.previous_headcount,
                "month": comparison.month,
                "headcount": comparison.headcount,
                "drop": comparison.drop,
                "rule": f"§23 社保缴纳大数据比对: {comparison.headcount} ≤ {comparison.previous_headcount} × (1 − "
                        f"{_ratio(params.ratio('monitoring.drop_ratio', on))}) and ≥ "
                        f"{params.get('monitoring.drop_min', on)} persons fewer, no §3 layoff plan filed within "
                        f"{params.get('monitoring.drop_plan_days', on)} days before {month_end(comparison.month).isoformat()}",
            },
        )


def _ratio(ratio: Any) -> str:
    return f"{ratio.numerator}/{ratio.denominator}"
