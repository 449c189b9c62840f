"""The garbage collector of a long-running process (`jiuye streams`, `jiuye worker`), settled once
start-up is done.

Why: CPython runs a young-generation collection every 700 net allocations, and an occasional
full one that walks every object still alive. A firehose batch allocates tens of thousands of
short-lived objects (records, events, argument lists) that reference counting frees anyway, so
at the default threshold the collector ran about a thousand times per 60,000 records and the
full collections walked the whole start-up heap (modules, the policy pack, the clients): a
quarter of the intake's CPU in `bench.intake_profile` (docs/BENCHMARKS.md). So, after start-up:
- `gc.freeze()` moves what start-up allocated (alive for the life of the process) out of the
  collector's sight: full collections walk only what came after;
- the young generation's threshold is raised (`gc_gen0_threshold`): cycles are still found and
  freed, a few thousand objects later. 0 leaves Python's threshold as it is.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("jiuye.gc")


def settle_after_start(gen0_threshold: int) -> None:
    """Freeze the start-up heap and set the young generation's threshold (0: Python's)."""
    gc.collect()
    gc.freeze()
    if gen0_threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(gen0_threshold, older, oldest)
    log.info("gc: %d start-up objects frozen; thresholds %s", gc.get_freeze_count(), gc.get_threshold())
