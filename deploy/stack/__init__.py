"""The local stack behind `jiuye dev`: Temporal dev server, Apache Kafka (KRaft) and PostgreSQL
on this machine, each started detached, waited for until healthy, and idempotent.

Two topologies: `single` (the default: dev server on SQLite, one broker; the tests' and
`make demo`'s stack) and `cluster` (deploy/stack/cluster.py: the production Temporal server on
PostgreSQL, three Kafka nodes, two streams and two worker processes).

State (data, logs, pid files) lives under `Settings.state_dir`, one folder per service;
PostgreSQL is Debian's own cluster and keeps its data where Debian puts it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from contracts.settings import Settings, get_settings

from . import cluster, kafka, postgres, temporal
from .common import ServiceStatus, StackError, say, select_services, stack_lock
from .postgres import drop_database, fresh_database

# Start order, stopped in reverse. No service needs another; Kafka goes last because it takes
# longest to become ready, so the quick ones are usable meanwhile.
SERVICES = {"postgres": postgres, "temporal": temporal, "kafka": kafka}
TOPOLOGIES = ("single", "cluster")

__all__ = ["SERVICES", "TOPOLOGIES", "ServiceStatus", "StackError", "down", "drop_database", "fresh_database", "status", "up"]


def _topology(topology: str) -> str:
    if topology not in TOPOLOGIES:
        raise StackError(f"unknown topology {topology!r}; choose from {', '.join(TOPOLOGIES)}")
    return topology


def up(settings: Settings | None = None, services: Iterable[str] | None = None, topology: str = "single") -> None:
    """Start the chosen services (all by default) and wait until each is healthy; a service
    that already runs is left alone. Raises StackError with the service's log tail on failure."""
    settings = settings or get_settings()
    with stack_lock(settings.state_dir):
        if _topology(topology) == "cluster":
            timings = cluster.up(settings, services)
            cluster.print_exports(settings)
        else:
            timings = []
            for name in select_services(services, SERVICES):
                started = time.monotonic()
                SERVICES[name].up(settings)
                timings.append(f"{name} {time.monotonic() - started:.1f}s")
    say(f"up ({', '.join(timings)})")


def down(settings: Settings | None = None, services: Iterable[str] | None = None, topology: str = "single") -> None:
    """Stop the chosen services (all by default); their data stays for the next `up`."""
    settings = settings or get_settings()
    with stack_lock(settings.state_dir):
        if _topology(topology) == "cluster":
            cluster.down(settings, services)
            return
        for name in reversed(select_services(services, SERVICES)):
            SERVICES[name].down(settings)


def status(settings: Settings | None = None, topology: str = "single") -> list[ServiceStatus]:
    """One ServiceStatus per service (per node and process on the cluster topology); `running`
    means healthy (answering), not merely alive."""
    settings = settings or get_settings()
    if _topology(topology) == "cluster":
        return cluster.status(settings)
    return [module.status(settings) for module in SERVICES.values()]
