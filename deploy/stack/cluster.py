"""The cluster topology as a whole (`jiuye dev up|down|status --topology cluster`): PostgreSQL
(the same as the single-node stack's), the Temporal server on it, three Kafka nodes, and the
supervised `jiuye streams` and `jiuye worker` members (deploy/stack/topology.py)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from contracts.settings import Settings

from . import kafka_cluster, postgres, processes, temporal_cluster
from .common import ServiceStatus, say, select_services
from .topology import ClusterLayout, Member

# Start order, stopped in reverse: our processes need the others.
SERVICES = ("postgres", "temporal", "kafka", "streams", "worker")


def _members(layout: ClusterLayout, role: str) -> list[Member]:
    return [m for m in processes.running_members(layout) if m.role == role]


def up(settings: Settings, services: Iterable[str] | None = None) -> list[str]:
    """Start the chosen services; timings per service."""
    layout = ClusterLayout(settings)
    timings = []
    for name in select_services(services, SERVICES):
        started = time.monotonic()
        if name == "postgres":
            postgres.up(settings)
        elif name == "temporal":
            temporal_cluster.up(layout)
        elif name == "kafka":
            kafka_cluster.up(layout)
        else:
            # Start every member first and then wait: they connect in parallel.
            pids = {member: processes.start(layout, member, wait=False)
                    for member in layout.members if member.role == name}
            for member, pid in pids.items():
                processes.wait_ready(layout, member, pid)
        timings.append(f"{name} {time.monotonic() - started:.1f}s")
    return timings


def down(settings: Settings, services: Iterable[str] | None = None) -> None:
    layout = ClusterLayout(settings)
    for name in reversed(select_services(services, SERVICES)):
        if name == "postgres":
            postgres.down(settings)
        elif name == "temporal":
            temporal_cluster.down(layout)
        elif name == "kafka":
            kafka_cluster.down(layout)
        else:
            for member in _members(layout, name):
                if processes.member_pid(layout, member) is not None:
                    processes.stop(layout, member)


def status(settings: Settings) -> list[ServiceStatus]:
    layout = ClusterLayout(settings)
    return [postgres.status(settings), temporal_cluster.status(layout), *kafka_cluster.status(layout),
            *processes.status(layout)]


def print_exports(settings: Settings) -> None:
    """How a shell points its `jiuye` commands at this topology."""
    exports = " ".join(f"{k}={v}" for k, v in ClusterLayout(settings).exports().items())
    say(f"cluster: to use it from a shell: export {exports}")
