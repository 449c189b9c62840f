"""The collector of a long-running process settled after start-up (observability/process_gc.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from contracts.settings import Settings
from observability.process_gc import settle_after_start


@pytest.fixture
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settled_collector_freezes_the_start_up_heap_and_raises_the_young_threshold(collector: None) -> None:
    alive = [object() for _ in range(100)]  # start-up state: it must leave the collector's sight
    _, older, oldest = gc.get_threshold()
    settle_after_start(Settings().gc_gen0_threshold)
    assert gc.get_freeze_count() >= len(alive)
    assert gc.get_threshold() == (Settings().gc_gen0_threshold, older, oldest)
    assert Settings().gc_gen0_threshold > 700  # the default raises Python's


def test_settled_collector_keeps_pythons_threshold_at_zero_and_still_collects_cycles(collector: None) -> None:
    before = gc.get_threshold()
    settle_after_start(0)
    assert gc.get_threshold() == before

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    del a, b
    assert gc.collect() >= 2
