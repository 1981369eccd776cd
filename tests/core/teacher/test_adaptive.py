"""Adaptive concurrency (issue 17): the teacher's request limit halves when streams drop or 429s
come in and grows back slowly; against a server that kills the stream in flight on each new
request (llama-cpp-python's `interrupt_requests`) every sample still arrives."""

from __future__ import annotations

import asyncio
from typing import Any

from core.events import ConcurrencyChanged
from core.project import Project
from core.sampling import sample
from core.teacher.retry import AdaptiveLimit
from tests.core.sampling.conftest import answers, demo, demo_template, opts, project  # noqa: F401  (fixtures)
from tests.fake_openai import FakeOpenAIServer


async def test_limit_halves_once_per_step_and_grows_back_slowly() -> None:
    changes: list[tuple[int, str]] = []
    limit = AdaptiveLimit(8, grow_after=2, on_change=lambda n, why: changes.append((n, why)))
    epochs = [await limit.acquire() for _ in range(3)]
    assert limit.in_use == 3 and set(epochs) == {0}
    assert limit.failed("dropped_stream", epochs[0]) and limit.limit == 4
    assert not limit.failed("dropped_stream", epochs[1])  # in flight before the change
    assert not limit.failed("server_error", limit.epoch) and limit.limit == 4  # not load
    assert limit.failed("rate_limit", limit.epoch) and limit.limit == 2
    for _ in range(3):
        await limit.release()
    for _ in range(2 * 2):
        limit.succeeded()
    assert limit.limit == 3 and limit.lowest == 2
    assert changes == [(4, "dropped_stream"), (2, "rate_limit"), (3, "grow")]


async def test_acquire_waits_under_the_lowered_limit() -> None:
    limit = AdaptiveLimit(2)
    e = await limit.acquire()
    await limit.acquire()
    limit.failed("dropped_stream", e)  # limit 1, two in use
    waiter = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0.01)
    await limit.release()
    await asyncio.sleep(0.01)
    assert not waiter.done()  # one still in use: at the limit
    await limit.release()
    assert await asyncio.wait_for(waiter, 1) == limit.epoch


async def test_all_samples_arrive_against_an_interrupting_server(project: Project) -> None:  # noqa: F811
    with FakeOpenAIServer(answers, token_latency_s=0.005, interrupt_requests=True) as srv:
        events: list[Any] = []
        with project.bus.subscribe() as queue:
            summary = await sample(project, opts(srv, {"max_retries": 5}, limit=12, n=2,
                                                 concurrency=8))  # fmt: skip
            while not queue.empty():
                events.append(queue.get_nowait())
        assert srv.interrupted > 0  # the server did cut streams in flight
    assert summary.state == "done" and summary.samples == 24 and summary.samples_missing == 0
    assert summary.requests_failed == 0
    assert summary.concurrency_lowest < 8
    changes = [e for e in events if isinstance(e, ConcurrencyChanged)]
    assert changes and changes[0].limit == 4 and changes[0].why == "dropped_stream"
