"""The local stack behind `jiuye dev`: Temporal dev server, Apache Kafka (KRaft) and PostgreSQL
on this machine, each started detached, waited for until healthy, and idempotent.

State (data, logs, pid files) lives under `Settings.state_dir`, one folder per service;
PostgreSQL is Debian's own cluster and keeps its data where Debian puts it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from contracts.settings import Settings, get_settings

from . import kafka, postgres, temporal
from .common import ServiceStatus, StackError, say, stack_lock
from .postgres import fresh_database

# Start order, stopped in reverse. No service needs another; Kafka goes last because it takes
# longest to become ready, so the quick ones are usable meanwhile.
SERVICES = {"postgres": postgres, "temporal": temporal, "kafka": kafka}

__all__ = ["SERVICES", "ServiceStatus", "StackError", "down", "fresh_database", "status", "up"]


def _select(services: Iterable[str] | None) -> list[str]:
    if services is None:
        return list(SERVICES)
    wanted = set(services)
    unknown = wanted - set(SERVICES)
    if unknown:
        raise StackError(f"unknown service(s): {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}")
    return [name for name in SERVICES if name in wanted]


def up(settings: Settings | None = None, services: Iterable[str] | None = None) -> None:
    """Start the chosen services (all by default) and wait until each is healthy; a service
    that already runs is left alone. Raises StackError with the service's log tail on failure."""
    settings = settings or get_settings()
    timings = []
    with stack_lock(settings.state_dir):
        for name in _select(services):
            started = time.monotonic()
            SERVICES[name].up(settings)
            timings.append(f"{name} {time.monotonic() - started:.1f}s")
    say(f"up ({', '.join(timings)})")


def down(settings: Settings | None = None, services: Iterable[str] | None = None) -> None:
    """Stop the chosen services (all by default); their data stays for the next `up`."""
    settings = settings or get_settings()
    with stack_lock(settings.state_dir):
        for name in reversed(_select(services)):
            SERVICES[name].down(settings)


def status(settings: Settings | None = None) -> list[ServiceStatus]:
    """One ServiceStatus per service; `running` means healthy (answering), not merely alive."""
    settings = settings or get_settings()
    return [module.status(settings) for module in SERVICES.values()]
