"""Benchmarks: `python -m bench [area ...]` runs `bench/<area>_bench.py:main()` (all by default).

Speed is measured here, never asserted in tests. Each bench prints medians over repeats and,
where there is a baseline, the side-by-side ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any


def median_time(fn: Callable[[], Any], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of fn() in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def median_time_async(
    fn: Callable[[], Awaitable[Any]], repeats: int = 7, warmup: int = 1
) -> float:
    """Median wall time of `await fn()` in seconds."""
    for _ in range(warmup):
        await fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"
