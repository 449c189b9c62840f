"""Fixtures of the cluster fault tier: the cluster topology of the local stack started for the
session (the production Temporal server on PostgreSQL, three Kafka nodes) on its own ports
(`cluster_port_base` + 100, so a developer's `jiuye dev up --topology cluster` is left alone)
and its own state under pytest's temporary folder, its topics under a run prefix; per test a fresh database, consumer group and
task queue, with `jiuye streams` and `jiuye worker` members started through the same supervisor
as `jiuye dev` (deploy/stack/processes.py). Everything started here is stopped here, by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from activities.pg_store import create_pool
from contracts.settings import Settings, get_settings
from contracts.temporal import connect
from contracts.topics import INPUT_TOPICS
from deploy import stack
from deploy.stack import kafka_cluster, postgres, processes, temporal_cluster
from deploy.stack.common import run_async
from deploy.stack.postgres import drop_database, parse_url, with_database
from deploy.stack.topology import ClusterLayout, KafkaNode, Member
from policy.pack import load_pack
from testkit.kafka import KafkaProbe
from testkit.run_topics import RunTopics, new_run_prefix
from tests.e2e.conftest import OUTPUT_TOPICS, System, TopicTail
from tests.faults import _invariants

PORT_OFFSET = 100  # from the configured cluster_port_base: the tier's own ports
FIGURES = Path(__file__).resolve().parents[2] / "test-artifacts" / "cluster.json"


@pytest.fixture(scope="package")
def cluster_layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterLayout]:
    """The cluster topology for this tier: started fresh, and stopped and its Temporal databases
    dropped after the tier's last test (package scope: the other tiers never run beside it)."""
    base = get_settings()
    if not postgres.status(base).running:
        stack.up(base, ["postgres"])
    target = parse_url(base.database_url)
    settings = base.model_copy(update={
        "cluster_port_base": base.cluster_port_base + PORT_OFFSET,
        "state_dir": tmp_path_factory.mktemp("cluster-state"),
        # Names the tier's Temporal databases (temporal_<db>_ct, …), apart from a dev cluster's.
        "database_url": with_database(base.database_url, f"{target.database}_ct"),
        "kafka_replication_factor": 3,
        "kafka_min_insync_replicas": 2,
        # The tier's own topics (testkit/run_topics.py), as in every test session.
        "topic_prefix": new_run_prefix(base.topic_prefix),
    })
    layout = ClusterLayout(settings)
    run_async(lambda: temporal_cluster.drop_databases(layout))
    try:
        temporal_cluster.up(layout)
        kafka_cluster.up(layout)
        yield layout
    finally:
        for member in processes.running_members(layout):
            if processes.member_pid(layout, member) is not None:
                processes.stop(layout, member)
        with contextlib.suppress(Exception):  # the nodes' data is the tier's and goes with it anyway
            run_async(lambda: RunTopics(layout.client_settings()).delete(settings.topic_prefix))
        kafka_cluster.down(layout)
        temporal_cluster.down(layout)
        run_async(lambda: temporal_cluster.drop_databases(layout))


@pytest.fixture(autouse=True)
def cluster_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """This tier's figures go to test-artifacts/cluster.json, not into the fault suite's table."""
    monkeypatch.setattr(_invariants, "FIGURES", FIGURES)


@dataclass
class Cluster:
    """One test's view of the cluster: the `System` the invariants read, and its members."""

    layout: ClusterLayout  # the session's (Temporal, Kafka nodes)
    members_layout: ClusterLayout  # this test's (its members' folders, pid files and logs)
    system: System
    started: list[Member] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.system.settings

    def member(self, role: str, index: int) -> Member:
        return self.members_layout.member(role, index)

    async def start(self, role: str, index: int, *, wait: bool = True) -> float:
        """Start a member with this test's settings; seconds until it was ready. (The supervisor
        blocks while it waits; a thread keeps this test's event loop, and its topic tail, going.)"""
        member = self.member(role, index)
        if member not in self.started:  # before it starts: one that fails to get ready is stopped too
            self.started.append(member)
        began = time.monotonic()
        await asyncio.to_thread(processes.start, self.members_layout, member, self.settings, wait=wait)
        return time.monotonic() - began

    async def stop(self, role: str, index: int) -> None:
        """SIGTERM, as a rolling deploy does."""
        await asyncio.to_thread(processes.stop, self.members_layout, self.member(role, index))

    async def kill(self, role: str, index: int) -> None:
        await asyncio.to_thread(processes.kill, self.members_layout, self.member(role, index))

    def log_tail(self, role: str, index: int) -> str:
        log = self.members_layout.home / f"{role}-{index}" / f"{role}.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else "(no log)"

    def node(self, node_id: int) -> KafkaNode:
        return self.layout.kafka_nodes[node_id - 1]


@pytest.fixture
async def cluster(cluster_layout: ClusterLayout, tmp_path: Path) -> AsyncIterator[Cluster]:
    """A fresh database, consumer group (starting at the topics' ends) and task queue on the
    session's cluster; the test starts the members it needs, all stopped at the end."""
    tag = uuid.uuid4().hex[:10]
    database = f"jiuye_ct_{tag}"
    base = cluster_layout.client_settings()
    async with contextlib.AsyncExitStack() as stack_:
        stack_.push_async_callback(drop_database, database, base)
        url = await stack.fresh_database(database, base)
        settings = base.model_copy(update={
            "database_url": url,
            "temporal_task_queue": f"cluster-{tag}",
            "consumer_group": f"jiuye-cluster-{tag}",
            "state_dir": tmp_path / "state",
            # Seven processes of ours and the Temporal server share one PostgreSQL with everything
            # else on the machine (max_connections 100 by default): small pools.
            "database_pool_max": 4,
        })
        probe = KafkaProbe(settings)
        await probe.start()
        stack_.push_async_callback(probe.stop)
        await probe.start_group_at_end(settings.consumer_group, INPUT_TOPICS)
        pool = await create_pool(url, 4)
        stack_.push_async_callback(pool.close)
        client = await connect(settings)
        tail = TopicTail(settings, OUTPUT_TOPICS)
        await tail.start(probe)
        stack_.push_async_callback(tail.stop)
        system = System(settings=settings, pool=pool, client=client, pack=load_pack(settings.policy_pack),
                        tail=tail, kafka=probe, folder=tmp_path, tag=tag)
        view = Cluster(layout=cluster_layout, members_layout=ClusterLayout(settings), system=system)

        async def stop_members() -> None:
            for member in reversed(view.started):
                if processes.member_pid(view.members_layout, member) is not None:
                    await asyncio.to_thread(processes.stop, view.members_layout, member)

        stack_.push_async_callback(stop_members)
        yield view
