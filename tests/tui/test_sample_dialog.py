"""The start-sampling dialog (`s` on the Dashboard): its estimate is core's dry run, escape starts
nothing, the chosen options reach the engine, a long ETA asks again; the loading and writing
states of the run panel."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select

from core import Project, RequestFinished, RequestStarted
from core.sampling import SampleOptions, dry_run
from ekt_tui.runs import RunStats
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.screens.dashboard import DashboardScreen
from ekt_tui.screens.problems import ProblemsScreen
from ekt_tui.screens.sample_dialog import SCOPE_PROBLEMS, SampleDialog, TeacherSpeed
from ekt_tui.widgets.run_panel import RunPanel, loading_text, run_state
from tests.fake_openai import FakeOpenAIServer
from tests.tui.helpers import refreshed, settle
from tests.tui.test_app_flows import _text
from tests.tui.test_sampling_flows import _answers, _app, _project, _run_rows, _until

OFFLINE = "http://127.0.0.1:9/v1"  # never reached: only dry runs here


@pytest.fixture
def server() -> Any:
    with FakeOpenAIServer(_answers) as srv:
        yield srv


async def _open(pilot: Pilot[None]) -> SampleDialog:
    await refreshed(pilot)
    await pilot.press("s")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, SampleDialog)
    return dialog


def _estimate(dialog: SampleDialog) -> str:
    return _text(dialog.query_one("#sample-estimate"))


async def _set(pilot: Pilot[None], dialog: SampleDialog, **values: str) -> None:
    for name, value in values.items():
        dialog.query_one(f"#sample-{name}", Input).value = value
    await settle(pilot)


async def test_the_estimate_is_cores_dry_run_and_escape_starts_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", OFFLINE)
    project = await Project.open(root)
    try:
        expected = await dry_run(project, SampleOptions(limit=2, n=3))
    finally:
        await project.close()
    app = _app(root)
    async with app.run_test(size=(140, 44)) as pilot:
        dialog = await _open(pilot)
        assert dialog.query_one("#sample-n", Input).value == "2"  # ekt.toml's n
        await _set(pilot, dialog, limit="2", n="3")
        text = _estimate(dialog)
        assert dialog.plan is not None and dialog.plan.to_dict() == expected.to_dict()
        assert f"{expected.requests:,} for {expected.samples:,} samples over 2 problems" in text
        assert f"completion ≤ {expected.completion_tokens_bound:,}" in text
        assert "ETA" in text and "unknown" in text
        assert expected.run in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.sampler.worker is None
    assert [r[1] for r in _run_rows(root)] == ["run-1"]


async def test_a_bad_value_is_one_line_and_blocks_start(tmp_path: Path) -> None:
    app = _app(_project(tmp_path / "p", OFFLINE))
    async with app.run_test(size=(140, 44)) as pilot:
        dialog = await _open(pilot)
        await _set(pilot, dialog, n="two")
        assert "n 'two': expected a whole number" in _estimate(dialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.sampler.worker is None and app.screen is dialog
        await _set(pilot, dialog, n="2", split="nosuch")
        assert "no problems in split 'nosuch'" in _estimate(dialog)
        await _set(pilot, dialog, split="train")
        assert "6 for 12 samples over 6 problems" in _estimate(dialog)


async def test_start_uses_the_chosen_options(tmp_path: Path, server: FakeOpenAIServer) -> None:
    app = _app(_project(tmp_path / "p", server.base_url))
    async with app.run_test(size=(140, 44)) as pilot:
        dialog = await _open(pilot)
        await _set(pilot, dialog, limit="2", n="3", temperature="0.5")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.sampler.worker is not None
        await app.sampler.worker.wait()
        summary = app.sampler.last_summary
        assert summary.state == "done" and summary.problems == 2 and summary.samples == 6
    bodies = [r.body for r in server.completion_requests]
    assert len(bodies) == 2 and {b["n"] for b in bodies} == {3}
    assert {b["temperature"] for b in bodies} == {0.5}


async def test_unsolved_only_and_the_problems_screen_filter(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    app = _app(_project(tmp_path / "p", server.base_url))
    async with app.run_test(size=(140, 44)) as pilot:
        dialog = await _open(pilot)
        dialog.query_one("#sample-unsolved", Checkbox).value = True
        await settle(pilot)
        unsolved = dialog.plan.problems  # type: ignore[union-attr]
        assert 0 < unsolved < 6
        await pilot.press("escape")
        await pilot.press("2")
        await refreshed(pilot)
        problems = app.screen
        assert isinstance(problems, ProblemsScreen)
        await problems.action_set_filter("unsampled")
        await refreshed(pilot)
        count = problems.plist.total
        assert 0 < count < 6
        await pilot.press("1")
        dialog = await _open(pilot)
        assert dialog.query_one("#sample-scope", Select).value == SCOPE_PROBLEMS
        assert dialog.scope is not None
        assert dialog.scope.label(count) == f"the Problems screen's: filter unsampled ({count})"
        assert dialog.options is not None and len(dialog.options["problems"]) == count
        assert dialog.plan is not None and dialog.plan.problems == count
        await pilot.press("enter")
        await settle(pilot)
        assert app.sampler.worker is not None
        await app.sampler.worker.wait()
        assert app.sampler.last_summary.problems == count


async def test_an_eta_over_an_hour_asks_again(tmp_path: Path, server: FakeOpenAIServer) -> None:
    app = _app(_project(tmp_path / "p", server.base_url))
    async with app.run_test(size=(140, 44)) as pilot:
        await refreshed(pilot)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        # An earlier run of this teacher took 5000 s for one request (as the bus reported it).
        teacher = f"openai:fake@{server.base_url}"
        dash.speed.feed(RequestStarted(99, 1, "demo/add", 2, at=1000.0))
        dash.speed.feed(RequestFinished(99, 1, "demo/add", 100, 40, 0.0, 5000.0, at=6000.0))
        dash.speed.teachers[99] = teacher
        dialog = await _open(pilot)
        assert dialog.eta == pytest.approx(6 * 5000.0)
        assert "≈ 8h20m" in _estimate(dialog) and "0.00 requests/s" in _estimate(dialog)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "8h20m" in _text(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and app.sampler.worker is None
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen) and app.sampler.worker is not None
        await app.sampler.worker.wait()
        assert app.sampler.last_summary.samples == 12


def test_teacher_speed_from_events() -> None:
    speed = TeacherSpeed()
    for rid, (start, end) in enumerate([(0.0, 2.0), (0.0, 4.0), (2.0, 4.0)]):
        speed.feed(RequestStarted(1, rid, "p", 1, at=start))
        speed.feed(RequestFinished(1, rid, "p", 10, 20, 0.0, end - start, at=end))
    assert speed.pace("x") is None and speed.unlabelled() == [1]
    speed.teachers[1] = "openai:m@http://h/v1/"
    requests_s, tokens_s, median = speed.pace("openai:m@http://h/v1")  # type: ignore[misc]
    assert requests_s == pytest.approx(3 / 4) and tokens_s == pytest.approx(60 / 4)
    assert median == pytest.approx(2.0)
    assert speed.eta_s("openai:m@http://h/v1", 9) == pytest.approx(12.0)


async def test_loading_then_the_run(
    tmp_path: Path, server: FakeOpenAIServer, monkeypatch: Any
) -> None:
    """Until the engine has its teacher (a local model loads here) the panel says so; the
    previous run's `done` is not shown meanwhile."""
    import core.sampling.engine as engine

    gate = asyncio.Event()
    original = engine._open_teacher

    async def slow_open(plan: Any) -> Any:
        await gate.wait()
        return await original(plan)

    monkeypatch.setattr(engine, "_open_teacher", slow_open)
    app = _app(_project(tmp_path / "p", server.base_url))
    async with app.run_test(size=(140, 44)) as pilot:
        await _open(pilot)
        await pilot.press("enter")
        await refreshed(pilot)
        panel = _text(app.screen.query_one(RunPanel))
        assert re.search(r"starting the teacher… \d+ s", panel), panel
        assert "run-1" not in panel and "done" not in panel
        gate.set()
        assert app.sampler.worker is not None
        await app.sampler.worker.wait()
        await refreshed(pilot)
        panel = _text(app.screen.query_one(RunPanel))
        assert app.sampler.last_summary.name in panel and "— done" in panel


async def test_stop_says_what_happens(tmp_path: Path) -> None:
    with FakeOpenAIServer(_answers, first_token_s=0.3, capacity=1) as srv:
        root = _project(tmp_path / "p", srv.base_url, concurrency=1)
        app = _app(root)
        async with app.run_test(size=(140, 44)) as pilot:
            await _open(pilot)
            await pilot.press("enter")
            await _until(pilot, lambda: [r[2] for r in _run_rows(root)] == ["done", "running"])
            await pilot.press("x")
            await settle(pilot)
            with contextlib.suppress(Exception):
                await app.sampler.worker.wait()  # type: ignore[union-attr]
            messages = [n.message for n in app._notifications]
            assert any("in flight are cancelled" in m and "resumable" in m for m in messages)
    assert _run_rows(root)[-1][2] == "stopped"


def test_panel_states() -> None:
    assert loading_text("loading model", 12.4).plain.startswith("loading model… 12 s")
    stats = RunStats(1, "r", "done", "t", "p", 2, 3, 3, requests=3, requests_done=2)
    assert run_state(stats, "idle", False) == "writing results"
    done = RunStats(1, "r", "done", "t", "p", 2, 3, 3, requests=3, requests_done=3)
    assert run_state(done, "idle", False) == "done"
    assert run_state(done, "running", True) == "writing results (this app: running)"
