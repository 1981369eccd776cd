"""Typed engine events and the in-process bus the TUI subscribes to.

Events are frozen dataclasses so a subscriber can keep them; publishing never blocks the engine:
a slow subscriber's queue drops the oldest *coalescible* events (token deltas) first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from time import time


@dataclass(frozen=True, slots=True)
class Event:
    """Base class; `at` is the wall-clock time of publication."""

    at: float = field(default_factory=time, kw_only=True)

    coalescible = False


@dataclass(frozen=True, slots=True)
class RunStateChanged(Event):
    run_id: int
    state: str  # created | running | paused | stopped | done | failed
    message: str = ""


@dataclass(frozen=True, slots=True)
class RequestStarted(Event):
    run_id: int
    request_id: int
    problem_id: str
    n: int


@dataclass(frozen=True, slots=True)
class TokensStreamed(Event):
    run_id: int
    request_id: int
    problem_id: str
    choice: int
    text: str

    coalescible = True


@dataclass(frozen=True, slots=True)
class RequestFinished(Event):
    run_id: int
    request_id: int
    problem_id: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float


@dataclass(frozen=True, slots=True)
class RequestFailed(Event):
    run_id: int
    request_id: int
    problem_id: str
    error_class: str
    message: str
    final: bool  # False: will be retried


@dataclass(frozen=True, slots=True)
class CandidateAdded(Event):
    candidate_id: int
    problem_id: str
    source: str
    run_id: int | None = None


@dataclass(frozen=True, slots=True)
class CandidateVerified(Event):
    candidate_id: int
    problem_id: str
    status: str
    detail: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class BudgetExhausted(Event):
    run_id: int
    spent_usd: float
    budget_usd: float


@dataclass(frozen=True, slots=True)
class ConcurrencyChanged(Event):
    """The teacher's adaptive request limit moved (`why`: the failure class, or "grow")."""

    run_id: int
    limit: int
    why: str


@dataclass(frozen=True, slots=True)
class TeacherNotice(Event):
    """Something about the endpoint worth one line, said once (n fallback, unknown model)."""

    run_id: int
    kind: str  # "n_fallback" | "model_not_listed" | "usage_estimated"
    message: str


@dataclass(frozen=True, slots=True)
class TrainProgressed(Event):
    train_run_id: int
    step: int
    max_steps: int
    loss: float | None = None
    lr: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """Something a person should see (a warning that is not an error)."""

    message: str
    severity: str = "information"  # information | warning | error


class EventBus:
    """Fan-out of events to subscribers, each with its own bounded queue."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._maxsize = maxsize

    def publish(self, event: Event) -> None:
        for queue in self._queues:
            if queue.full():
                self._make_room(queue)
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @staticmethod
    def _make_room(queue: asyncio.Queue[Event]) -> None:
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()

    @contextlib.contextmanager
    def subscribe(self) -> contextlib.AbstractContextManager[asyncio.Queue[Event]]:  # type: ignore[misc]
        queue: asyncio.Queue[Event] = asyncio.Queue(self._maxsize)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    async def stream(self) -> AsyncIterator[Event]:
        """Iterate events until cancelled."""
        with self.subscribe() as queue:
            while True:
                yield await queue.get()
