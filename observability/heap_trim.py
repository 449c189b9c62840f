"""Hand the heap a burst freed back to the operating system (glibc `malloc_trim`), every few
seconds, in `jiuye worker` and `jiuye streams`.

Why: after a burst (an intake of thousands of claims, a month's contribution file) both
processes have freed most of what the burst allocated — workflow runs evicted from the sticky
cache, activation and batch buffers — but glibc keeps freed chunks inside its heaps and arenas
(one per thread that allocated: the SDK's and aiokafka's threads too), so the resident memory
stays at the burst's peak however few cases are in memory afterwards. `malloc_trim(0)` returns
the free pages of every arena (madvise), which is what a process's resident size should show
between bursts. A call takes milliseconds; it runs in a thread so the event loop keeps going.
Where there is no glibc (musl, macOS) it is off, and says so once.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Callable

log = logging.getLogger("jiuye.heap")


def malloc_trim() -> Callable[[], int] | None:
    """glibc's `malloc_trim(0)` as a call returning 1 when memory was released, or None."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


async def trim_heap_periodically(stop: asyncio.Event, every_seconds: float, process: str) -> None:
    """Until `stop` is set, trim the heap every `every_seconds` (0 or less: never)."""
    if every_seconds <= 0:
        return
    trim = malloc_trim()
    if trim is None:
        log.info("%s: no glibc malloc_trim here; freed heap stays with the process", process)
        return
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
        except asyncio.TimeoutError:
            await asyncio.to_thread(trim)
