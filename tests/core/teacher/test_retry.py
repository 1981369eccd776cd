"""Retry policy pieces: Retry-After parsing, backoff bounds, the shared slow-down."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from core.teacher.retry import RetryPolicy, SlowDown, parse_retry_after


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25  # ms wins
    assert parse_retry_after({"Retry-After-Ms": "junk", "Retry-After": "3"}) == 3.0
    assert parse_retry_after({"Retry-After": "-4"}) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None and parse_retry_after(None) is None
    when = format_datetime(datetime.fromtimestamp(1_000_030, UTC), usegmt=True)
    assert parse_retry_after({"Retry-After": when}, now=1_000_000) == pytest.approx(30)


def test_backoff_is_exponential_bounded_and_jittered() -> None:
    p = RetryPolicy(max_retries=3, base_s=1, cap_s=5, jitter=0.5, max_wait_s=60)
    for attempt, full in [(1, 1), (2, 2), (3, 4), (4, 5), (9, 5)]:
        delays = {p.delay(attempt) for _ in range(50)}
        assert all(full * 0.5 <= d <= full for d in delays)
        assert len(delays) > 1  # jitter spreads clients apart
    assert p.delay(1, retry_after=7.5) == 7.5  # the server's word wins
    assert p.delay(1, retry_after=600) == 60  # within reason
    assert p.should_retry("rate_limit", 3) and not p.should_retry("rate_limit", 4)
    assert not p.should_retry("bad_request", 1) and not p.should_retry("auth", 1)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


async def test_slowdown_pauses_and_spaces_after_clustered_429s() -> None:
    t = FakeTime()
    sd = SlowDown(
        threshold=3, window_s=10, spacing_s=0.1, recover_after=2, clock=t.clock, sleep=t.sleep
    )
    assert await sd.acquire() == 0 and not sd.active
    sd.rate_limited(1.0)
    t.now += 20  # outside the window: not a cluster
    sd.rate_limited(1.0)
    sd.rate_limited(1.0)
    assert sd.level == 0
    sd.rate_limited(2.0)  # third within 10 s
    assert sd.level == 1 and sd.active
    assert await sd.acquire() == pytest.approx(2.0)  # the pause
    assert await sd.acquire() == pytest.approx(0.1)  # then spaced starts
    for _ in range(3):
        sd.rate_limited(1.0)
    assert sd.level == 2 and sd.spacing() == pytest.approx(0.2)
    for _ in range(4):  # two successes per level back
        sd.succeeded()
    assert sd.level == 0 and sd.spacing() == 0
    t.now += 5
    assert await sd.acquire() == 0 and not sd.active
