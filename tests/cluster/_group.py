"""The consumer group as the brokers see it, and how long a hand-over takes: from a fault until
the group is Stable with the expected number of members and every input partition assigned to
one of them (a killed member's partitions are not served until then)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from contracts.topics import INPUT_TOPICS
from testkit.kafka import KafkaProbe


@dataclass(frozen=True)
class GroupView:
    state: str
    members: int
    assigned: frozenset[tuple[str, int]]  # input-topic partitions held by some member


async def group_view(probe: KafkaProbe, group: str) -> GroupView:
    responses = await probe.admin.describe_consumer_groups([probe.names.physical(group)])
    inputs = {probe.names.physical(t) for t in INPUT_TOPICS}
    described = responses[0].groups[0]
    state, members = described[2], described[5]
    assigned: set[tuple[str, int]] = set()
    for member in members:
        raw = member[-1]  # member_assignment is the last field in every version
        if raw:
            decoded = ConsumerProtocolMemberAssignment.decode(raw)
            assigned.update((topic, p) for topic, parts in decoded.assignment for p in parts if topic in inputs)
    return GroupView(state=state, members=len(members), assigned=frozenset(assigned))


async def wait_handed_over(probe: KafkaProbe, group: str, members: int, since: float, timeout: float = 180.0) -> float:
    """Seconds from `since` (time.monotonic()) until the group is Stable with `members` members
    holding every input partition."""
    everything = {(tp.topic, tp.partition) for tp in await probe.partitions(INPUT_TOPICS)}
    deadline = time.monotonic() + timeout
    last: GroupView | None = None
    while time.monotonic() < deadline:
        try:
            last = await group_view(probe, group)
        except Exception:  # a coordinator moving (a broker fault) answers with an error for a while
            last = None
        if last and last.state == "Stable" and last.members == members and last.assigned >= everything:
            return round(time.monotonic() - since, 1)
        await asyncio.sleep(0.2)
    raise AssertionError(f"group {group} not handed over to {members} members within {timeout} s; last seen {last}")
