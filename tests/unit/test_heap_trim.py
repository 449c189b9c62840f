"""observability/heap_trim.py: freed heap goes back to the OS when trimmed, and the periodic
trim stops with its process."""

from __future__ import annotations

import asyncio
import platform

import pytest

from observability.heap_trim import malloc_trim, trim_heap_periodically

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@glibc
def test_heap_trim_hands_freed_heap_back_to_the_os() -> None:
    """What a burst freed in the middle of the heap stays resident until trimmed: 64 MB of
    1 KB blocks (malloc'd, above pymalloc's small-object limit) freed but for one in 64, which
    keep glibc from shrinking the heap by itself, as the live objects among a burst's garbage do."""
    trim = malloc_trim()
    assert trim is not None
    trim()
    blocks = [bytes(1024 + i % 7) for i in range(64 * 1024)]
    kept = blocks[63::64]
    loaded = rss_kb()
    del blocks
    freed = rss_kb()
    assert loaded - freed < 16 * 1024, "glibc released the freed blocks by itself: the test no longer shows the reason"
    trim()
    trimmed = rss_kb()
    assert freed - trimmed > 32 * 1024, f"RSS {freed} kB before the trim, {trimmed} kB after"
    assert len(kept) == 1024


async def test_heap_trim_periodic_trim_ends_when_its_process_stops() -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(trim_heap_periodically(stop, 0.01, "test"))
    await asyncio.sleep(0.05)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, timeout=2)


async def test_heap_trim_zero_seconds_is_off() -> None:
    await asyncio.wait_for(trim_heap_periodically(asyncio.Event(), 0, "test"), timeout=1)
