"""Monitoring M2 headcount_drop (§23 社保缴纳大数据比对, §3) on the contribution stream as it flows.

The rules and the bounded state are policy/headcount_drop.py's; this module is what runs them,
in production (faust, streams/app.py) and in `jiuye simulate` (a dict), the same way:

- `forwards(contributions_of(outcomes), partitions)`: what the intake forwards from a batch of `si.contributions`
  records (any outcome but a dead letter) to `<group>-headcount`: per enterprise its (month,
  person) pairs in batch order, the enterprises of one partition (`partition_of`, Kafka's
  default partitioner on the enterprise id) in one message sent to that partition — so a batch
  costs at most one send per partition however many employers it names, and one enterprise is
  always in one partition. A flexible worker's own contribution (no `employer_id`) has no
  enterprise and is not forwarded.
- `HeadcountMonitor.apply(message)`: counts the pairs in the enterprise's `HeadcountState`
  (held in any `MutableMapping`: a faust Table, or a dict), judges each comparison the first
  contribution of a month M+1 brings, and raises `headcount_drop` alerts through the store.

Judging a comparison reads the enterprise's facts stored by the intake under `enterprise/<id>`
(streams/routes/layoff.py keeps them): the city of the alert (and of the parameters) from the
enterprise's registration (else a layoff plan's city; none: a province alert, city null), and
the K8 plans (`layoff.plan_filed`, `filed_on`) that explain a drop. Facts are read when the
comparison is made: a plan or registration that arrives on its topic after the first
contribution of M+1 was handled is not seen (topics are not ordered against each other).
Only a comparison with a fall in headcount reads facts: once per enterprise and month at most.

The delivery guarantee, as M1's (streams/monitoring.py): the intake forwards before it commits
(duplicates too), the agent applies a message and then acks it by hand. The state's changes of
one message are collected (`PendingWrites`) and written only after its alerts were raised
(idempotent on `headcount_drop/<enterprise>/<month>`): a crash in between redelivers the
message, which compares the same months again and raises the same alert id, which the store
drops. Redeliveries count once without seen keys: a month's distinct persons are the seen keys
(a pair already held changes nothing), so they are bounded with the months and dropped with
them. Each enterprise's writes are one value per key it touched (a bucket per new person, the
meta when a month starts), so a big employer's payroll forwarded in one batch rewrites each of
its buckets once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from aiokafka.partitioner import murmur2

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


@dataclass(frozen=True)
class Contributions:
    """An enterprise's contributions from one intake batch: (month, person) pairs in stream order."""

    enterprise_id: str
    pairs: tuple[tuple[str, str], ...]


def contributions_of(outcomes: Iterable[Outcome]) -> list[Contributions]:
    """Per enterprise (in order of first appearance) its employer contributions among `outcomes`."""
    by_enterprise: dict[str, list[tuple[str, str]]] = {}
    for outcome in outcomes:
        event = outcome.event
        if event is None or event.type != CONTRIBUTION or outcome.status in UNCOUNTED_STATUSES:
            continue
        employer = event.data.get("employer_id")
        if isinstance(employer, str):
            by_enterprise.setdefault(employer, []).append((event.data["month"], event.data["person_id"]))
    return [Contributions(e, tuple(pairs)) for e, pairs in by_enterprise.items()]


def partition_of(enterprise_id: str, partitions: int) -> int:
    """The internal topic's partition of an enterprise: the one Kafka's default partitioner gives
    the enterprise id as key (murmur2), so one enterprise is always in one partition."""
    return int(murmur2(enterprise_id.encode()) & 0x7FFFFFFF) % partitions


def forwards(messages: Iterable[Contributions], partitions: int) -> dict[int, bytes]:
    """What the intake sends for a batch (`contributions_of` it): per partition of
    `<group>-headcount` one message with its enterprises' contributions (at most `partitions`
    sends a batch, however many employers)."""
    by_partition: dict[int, list[Contributions]] = {}
    for message in messages:
        by_partition.setdefault(partition_of(message.enterprise_id, partitions), []).append(message)
    return {p: encode(messages) for p, messages in by_partition.items()}


def encode(messages: Sequence[Contributions]) -> bytes:
    return json.dumps({m.enterprise_id: [list(p) for p in m.pairs] for m in messages}, separators=(",", ":")).encode()


def decode(raw: bytes) -> list[Contributions]:
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise TypeError("not an object of enterprises")
    return [Contributions(str(e), tuple((str(month), str(person)) for month, person in pairs)) for e, pairs in doc.items()]


class Store(Protocol):
    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]: ...

    async def raise_alert(self, alert: AlertRecord, message: dict[str, Any]) -> bool: ...


class HeadcountMonitor:
    """M2 over any mapping (faust Table or dict) and the store (facts, alerts)."""

    def __init__(self, pack: PolicyPack, state: MutableMapping[str, Any], store: Store):
        self.pack = pack
        self.state = state
        self.store = store

    async def apply_all(self, messages: Sequence[Contributions]) -> list[AlertRecord]:
        """A forwarded message: each enterprise's contributions in turn."""
        raised: list[AlertRecord] = []
        for message in messages:
            raised += await self.apply(message)
        return raised

    async def apply(self, message: Contributions) -> list[AlertRecord]:
        """Count an enterprise's contributions and raise the alerts they cause; returns those newly
        raised. Its state changes are written after its alerts, each key once."""
        pending = PendingWrites(self.state)
        state = headcount_drop.HeadcountState(pending)
        comparisons = [c for month, person in message.pairs
                       if (c := state.add(message.enterprise_id, month, person)) is not None]
        raised: list[AlertRecord] = []
        falls = [c for c in comparisons if c.drop > 0]
        if falls:
            facts = await self.store.subject_facts([f"enterprise/{message.enterprise_id}"], list(FACT_TYPES))
            for comparison in falls:
                alert = self.judge(comparison, facts)
                if alert is None:
                    continue
                # Raised before the counts are written (idempotent on its id): see the docstring.
                if await self.store.raise_alert(alert, alert_event(alert)):
                    raised.append(alert)
                state.mark_alerted(comparison.enterprise_id, comparison.month)
        pending.flush()
        return raised

    def judge(self, comparison: headcount_drop.Comparison, facts: Sequence[Fact]) -> AlertRecord | None:
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

    def size(self) -> int:
        """Entries the state holds (one per enterprise, month and person, and per alerted month)."""
        return headcount_drop.HeadcountState(self.state).size


def _ratio(ratio: Any) -> str:
    return f"{ratio.numerator}/{ratio.denominator}"


_DELETED = object()


class PendingWrites(MutableMapping[str, Any]):
    """A mapping's changes collected over it (reads see them) and written by `flush`, one write
    per key: a faust Table writes a changelog record per assignment."""

    def __init__(self, base: MutableMapping[str, Any]):
        self.base = base
        self.changes: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.changes:
            value = self.changes[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self.base[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.changes[key] = value

    def __delitem__(self, key: str) -> None:
        self[key]  # KeyError if absent, as a mapping should
        self.changes[key] = _DELETED

    def __iter__(self) -> Iterator[str]:
        for key in self.base:
            if self.changes.get(key) is not _DELETED:
                yield key
        for key, value in self.changes.items():
            if value is not _DELETED and key not in self.base:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def flush(self) -> None:
        for key, value in self.changes.items():
            if value is _DELETED:
                self.base.pop(key, None)
            else:
                self.base[key] = value
        self.changes = {}
