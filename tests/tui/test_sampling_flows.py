"""Pilot tests of sampling from the TUI against the real engine (core.sampling) and the fake
OpenAI server on 127.0.0.1: start, pause/resume/stop, try-on-5, an unreachable teacher."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from core import load_config, render_default_toml
from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.prompt_editor import PromptEditorScreen
from ekt_tui.widgets.run_panel import RunPanel
from ekt_tui.widgets.teacher_stream import TeacherStream
from tests.fake_openai import FakeOpenAIServer
from tests.tui.helpers import refreshed, settle
from tests.tui.seed import make_project
from tests.tui.test_app_flows import _text

RIGHT = {"Tom has 3 apples": "\n    return 3 + 4\n", "6 eggs": "\n    return 6 * 5\n"}


def _answers(prompt: str, index: int) -> str:
    tail = prompt[-300:]
    for key, text in RIGHT.items():
        if key in tail:
            return text if index == 0 else "\n    return 0\n"
    return "\n    return -1\n"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(_answers) as srv:
        yield srv


def _project(root: Path, base_url: str, **sampling: Any) -> Path:
    """The seeded project with its teacher pointed at `base_url` (as the config form would)."""
    make_project(root)
    path = root / "ekt.toml"
    config = load_config(path)
    config = config.model_copy(
        update={
            "teacher": config.teacher.model_copy(
                update={"backend": "openai", "base_url": base_url, "model": "fake",
                        "mode": "completion", "max_retries": 0}
            ),
            "sampling": config.sampling.model_copy(update={"n": 2, "concurrency": 2, **sampling}),
        }
    )  # fmt: skip
    path.write_text(render_default_toml(config), encoding="utf-8")
    return root


def _app(root: Path) -> EktApp:
    return EktApp(root, poll=False)


async def _until(pilot: Pilot[None], test: Any, rounds: int = 200) -> None:
    """Let the app run until `test()` holds (bounded; no fixed sleeps decide the outcome)."""
    for _ in range(rounds):
        if test():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never held")


async def _start(pilot: Pilot[None]) -> None:
    """`s` opens the start-sampling dialog; Enter (its focused Start button) starts."""
    await pilot.press("s")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def _run_rows(root: Path) -> list[tuple[Any, ...]]:
    conn = connect_sync(root / "ekt.db", readonly=True)
    try:
        return [tuple(r) for r in conn.execute("SELECT id, name, status FROM runs ORDER BY id")]
    finally:
        conn.close()


async def test_start_sampling_streams_stores_and_verifies(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    root = _project(tmp_path / "p", server.base_url)
    app = _app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await refreshed(pilot)
        await _start(pilot)
        assert app.sampler.worker is not None
        await app.sampler.worker.wait()
        await refreshed(pilot)
        summary = app.sampler.last_summary
        assert summary.state == "done" and summary.samples == 12  # 6 problems × n=2
        panel = _text(app.screen.query_one(RunPanel))
        assert summary.name in panel and "6 / 6 sampled (100%)" in panel
        assert "pass 2" in panel and "fail 8" in panel and "syntax 2" in panel
        stream = _text(app.screen.query_one(TeacherStream))
        assert "done" in stream and "tok" in stream
        assert any(summary.name in n.message for n in app._notifications)
    conn = connect_sync(root / "ekt.db", readonly=True)
    rows = conn.execute(
        "SELECT c.problem_id, c.sample_index, v.status FROM candidates c JOIN verdicts v"
        " ON v.candidate_id = c.id WHERE c.run_id = ? ORDER BY c.problem_id, c.sample_index",
        [summary.run_id],
    ).fetchall()
    conn.close()
    assert len(rows) == 12
    assert ("demo/add", 0, "pass") in [tuple(r) for r in rows]


async def test_pause_resume_and_stop(tmp_path: Path) -> None:
    with FakeOpenAIServer(_answers, first_token_s=0.2, capacity=1) as srv:
        root = _project(tmp_path / "p", srv.base_url, concurrency=1)
        app = _app(root)
        async with app.run_test(size=(140, 40)) as pilot:
            await refreshed(pilot)
            await _start(pilot)
            await _until(pilot, lambda: [r[2] for r in _run_rows(root)] == ["done", "running"])
            await pilot.press("space")
            assert app.sampler.state == "paused" and app.sampler.control.paused
            await _until(pilot, lambda: _run_rows(root)[-1][2] == "paused")
            await refreshed(pilot)
            assert "(this app: paused)" in _text(app.screen.query_one(RunPanel))
            await pilot.press("space")
            assert app.sampler.state == "running" and not app.sampler.control.paused
            await _until(pilot, lambda: _run_rows(root)[-1][2] == "running")
            await pilot.press("x")
            await settle(pilot)
            assert app.sampler.worker is not None
            with contextlib.suppress(Exception):
                await app.sampler.worker.wait()
            await settle(pilot)
            assert app.sampler.last_summary.state in ("stopped", "done")
            assert app.sampler.state == "idle"
        assert _run_rows(root)[-1][2] == app.sampler.last_summary.state


async def test_try_prompt_on_five_problems(tmp_path: Path, server: FakeOpenAIServer) -> None:
    root = _project(tmp_path / "p", server.base_url)
    app = _app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("3")
        await refreshed(pilot)
        screen = app.screen
        assert isinstance(screen, PromptEditorScreen)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.sampler.worker is not None
        await app.sampler.worker.wait()
        await refreshed(pilot)
        assert screen.try_run is not None and screen.try_run.startswith("try-gsm8k-v1-")
        assert screen.try_problems[0] == "demo/add" and len(screen.try_problems) == 5
        results = _text(screen.query_one("#try-results"))
        assert "demo/add" in results and "1/2 pass" in results
        assert "demo/none" in results and "0/2 pass" in results
        # An edited template is saved as a new version first, then tried.
        template = screen.query_one("#template")
        template.load_text(template.text.replace("Answer with", "Return it from"))  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("enter")  # accept the proposed note
        await settle(pilot)
        await _until(pilot, lambda: app.sampler.worker is not None and app.sampler.run_name
                     and "v2" in app.sampler.run_name)  # fmt: skip
        await app.sampler.worker.wait()
        await refreshed(pilot)
        assert "v2" in (screen.try_run or "")
        assert screen.numbers[screen.version_ids[0]] == 2  # the new version, listed first
    runs = _run_rows(root)
    assert [r[1][:12] for r in runs[1:]] == ["try-gsm8k-v1", "try-gsm8k-v2"]


async def test_unreachable_teacher_is_a_notification(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "http://127.0.0.1:9/v1")
    app = _app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await refreshed(pilot)
        await _start(pilot)
        with contextlib.suppress(Exception):
            await app.sampler.worker.wait()  # type: ignore[union-attr]
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "127.0.0.1:9" in errors[0].message
        assert "\n" not in errors[0].message and "Traceback" not in errors[0].message
        assert app.is_running and app.sampler.state == "idle"
    assert [r[1] for r in _run_rows(root)] == ["run-1"]  # the failed run left nothing behind


async def test_quit_stops_the_run_cleanly(tmp_path: Path) -> None:
    with FakeOpenAIServer(_answers, first_token_s=0.3, capacity=1) as srv:
        root = _project(tmp_path / "p", srv.base_url, concurrency=1)
        app = _app(root)
        async with app.run_test(size=(140, 40)) as pilot:
            await refreshed(pilot)
            await _start(pilot)
            await _until(pilot, lambda: [r[2] for r in _run_rows(root)] == ["done", "running"])
            await pilot.press("q")
            await _until(pilot, lambda: not app.is_running)
    assert [r[2] for r in _run_rows(root)] == ["done", "stopped"]
