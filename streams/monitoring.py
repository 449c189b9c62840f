"""Employment monitoring (§21, §23, §24): the observer that counts registrations, UI claims,
executed layoffs and enterprise closures per city, day and ISO week, and raises alerts.

Two halves, so that production (faust) and `jiuye simulate` (dicts) share the logic:

- `observe(event, store)`: which events count, for which city, metric, date and persons
  (`Observation`). A `layoff.executed` names no city; it is looked up in the enterprise's facts
  stored by the intake (`enterprise.registered`, `layoff.plan_filed`, see streams/routes/layoff.py).
  An event whose city cannot be found is not counted.
- `Monitor.apply(observation)`: adds it to the counts, held in any `MutableMapping` (a faust
  `Table` in production, a dict in `simulate`), judges the week it falls in (policy/monitoring.py)
  and raises alerts through the store (PostgreSQL `alerts` + outbox → Kafka `alerts`).

The event's own date decides the day and week, never processing time: a registration reported
weeks late is added to its own week (which may then be judged, and alert, late).

Which weeks are judged: only weeks with a full trailing history, i.e. the city's first observed
week (any metric) is at least `monitoring.trailing_weeks` weeks earlier. Events of a city can
arrive out of date order (topics and partitions are not ordered against each other), so the
week of each observation is judged when it changes, and when a city's first observed week moves
earlier every known week of the city is judged again. A week judged while its trailing weeks are
still filling up can alert early; an alert is never withdrawn (one per city, metric and week).
Parameters are the pack's for the city (dated values on the week's Monday); `policy.parameter.
changed` events are not applied to monitoring.

Production (streams/app.py) and the delivery guarantee:
1. The intake (streams/consumer.py) handles a batch (`Intake.handle_batch`), then — before it
   commits the batch — forwards each record's observation to the internal topic
   `<group>-monitoring`, keyed by city, and waits for the broker's ack. It forwards for
   `duplicate` outcomes too (an improvement on forwarding only first deliveries: a crash after
   the inbox row was marked applied but before the forward would otherwise lose the
   observation for good, since the redelivery is a duplicate).
2. The monitoring agent (faust, concurrency 1, acks by hand after it finished) keeps
   the counts in faust Tables whose keys start with the city, so every key of a city lives in the
   partition of the city's observations. The observation's event key (`source#id`) is kept too,
   and a key already counted is skipped: redeliveries count once.
3. Alerts are raised (idempotent on alert_id) BEFORE the counts are written, so a crash between
   the two re-counts the observation on redelivery and raises the same alert id, which the store
   drops.
So each counted event is counted at least once and, through the seen keys, once. What a crash can
still do: faust writes table changelogs and commits offsets without a transaction, so a crash
after a changelog write but before the offset commit redelivers an observation that the
recovered table already counted — the seen keys absorb it; a crash before the changelog was
flushed but after the commit could lose an update (faust flushes the producer before it commits,
which is what makes this unlikely); and with two streams processes a rebalance of the faust
group can ack an observation unapplied (streams/app.py). Kafka `alerts` is at-least-once
(outbox relay): consumers dedupe on the CloudEvent id (= alert id).
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Protocol

from activities.store import alert_event
from contracts.cases import AlertRecord, Fact
from contracts.events import CloudEvent
from policy import monitoring
from policy.pack import PolicyPack

# The input types that count, the metric each feeds and the field with the date it happened.
COUNTED: dict[str, tuple[str, str]] = {
    "unemployment.registered": (monitoring.UNEMPLOYMENT_REGISTRATIONS, "registered_on"),
    "ui.claim.filed": (monitoring.UI_CLAIMS, "claim_on"),
    "layoff.executed": (monitoring.LAYOFFS_EXECUTED, "on"),
    "enterprise.closure_reported": (monitoring.ENTERPRISE_CLOSURES, "on"),
}
# Where the city of an event without one is found (facts stored under `enterprise/<id>`).
CITY_FACT_TYPES = ("enterprise.registered", "layoff.plan_filed")
UNCOUNTED_STATUSES = ("dead_letter",)


@dataclass(frozen=True)
class Observation:
    """One counted event: `persons` more for `metric` in `city` on `on`."""

    city: str
    metric: str
    on: date
    persons: int
    event_key: str  # source#id: counted once
    closure_kind: str | None = None  # enterprise.closure_reported: §21 关停并转
    enterprise_id: str | None = None

    def to_bytes(self) -> bytes:
        return json.dumps({**asdict(self), "on": self.on.isoformat()}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Observation":
        doc = json.loads(raw)
        return cls(**{**doc, "on": date.fromisoformat(doc["on"])})


class FactReader(Protocol):
    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]: ...


class AlertSink(Protocol):
    async def raise_alert(self, alert: AlertRecord, message: dict[str, Any]) -> bool: ...


def counts(event: CloudEvent) -> bool:
    """Whether the event type is one monitoring counts."""
    return event.type in COUNTED


def observation_of(event: CloudEvent, facts: Sequence[Fact] = ()) -> Observation | None:
    """Pure: what `event` adds to the counts, or None (not counted, or no city to count it in).

    `facts`: the enterprise's stored registration / layoff plans, for `layoff.executed`."""
    if event.type not in COUNTED:
        return None
    metric, date_field = COUNTED[event.type]
    d = event.data
    city = d.get("city") if isinstance(d.get("city"), str) else city_from_facts(facts)
    if city is None:
        return None
    if event.type == "layoff.executed":
        persons = len(d.get("person_ids") or ())
    elif event.type == "enterprise.closure_reported":
        persons = int(d.get("affected_persons") or 0)
    else:
        persons = 1
    return Observation(
        city=city,
        metric=metric,
        on=date.fromisoformat(d[date_field]),
        persons=persons,
        event_key=event.key,
        closure_kind=d.get("kind") if event.type == "enterprise.closure_reported" else None,
        enterprise_id=d.get("enterprise_id"),
    )


def city_from_facts(facts: Sequence[Fact]) -> str | None:
    """The latest city in the enterprise's stored registration or layoff plans."""
    cities = [f.payload.get("city") for f in facts if f.type in CITY_FACT_TYPES]
    return next((c for c in reversed(cities) if isinstance(c, str)), None)


async def observe(event: CloudEvent, status: str, store: FactReader) -> Observation | None:
    """The observation for an event the intake handled with outcome `status` (dead letters are
    not counted; duplicates are, the `Monitor` drops event keys it counted before)."""
    if status in UNCOUNTED_STATUSES or event.type not in COUNTED:
        return None
    facts: list[Fact] = []
    if not isinstance(event.data.get("city"), str) and isinstance(event.data.get("enterprise_id"), str):
        facts = await store.subject_facts([f"enterprise/{event.data['enterprise_id']}"], list(CITY_FACT_TYPES))
    return observation_of(event, facts)


class Monitor:
    """The counts and the alert rule over any mapping (faust Table or dict).

    `counts` holds ints under `city|metric|day|…` and `city|metric|week|…`, the city's first
    observed week and the weeks seen per metric; `seen` holds the event keys already counted."""

    def __init__(self, pack: PolicyPack, counts: MutableMapping[str, Any], seen: MutableMapping[str, Any], alerts: AlertSink):
        self.pack = pack
        self.counts = counts
        self.seen = seen
        self.alerts = alerts

    async def apply(self, obs: Observation) -> list[AlertRecord]:
        """Count `obs` once and raise the alerts it causes; returns the alerts newly raised."""
        if obs.event_key in self.seen:
            return []
        week = monitoring.iso_week(obs.on)
        updates: dict[str, Any] = {
            monitoring.day_key(obs.city, obs.metric, obs.on): int(self.counts.get(monitoring.day_key(obs.city, obs.metric, obs.on), 0)) + obs.persons,
            monitoring.week_key(obs.city, obs.metric, week): int(self.counts.get(monitoring.week_key(obs.city, obs.metric, week), 0)) + obs.persons,
        }
        weeks = sorted(set(self.counts.get(monitoring.weeks_key(obs.city, obs.metric), [])) | {week})
        updates[monitoring.weeks_key(obs.city, obs.metric)] = weeks
        first = self.counts.get(monitoring.first_week_key(obs.city))
        moved = first is None or monitoring.weeks_between(week, first) > 0
        if moved:
            updates[monitoring.first_week_key(obs.city)] = week
        view = _Overlay(self.counts, updates)
        candidates: list[AlertRecord] = []
        if obs.closure_kind is not None:
            candidates.append(closure_alert(obs))
        if moved:
            for metric in monitoring.METRICS:
                for known in view.get(monitoring.weeks_key(obs.city, metric), []):
                    candidates += self._judge(view, obs.city, metric, known)
        else:
            candidates += self._judge(view, obs.city, obs.metric, week)
        raised: list[AlertRecord] = []
        # Alerts first (idempotent on their id), then the counts: a crash in between re-counts
        # the observation on redelivery and raises nothing twice.
        for alert in candidates:
            if await self.alerts.raise_alert(alert, _alert_message(alert)):
                raised.append(alert)
        for key, value in updates.items():
            self.counts[key] = value
        self.seen[obs.event_key] = True
        return raised

    def _judge(self, view: "_Overlay", city: str, metric: str, week: str) -> list[AlertRecord]:
        params = self.pack.parameters(city)
        if not monitoring.has_full_history(week, view.get(monitoring.first_week_key(city)), params):
            return []
        count = int(view.get(monitoring.week_key(city, metric, week), 0))
        trailing_weeks = monitoring.trailing_weeks(week, params)
        trailing = [int(view.get(monitoring.week_key(city, metric, w), 0)) for w in trailing_weeks]
        if not monitoring.is_surge(count, trailing, week, params):
            return []
        mean = monitoring.trailing_mean(trailing)
        factor = params.ratio("monitoring.alert_factor", monitoring.week_monday(week))
        return [
            AlertRecord(
                alert_id=monitoring.surge_alert_id(city, metric, week),
                kind=monitoring.SURGE_ALERT,
                city=city,
                on_date=monitoring.week_monday(week),
                details={
                    "metric": metric,
                    "week": week,
                    "persons": count,
                    "trailing_weeks": dict(zip(trailing_weeks, trailing, strict=True)),
                    "trailing_mean": f"{mean.numerator}/{mean.denominator}" if mean.denominator != 1 else str(mean.numerator),
                    "rule": f"§24 预警: {count} > mean × {factor.numerator}/{factor.denominator} and ≥ "
                    f"{params.get('monitoring.alert_min_persons', monitoring.week_monday(week))} above the mean",
                },
            )
        ]

    def count(self, city: str, metric: str, week: str) -> int:
        """Persons counted for a city's metric in an ISO week."""
        return int(self.counts.get(monitoring.week_key(city, metric, week), 0))


def closure_alert(obs: Observation) -> AlertRecord:
    """§21 对涉及企业关停并转的…同步制定应对规模性失业的措施: every closure report alerts its city."""
    source, _, event_id = obs.event_key.partition("#")
    return AlertRecord(
        alert_id=monitoring.closure_alert_id(source, event_id),
        kind=monitoring.MASS_ALERT,
        city=obs.city,
        on_date=obs.on,
        details={
            "enterprise_id": obs.enterprise_id,
            "closure_kind": obs.closure_kind,
            "affected_persons": obs.persons,
            "rule": "§21 企业关停并转 → 应对规模性失业",
        },
    )


def _alert_message(alert: AlertRecord) -> dict[str, Any]:
    return alert_event(alert)


class _Overlay:
    """The counts with this observation's updates laid over them (read-only)."""

    def __init__(self, base: MutableMapping[str, Any], updates: dict[str, Any]):
        self.base = base
        self.updates = updates

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.updates:
            return self.updates[key]
        return self.base.get(key, default)
