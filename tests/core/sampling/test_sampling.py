"""core.sampling against the fake OpenAI server (real HTTP, real openai client) on demo problems."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.errors import ConfigError, TeacherError
from core.events import (
    BudgetExhausted,
    CandidateAdded,
    CandidateVerified,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RunStateChanged,
    TokensStreamed,
)
from core.project import Project
from core.queries.runs import run_by_name
from core.sampling import RunControl, dry_run, sample
from tests.core.sampling.conftest import RIGHT, opts, received
from tests.fake_openai import FakeOpenAIServer


async def _collect(project: Project, coro: Any) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    with project.bus.subscribe() as queue:
        result = await coro
        while not queue.empty():
            events.append(queue.get_nowait())
    return result, events


async def test_run_end_to_end_streams_stores_and_verifies(project: Project, server: Any) -> None:
    summary, events = await _collect(
        project, sample(project, opts(server, limit=4, n=4, verify=True, run="e2e"))
    )
    assert summary.state == "done" and summary.created
    assert (summary.requests_done, summary.requests_failed, summary.samples) == (4, 0, 16)
    assert summary.prompt_tokens > 0 and summary.completion_tokens > 0
    # one request per problem with n=4: the prompt is sent once
    bodies = received(server)
    assert len(bodies) == 4 and all(b["n"] == 4 and b["stream"] for b in bodies)
    rows = await project.store.fetchall(
        "SELECT c.problem_id, c.sample_index, c.code, c.raw, v.status FROM candidates c"
        " JOIN verdicts v ON v.candidate_id = c.id WHERE c.run_id = ? ORDER BY c.id",
        (summary.run_id,),
    )
    assert len(rows) == 16
    assert all(r["code"].startswith("def solution():") for r in rows)  # PAL prefix continued
    assert all(r["code"] == "def solution():" + r["raw"] for r in rows)  # raw kept beside
    passed = {(r["problem_id"], r["sample_index"]) for r in rows if r["status"] == "pass"}
    assert len(passed) == 2 * len(RIGHT)  # even choices of the two solvable problems
    assert summary.verdicts == {"pass": 4, "fail": 12}
    req = await project.store.fetchall("SELECT * FROM requests WHERE run_id = ?", (summary.run_id,))
    assert all(r["status"] == "done" and r["attempts"] == 1 for r in req)
    assert all(r["latency_s"] > 0 and r["ttft_s"] is not None for r in req)
    kinds = {type(e) for e in events}
    assert {RequestStarted, TokensStreamed, RequestFinished, CandidateAdded, CandidateVerified,
            RunStateChanged} <= kinds  # fmt: skip
    assert [e.state for e in events if isinstance(e, RunStateChanged)][-1] == "done"
    run = await run_by_name(project.store, "e2e")
    assert run is not None and run.status == "done" and run.prompts["answer"].id is not None


async def test_rerun_continues_and_sends_only_missing_samples(
    project: Project, server: Any
) -> None:
    first = await sample(project, opts(server, limit=2, n=2))
    assert len(received(server)) == 2
    again = await sample(project, opts(server, limit=2, n=2))  # the same command: same run
    assert again.name == first.name and not again.created
    assert again.requests_planned == 0 and len(received(server)) == 2
    server.clear()
    grown = await sample(project, opts(server, limit=3, n=3))  # n is not part of the identity
    assert grown.name == first.name
    bodies = received(server)
    # problems 1-2 need sample 2 only (n=1 each); problem 3 needs samples 0..2 (n=3)
    assert sorted(b["n"] for b in bodies) == [1, 1, 3]
    assert grown.samples == 5
    idx = await project.store.fetchall(
        "SELECT problem_id, count(*), min(sample_index), max(sample_index) FROM candidates"
        " WHERE run_id = ? GROUP BY problem_id",
        (first.run_id,),
    )
    assert [tuple(r)[1:] for r in idx] == [(3, 0, 2)] * 3


async def test_unfinished_request_is_sent_again_completed_never(
    project: Project, server: Any
) -> None:
    s = await sample(project, opts(server, limit=3, n=2, run="crash"))
    # what a kill -9 mid-request leaves: a pending row whose candidates were never committed
    victim = await project.store.fetchone(
        "SELECT id, problem_id FROM requests WHERE run_id = ? ORDER BY id LIMIT 1", (s.run_id,)
    )
    async with project.store.transaction() as conn:
        await conn.execute("DELETE FROM candidates WHERE request_id = ?", (victim["id"],))
        await conn.execute("UPDATE requests SET status = 'pending' WHERE id = ?", (victim["id"],))
    server.clear()
    again = await sample(project, opts(server, limit=3, n=2, run="crash"))
    assert len(received(server)) == 1 and again.samples == 2
    assert (
        await project.store.scalar("SELECT count(*) FROM candidates WHERE run_id = ?", (s.run_id,))
        == 6
    )
    assert await project.store.scalar("SELECT count(*) FROM requests WHERE run_id = ?",
                                      (s.run_id,)) == 3  # fmt: skip


async def test_failed_request_is_recorded_and_the_run_goes_on(
    project: Project, server: FakeOpenAIServer
) -> None:
    server.fail_next("server_error", times=10, match="A school bus carries 42")
    summary, events = await _collect(project, sample(project, opts(server, limit=3, n=2)))
    # issue 17: a request that fails its last retry is sent once more at the end; samples still
    # missing then end the run `incomplete` (it used to say `done`)
    assert summary.state == "incomplete" and summary.samples_missing == 2
    assert (summary.requests_done, summary.requests_failed, summary.samples) == (2, 1, 4)
    row = await project.store.fetchone(
        "SELECT status, error_class, error, attempts FROM requests WHERE status = 'failed'"
    )
    assert row["error_class"] == "server_error" and "500" in row["error"]
    assert row["attempts"] == 2  # its one attempt (max_retries 0) and the final retry pass
    assert any(isinstance(e, RequestFailed) and e.final for e in events)
    server.clear()  # the failed request is not completed: a rerun sends it (and only it)
    again = await sample(project, opts(server, limit=3, n=2))
    assert len(received(server)) == 1 and again.samples == 2


async def test_retries_are_reported_and_counted(project: Project, server: FakeOpenAIServer) -> None:
    server.fail_next("rate_limit", times=1, retry_after=0.01)
    summary, events = await _collect(
        project, sample(project, opts(server, {"max_retries": 2}, limit=1, n=2))
    )
    assert summary.requests_done == 1
    assert await project.store.scalar("SELECT attempts FROM requests") == 2
    assert any(isinstance(e, RequestFailed) and not e.final for e in events)


async def test_budget_stops_issuing_before_the_spend_passes_it(
    project: Project, server: FakeOpenAIServer
) -> None:
    # completion bound per request: 2 samples × 10 tokens × $1000/M = $0.02
    teacher = {"price_completion": 1000.0, "price_prompt": 0.0}
    summary, events = await _collect(
        project,
        sample(
            project,
            opts(server, teacher, limit=6, n=2, max_tokens=10, budget_usd=0.05, concurrency=1),
        ),
    )
    assert summary.budget_exhausted and summary.state == "stopped"
    assert summary.run_cost_usd <= 0.05
    # actual answers are 5 tokens each ($0.01 a request): more fit than the bound alone allows
    assert 2 <= summary.requests_done < 6 and len(received(server)) == summary.requests_done
    assert "budget" in summary.message
    assert any(isinstance(e, BudgetExhausted) for e in events)
    # a rerun with the same budget sends nothing more: the run's spend counts
    again = await sample(project, opts(server, teacher, limit=6, n=2, max_tokens=10,
                                       budget_usd=0.05, run=summary.name))  # fmt: skip
    assert again.requests_done == 0 and again.budget_exhausted


async def test_dry_run_sends_and_writes_nothing(project: Project, server: FakeOpenAIServer) -> None:
    counts = "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM requests),"
    counts += " (SELECT count(*) FROM prompts), (SELECT count(*) FROM candidates)"
    before = tuple(await project.store.fetchone(counts))
    teacher = {"price_prompt": 1.0, "price_completion": 2.0}
    plan = await dry_run(project, opts(server, teacher, limit=5, n=4, max_tokens=100))
    assert tuple(await project.store.fetchone(counts)) == before
    assert received(server) == []
    assert (plan.problems, plan.requests, plan.samples) == (5, 5, 20)
    assert plan.completion_tokens_bound == 5 * 4 * 100
    assert plan.prompt_tokens > 5 * 200 and not plan.exists
    assert plan.cost_bound_usd >= (plan.prompt_tokens * 1.0 + 2000 * 2.0) / 1e6
    await sample(project, opts(server, teacher, limit=2, n=4, max_tokens=100, run=plan.run))
    later = await dry_run(project, opts(server, teacher, limit=5, n=4, max_tokens=100))
    assert later.exists and later.requests == 3 and later.already_done == 8


async def test_pause_resume_and_stop_mid_run(project: Project) -> None:
    with FakeOpenAIServer(token_latency_s=0.01, capacity=1) as srv:
        control = RunControl()
        with project.bus.subscribe() as queue:
            task = asyncio.create_task(
                sample(project, opts(srv, limit=8, n=1, concurrency=1, run="pr"), control=control)
            )
            while not isinstance(await queue.get(), RequestFinished):
                pass
            control.pause()
            while not (isinstance(e := await queue.get(), RunStateChanged) and e.state == "paused"):
                pass
            sent = len(received(srv))
            await asyncio.sleep(0.3)
            assert len(received(srv)) == sent  # paused: nothing new is issued
            control.resume()
            while not isinstance(started := await queue.get(), RequestStarted):
                pass
            while not (
                isinstance(e := await queue.get(), RequestFinished)
                and e.request_id == started.request_id
            ):
                pass
            assert len(received(srv)) > sent
            control.stop()
            summary = await task
        assert summary.state == "stopped" and 0 < summary.samples < 8
        status = await project.store.scalar("SELECT status FROM runs WHERE name = 'pr'")
        assert status == "stopped"
        done_before = {
            r[0]
            for r in await project.store.fetchall(
                "SELECT problem_id FROM requests WHERE status = 'done'"
            )
        }
        srv.clear()
        rest = await sample(project, opts(srv, limit=8, n=1, concurrency=1, run="pr"))
        assert rest.state == "done"
        again = [b["prompt"][-400:] for b in received(srv)]
        assert len(again) == 8 - len(done_before)
        total = await project.store.scalar("SELECT count(*) FROM candidates WHERE run_id = ?",
                                           (rest.run_id,))  # fmt: skip
        assert total == 8


async def test_unreachable_teacher_leaves_no_run(project: Project) -> None:
    with FakeOpenAIServer() as srv:
        options = opts(srv, limit=2, n=1)
    # the server is gone: nothing listens at its address any more
    with pytest.raises(TeacherError, match="cannot reach"):
        await sample(project, options)
    assert await project.store.scalar("SELECT count(*) FROM runs") == 0
    assert await project.store.scalar("SELECT count(*) FROM requests") == 0


async def test_wrong_key_is_one_line_and_no_run(project: Project) -> None:
    with FakeOpenAIServer(api_key="right") as srv:
        options = opts(srv, {"api_key_env": "EKT_TEST_KEY"}, limit=2, n=1)
        import os

        os.environ["EKT_TEST_KEY"] = "wrong"
        try:
            with pytest.raises(TeacherError) as info:
                await sample(project, options)
        finally:
            del os.environ["EKT_TEST_KEY"]
    assert "\n" not in str(info.value) and "key" in str(info.value)
    assert await project.store.scalar("SELECT count(*) FROM runs") == 0


async def test_bad_options_fail_before_anything(project: Project, server: Any) -> None:
    with pytest.raises(ConfigError, match="n"):
        await sample(project, opts(server, n=0))
    with pytest.raises(ConfigError, match="no such problem"):
        await sample(project, opts(server, problems=["nope"]))
    with pytest.raises(ConfigError, match="split"):
        await sample(project, opts(server, split="validation"))
    await sample(project, opts(server, limit=1, n=1, run="fixed", temperature=0.5))
    with pytest.raises(ConfigError, match="temperature"):
        await sample(project, opts(server, limit=1, n=1, run="fixed", temperature=0.9))
    assert received(server)  # only the valid run was sent
    assert await project.store.scalar("SELECT count(*) FROM runs") == 1


async def test_chat_mode_takes_fenced_code(project: Project) -> None:
    answer = "Here you go:\n```python\ndef solution():\n    return 42 - 9 + 5 - 12\n```\nDone."
    with FakeOpenAIServer({"A school bus carries 42": answer}) as srv:
        summary = await sample(
            project,
            opts(srv, {"mode": "chat"}, problems=["sample-math/train/1"], n=1, verify=True),
        )
        assert srv.completion_requests[0].path.endswith("chat/completions")
        assert not srv.completion_requests[0].body.get("stop")  # code stops would cut the fence
    row = await project.store.fetchone(
        "SELECT c.code, c.raw, v.status FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
    )
    assert row["code"] == "def solution():\n    return 42 - 9 + 5 - 12\n"
    assert row["raw"] == answer and row["status"] == "pass" and summary.samples == 1


async def test_unverified_samples_of_a_resumed_run_get_verdicts(
    project: Project, server: Any
) -> None:
    await sample(project, opts(server, limit=2, n=2, run="v"))  # verify off
    assert await project.store.scalar("SELECT count(*) FROM verdicts") == 0
    summary = await sample(project, opts(server, limit=2, n=2, run="v", verify=True))
    assert summary.requests_planned == 0
    assert await project.store.scalar("SELECT count(*) FROM verdicts") == 4


async def test_cancelled_call_leaves_a_stopped_resumable_run(project: Project) -> None:
    with FakeOpenAIServer(token_latency_s=0.01, capacity=1) as srv:
        with project.bus.subscribe() as queue:
            task = asyncio.create_task(sample(project, opts(srv, limit=6, n=1, run="c")))
            while not isinstance(await queue.get(), RequestFinished):
                pass
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert await project.store.scalar("SELECT status FROM runs WHERE name = 'c'") == "stopped"
        rest = await sample(project, opts(srv, limit=6, n=1, run="c"))
    assert rest.state == "done"
    assert await project.store.scalar("SELECT count(*) FROM candidates") == 6
