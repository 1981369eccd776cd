"""Completeness (issue 17): a request that fails its last retry is sent once more after all the
others; samples still missing end the run `incomplete` with the failure reasons counted (summary,
`ekt status --json`), and `ekt sample` exits 3 with a one-line hint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from core.cli import cli
from core.events import RequestFailed
from core.project import Project
from core.queries.runs import run_core, run_failures
from core.sampling import sample
from tests.core.sampling.conftest import opts
from tests.fake_openai import FakeOpenAIServer

BUS = "A school bus carries 42"


async def _collect(project: Project, coro: Any) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    with project.bus.subscribe() as queue:
        result = await coro
        while not queue.empty():
            events.append(queue.get_nowait())
    return result, events


async def test_final_retry_pass_recovers_a_request_that_failed_its_retries(
    project: Project, server: FakeOpenAIServer
) -> None:
    server.fail_next("drop", times=2, match=BUS, after=1)  # max_retries 1: both attempts drop
    summary, events = await _collect(
        project, sample(project, opts(server, {"max_retries": 1}, limit=3, n=2))
    )
    assert summary.state == "done" and summary.message == ""
    assert (summary.requests_done, summary.requests_failed, summary.samples) == (3, 0, 6)
    assert summary.requests_retried == 1 and summary.samples_missing == 0
    bus = [r for r in server.completion_requests if BUS in r.prompt]
    assert len(bus) == 3  # two attempts, then the final pass after every other request
    assert server.completion_requests[-1].prompt == bus[-1].prompt
    row = await project.store.fetchone("SELECT status, attempts FROM requests WHERE status"
                                       " = 'done' ORDER BY attempts DESC LIMIT 1")  # fmt: skip
    assert tuple(row) == ("done", 3)
    fails = [e for e in events if isinstance(e, RequestFailed)]
    assert fails and not any(e.final for e in fails)  # recovered: never a final failure


async def test_samples_still_missing_end_the_run_incomplete_with_reasons(
    project: Project, server: FakeOpenAIServer
) -> None:
    server.fail_next("server_error", times=10, match=BUS)
    server.fail_next("rate_limit", times=10, match="Lena picks 18", retry_after=0.01)
    summary = await sample(project, opts(server, limit=3, n=2))
    assert summary.state == "incomplete"
    assert summary.samples_missing == 4 and summary.requests_failed == 2
    assert summary.failures == {"rate_limit": 1, "server_error": 1}
    assert summary.message.startswith("incomplete: 4 samples missing (2 requests failed twice:")
    assert "rate_limit 1, server_error 1" in summary.message
    status = await project.store.scalar("SELECT status FROM runs WHERE id = ?", (summary.run_id,))
    assert status == "incomplete"
    assert await run_failures(project.store, summary.run_id) == {"rate_limit": 1,
                                                                 "server_error": 1}  # fmt: skip
    stats = await run_core(project.store, summary.run_id, 0.0)
    assert stats is not None and stats.failures == {"rate_limit": 1, "server_error": 1}
    server.clear()  # a rerun sends the missing ones and the run is done
    again = await sample(project, opts(server, limit=3, n=2))
    assert again.state == "done" and again.samples == 4


def ekt(root: Path, *args: Any) -> Result:
    return CliRunner().invoke(cli, ["-p", str(root), *map(str, args)], catch_exceptions=False)


def test_ekt_sample_exits_3_with_a_hint_and_status_counts_reasons(
    demo: Path, server: FakeOpenAIServer
) -> None:
    server.fail_next("server_error", times=10, match=BUS)
    flags = ["--teacher", "openai", "--base-url", server.base_url, "--model", "fake",
             "--max-retries", "0", "--split", "train", "--limit", "3", "--n", "2"]  # fmt: skip
    result = ekt(demo, "sample", *flags)
    assert result.exit_code == 3, result.output
    assert ": incomplete in " in result.stdout and "2 samples missing" in result.stdout
    *warnings, hint = result.stderr.strip().splitlines()
    assert hint == ("ekt: 2 samples missing (server_error 1): rerun the same command to send"
                    " them again")  # fmt: skip
    assert all(w.startswith("ekt: warning: ") for w in warnings)  # the fake lists fake-model
    status = json.loads(ekt(demo, "status", "--json").stdout)
    (run,) = status["runs"]
    assert run["status"] == "incomplete" and run["failures"] == {"server_error": 1}
    server.clear()
    assert ekt(demo, "sample", *flags).exit_code == 0


async def test_endpoint_quirks_are_said_once(project: Project) -> None:
    """The n fallback, a model the server does not list, counts without usage: one line each."""
    from core.events import TeacherNotice

    with FakeOpenAIServer(n_mode="ignore", report_usage=False, models=None) as srv:
        summary, events = await _collect(project, sample(project, opts(srv, limit=3, n=2)))
    assert summary.state == "done" and summary.samples == 6
    kinds = [e.kind for e in events if isinstance(e, TeacherNotice)]
    assert sorted(kinds) == ["model_not_listed", "n_fallback", "usage_estimated"]
    assert len(summary.notices) == 3 and summary.tokens_estimated == 3  # requests
    listed = next(n for n in summary.notices if "not listed" in n)
    assert "'fake'" in listed and "fake-model" in listed
    assert any("returned 1 of n=2 choices" in n for n in summary.notices)


async def test_a_listed_model_says_nothing(project: Project) -> None:
    with FakeOpenAIServer(models=["fake"]) as srv:
        summary = await sample(project, opts(srv, limit=1, n=2))
    assert summary.notices == [] and summary.tokens_estimated == 0


def test_fill_slots_makes_whole_waves_of_new_requests() -> None:
    """100 requests in 32 slots: 28 are split in two, so 4 full waves of 32 instead of 3 + 4."""
    from core.prompts import RenderedPrompt
    from core.sampling.engine import fill_slots
    from core.sampling.plan import Work

    r = RenderedPrompt("p", "", ())
    work = [Work(f"p{i}", r, 0, 20, 5) for i in range(100)]
    out = fill_slots(work, 32)
    assert len(out) == 128 and sum(w.n for w in out) == 2000
    assert [w.problem_id for w in out[:3]] == ["p0", "p0", "p1"]  # import order kept
    assert {(w.first_index, w.n) for w in out if w.problem_id == "p0"} == {(0, 10), (10, 10)}
    assert fill_slots(work[:8], 32) == work[:8]  # fewer requests than slots: nothing to fill
    stored = [Work(f"s{i}", r, 0, 20, 5, request_id=i + 1) for i in range(40)]
    assert fill_slots(stored, 32) == stored  # rows that exist keep their n
