"""Retry policy for teacher requests: which failures are worth another try, how long to wait,
and a slow-down shared by every request of one teacher when rate limits cluster.

Why our own policy: the openai client's retries are off (max_retries=0) so that one place
decides, every attempt is visible (on_retry -> events, `requests.attempts`), and dropped or
malformed *streams*, which the client never retries, follow the same rule as a 429.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRYABLE = frozenset(
    {"rate_limit", "server_error", "timeout", "connection", "dropped_stream", "malformed_chunk"}
)


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms` (OpenAI) first, then `Retry-After`
    as seconds or an HTTP date. None when absent or unreadable."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter; a server's Retry-After wins (up to `max_wait_s`)."""

    max_retries: int = 5
    base_s: float = 0.5
    cap_s: float = 20.0
    max_wait_s: float = 120.0
    jitter: float = 0.5  # the delay is drawn from [d*(1-jitter), d]

    def should_retry(self, error_class: str, attempt: int) -> bool:
        """`attempt` is the number of the attempt that just failed (1-based)."""
        return error_class in RETRYABLE and attempt <= self.max_retries

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_wait_s)
        d = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return d * (1 - self.jitter * random.random())


class SlowDown:
    """Shared pacing for one teacher: when `threshold` rate limits land within `window_s`, every
    request waits out the pause and further starts are spaced `spacing_s * 2**(level-1)` apart;
    each `recover_after` successes in a row drop one level. Hammering a rate-limited endpoint
    with 32 concurrent retries only earns more 429s."""

    def __init__(
        self,
        *,
        threshold: int = 3,
        window_s: float = 10.0,
        spacing_s: float = 0.05,
        max_level: int = 6,
        recover_after: int = 20,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.spacing_s = spacing_s
        self.max_level = max_level
        self.recover_after = recover_after
        self.level = 0
        self._clock = clock
        self._sleep = sleep
        self._hits: deque[float] = deque()
        self._pause_until = 0.0
        self._next_start = 0.0
        self._successes = 0

    @property
    def active(self) -> bool:
        return self.level > 0 or self._pause_until > self._clock()

    def rate_limited(self, wait_s: float) -> None:
        """A 429 arrived; `wait_s` is what this request will wait before its retry."""
        now = self._clock()
        self._successes = 0
        self._hits.append(now)
        while self._hits and self._hits[0] < now - self.window_s:
            self._hits.popleft()
        if len(self._hits) >= self.threshold:
            self.level = min(self.level + 1, self.max_level)
            self._pause_until = max(self._pause_until, now + wait_s)
            self._hits.clear()

    def succeeded(self) -> None:
        if self.level == 0:
            return
        self._successes += 1
        if self._successes >= self.recover_after:
            self.level -= 1
            self._successes = 0

    def spacing(self) -> float:
        return self.spacing_s * 2 ** (self.level - 1) if self.level else 0.0

    async def acquire(self) -> float:
        """Wait until this request may start; returns the seconds waited."""
        now = self._clock()
        start = max(now, self._pause_until)
        if self.level:
            start = max(start, self._next_start)
            self._next_start = start + self.spacing()
        wait = start - now
        if wait > 0:
            await self._sleep(wait)
        return max(wait, 0.0)


class AdaptiveLimit:
    """How many HTTP calls of one teacher may stream at once: multiplicative back-off when
    streams drop or 429s come in, slow growth back. A server that kills the stream in flight
    when a new request arrives (llama-cpp-python's `interrupt_requests`) or that sheds load
    makes a fixed concurrency of 8 lose most of its requests; halving on each such failure
    settles at what the server takes. Only a call started at the current limit can lower it
    (one halving per step down, not one per request that was already in flight), and
    `grow_after * limit` successes in a row raise it by one, up to `maximum`.
    Retries take a slot again, so they queue under the lowered limit too."""

    BACK_OFF = frozenset({"dropped_stream", "rate_limit", "malformed_chunk"})

    def __init__(self, maximum: int = 1024, *, grow_after: int = 4,
                 on_change: Callable[[int, str], None] | None = None) -> None:  # fmt: skip
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.lowest = self.maximum
        self.grow_after = grow_after
        self.on_change = on_change
        self.in_use = 0
        self.epoch = 0  # bumped whenever the limit changes
        self._successes = 0
        self._cond = asyncio.Condition()

    def set_maximum(self, maximum: int) -> None:
        """The caller's own concurrency: the limit never grows past it."""
        self.maximum = max(1, maximum)
        self.limit = min(self.limit, self.maximum) if self.epoch else self.maximum
        self.lowest = min(self.lowest, self.limit)

    async def acquire(self) -> int:
        """Wait for a slot; returns the epoch the call starts in (give it to `failed`)."""
        async with self._cond:
            while self.in_use >= self.limit:
                await self._cond.wait()
            self.in_use += 1
            return self.epoch

    async def release(self) -> None:
        async with self._cond:
            self.in_use -= 1
            self._cond.notify_all()

    def succeeded(self) -> None:
        self._successes += 1
        if self.limit < self.maximum and self._successes >= self.grow_after * self.limit:
            self._successes = 0
            self._set(self.limit + 1, "grow")

    def failed(self, error_class: str, epoch: int) -> bool:
        """A call failed; True when that lowered the limit."""
        if error_class not in self.BACK_OFF:
            return False
        self._successes = 0
        if epoch != self.epoch or self.limit <= 1:
            return False  # started before the last change: it did not see the current limit
        self._set(max(1, self.limit // 2), error_class)
        return True

    def _set(self, limit: int, why: str) -> None:
        self.limit = limit
        self.lowest = min(self.lowest, limit)
        self.epoch += 1
        if self.on_change is not None:
            self.on_change(limit, why)
