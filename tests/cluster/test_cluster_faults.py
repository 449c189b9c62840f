"""The cluster fault suite (issue 12 part 3): on the cluster topology (production Temporal
server on PostgreSQL, three Kafka nodes with replication 3 and min.insync.replicas 2, several
`jiuye streams` and `jiuye worker` processes), a member joins, leaves, is killed, the members
restart one by one, a broker or the Temporal server is killed, and members are added — each
while a bounded load flows — and the invariants of the fault suite hold afterwards
(tests/faults/_invariants.py: nothing lost, nothing paid twice, read model = ledger, lag 0).

Each test records its figures, including how long the hand-over took, in
test-artifacts/cluster.json (`python -m tests.cluster.table` renders docs/RELIABILITY.md's table).
Only processes this tier started are signalled, by pid.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from contracts.topics import INPUT_TOPICS
from deploy.stack import kafka_cluster, temporal_cluster
from tests.cluster._group import wait_handed_over
from tests.cluster.conftest import Cluster
from tests.e2e.helpers import assert_eventually
from tests.faults._invariants import Figures, check_invariants, record_figures
from tests.faults._load import Load, internships

# Room for the waits below to fail with what was still missing before pytest-timeout cuts in.
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

PERSONS = 120  # 240 records, 960 payments: a few minutes of work for two workers here


async def start_members(cluster: Cluster, streams: int = 2, workers: int = 2) -> None:
    await asyncio.gather(*[cluster.start("worker", i) for i in range(1, workers + 1)],
                         *[cluster.start("streams", i) for i in range(1, streams + 1)])
    await wait_handed_over(cluster.system.kafka, cluster.settings.consumer_group, streams, time.monotonic())


def trickle(cluster: Cluster, load: Load, parts: int = 12) -> asyncio.Task[None]:
    """Send the load in `parts` consecutive `jiuye emit`s in the background, so the fault meets
    records still being produced (the issue's lost records were produced during a join)."""
    size = -(-len(load.lines) // parts)

    async def send() -> None:
        for n, start in enumerate(range(0, len(load.lines), size)):
            await cluster.system.emit(load.lines[start:start + size], name=f"part-{n:02d}.jsonl")
            await asyncio.sleep(0.5)  # pacing, not a wait for anything

    return asyncio.create_task(send())


async def inbox_reached(cluster: Cluster, load: Load, share: float) -> int:
    """Wait until `share` of the load's records are in the inbox (the load is flowing); the count."""
    target = int(len(load.lines) * share)

    async def reached() -> int:
        done = int(await cluster.system.pool.fetchval("SELECT count(*) FROM inbox"))
        assert done >= target, f"inbox {done}/{target}; streams-1 log:\n{cluster.log_tail('streams', 1)}"
        return done

    return await assert_eventually(reached, timeout=240, interval=0.1)


async def finish(cluster: Cluster, load: Load, sending: asyncio.Task[None], fault: str, started: float,
                 at_fault: int, **notes: object) -> Figures:
    """Wait for the load to be sent and the intake to catch up, assert the invariants and record
    the figures."""
    # Under load: the fault found part of the load not yet in the inbox.
    assert at_fault < len(load.good), f"the load was done ({at_fault} of {len(load.good)}) before the fault"
    await sending
    await cluster.system.settled(timeout=300)
    figures = await check_invariants(cluster.system, load, fault, started=started, timeout=300)
    figures.notes.update({"inbox_at_fault": at_fault, **notes})
    record_figures(figures)
    return figures


async def test_c1_a_member_joins_under_load(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS, cluster.system.pack)
    await start_members(cluster, streams=1)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    fault = time.monotonic()
    await cluster.start("streams", 2)
    handover = await wait_handed_over(cluster.system.kafka, cluster.settings.consumer_group, 2, fault)
    await finish(cluster, load, sending, "C1 a streams member joins under load", started, at_fault, handover_seconds=handover)


async def test_c2_a_member_leaves_under_load(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS, cluster.system.pack)
    await start_members(cluster)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    fault = time.monotonic()
    await cluster.stop("streams", 2)  # SIGTERM
    handover = await wait_handed_over(cluster.system.kafka, cluster.settings.consumer_group, 1, fault)
    await finish(cluster, load, sending, "C2 a streams member leaves (SIGTERM) under load", started, at_fault,
                 handover_seconds=handover)


async def fully_replicated(cluster: Cluster, since: float) -> float:
    """Seconds from `since` until every input partition has all its replicas in sync again."""

    async def in_sync() -> None:
        described = await cluster.system.kafka.admin.describe_topics([cluster.settings.topics.physical(t) for t in INPUT_TOPICS])
        short = [(t["topic"], p["partition"]) for t in described for p in t["partitions"]
                 if len(p["isr"]) < len(p["replicas"])]
        assert not short, f"{len(short)} partitions under-replicated, e.g. {short[:3]}"

    await assert_eventually(in_sync, timeout=240, interval=0.5)
    return round(time.monotonic() - since, 1)


async def test_c3_a_broker_sigkilled_under_load_and_restarted(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS, cluster.system.pack)
    await start_members(cluster)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    node = cluster.node(2)
    pid = kafka_cluster.node_pid(cluster.layout, node)
    assert pid is not None, f"{node.name} is not running"
    os.killpg(pid, signal.SIGKILL)
    killed = time.monotonic()
    # Two replicas of three still take acks=all writes: the load goes on without the node.
    await inbox_reached(cluster, load, 2 / 3)
    progressed_without = round(time.monotonic() - killed, 1)
    restarted = time.monotonic()
    new_pid = await asyncio.to_thread(kafka_cluster.start_node, cluster.layout, node)
    await asyncio.to_thread(kafka_cluster.wait_node, cluster.layout, node, new_pid)
    resynced = await fully_replicated(cluster, restarted)
    await finish(cluster, load, sending, "C3 a Kafka broker SIGKILLed under load and restarted", started, at_fault,
                 broker=node.name, seconds_to_two_thirds_without_it=progressed_without,
                 handover_seconds=resynced, handover="restart → every partition's replicas in sync")


async def test_c4_one_of_two_streams_members_sigkilled(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS, cluster.system.pack)
    await start_members(cluster)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    fault = time.monotonic()
    await cluster.kill("streams", 2)
    # No leave request: the brokers notice at the end of its session timeout.
    handover = await wait_handed_over(cluster.system.kafka, cluster.settings.consumer_group, 1, fault)
    await finish(cluster, load, sending, "C4 one of two streams members SIGKILLed", started, at_fault,
                 handover_seconds=handover)


async def test_c5_rolling_restart_of_both_streams_and_both_workers_under_load(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS * 2, cluster.system.pack)
    await start_members(cluster)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    rolled = time.monotonic()
    restarts = {}
    for role, index in (("streams", 1), ("streams", 2), ("worker", 1), ("worker", 2)):
        began = time.monotonic()
        await cluster.stop(role, index)
        await cluster.start(role, index)
        if role == "streams":
            await wait_handed_over(cluster.system.kafka, cluster.settings.consumer_group, 2, began)
        restarts[f"{role}-{index}"] = round(time.monotonic() - began, 1)
    await finish(cluster, load, sending, "C5 rolling restart of 2 streams and 2 workers under load", started, at_fault,
                 restart_seconds=restarts, handover_seconds=round(time.monotonic() - rolled, 1),
                 handover="whole roll: each member stopped (SIGTERM), restarted, ready, group stable")


async def test_c6_temporal_server_sigkilled_and_restarted_on_postgresql(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS, cluster.system.pack)
    await start_members(cluster)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    pid = temporal_cluster.pid(cluster.layout)
    assert pid is not None, "the Temporal server is not running"
    os.killpg(pid, signal.SIGKILL)
    await asyncio.sleep(3)  # the intake's calls and the workers' polls fail meanwhile, and retry
    restarted = time.monotonic()
    await asyncio.to_thread(temporal_cluster.up, cluster.layout)
    serving = round(time.monotonic() - restarted, 1)
    await finish(cluster, load, sending, "C6 Temporal server SIGKILLed and restarted on PostgreSQL", started, at_fault,
                 handover_seconds=serving, handover="restart → serving, namespace usable")


async def test_c7_a_third_worker_and_a_third_streams_member_added_mid_load(cluster: Cluster) -> None:
    started = time.monotonic()
    load = internships(cluster.system.tag, PERSONS, cluster.system.pack)
    await start_members(cluster)
    sending = trickle(cluster, load)
    at_fault = await inbox_reached(cluster, load, 1 / 4)
    fault = time.monotonic()
    await asyncio.gather(cluster.start("worker", 3), cluster.start("streams", 3))
    handover = await wait_handed_over(cluster.system.kafka, cluster.settings.consumer_group, 3, fault)
    await finish(cluster, load, sending, "C7 a third worker and a third streams member added mid-load", started, at_fault,
                 handover_seconds=handover)
