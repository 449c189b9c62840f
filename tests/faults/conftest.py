"""Fixtures of the fault-injection tier: the e2e tier's real-stack fixtures (a fresh database,
the `jiuye-e2e` namespace, a uuid task queue and a fresh consumer group per test), reused as is."""

from __future__ import annotations

from tests.e2e.conftest import bare_system, e2e_settings, kafka, stack_settings, system  # noqa: F401
