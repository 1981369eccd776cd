"""Deterministic snapshots of every ekt-tui screen: seeded store, frozen clock, fixed size,
no cursor blink, and a fixed subtitle (the project path is a temporary folder)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from core import RequestFailed, RequestFinished, RequestStarted, TokensStreamed
from core.candidates import code_hash
from core.store import connect_sync
from ekt_tui.app import EktApp
from tests.tui.helpers import settle
from tests.tui.seed import GOOD, T0, make_project

SIZE = (140, 40)
Step = Callable[[Pilot[None]], Awaitable[None]]


def _app(root: Path, now: float = T0 + 30.0) -> EktApp:
    return EktApp(root, clock=lambda: now, poll=False)


def _freeze(app: EktApp) -> None:
    app.sub_title = "tui-test"
    for screen in app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False


def _steps(*steps: str | Step) -> Step:
    """Keys (strings) and async callables, each followed by a full settle and refresh."""

    async def run(pilot: Pilot[None]) -> None:
        app: EktApp = pilot.app  # type: ignore[assignment]
        await settle(pilot)
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                await step(pilot)
            await settle(pilot)
            await app.refresh_now()
            await settle(pilot)
        _freeze(app)
        await pilot.pause()

    return run


def _with_edit(root: Path) -> Path:
    """An edit of candidate #4 (demo/mul) that passes, so the inspector has a diff to show."""
    code = GOOD["demo/mul"]
    conn = connect_sync(root / "ekt.db")
    conn.execute(
        "INSERT INTO candidates(id, problem_id, source, parent_id, code, raw, code_hash,"
        " created_at) VALUES (11, 'demo/mul', 'edit', 4, ?, ?, ?, ?)",
        [code, code, code_hash(code), T0 + 50],
    )
    conn.execute(
        "INSERT INTO verdicts(candidate_id, status, detail, passed, total, returned, expected,"
        " duration_s, created_at) VALUES (11, 'pass', 'returned 30 == 30', 1, 1, '30', '30',"
        " 0.011, ?)",
        [T0 + 51],
    )
    conn.close()
    return root


def test_dashboard(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(make_project(tmp_path / "p")), terminal_size=SIZE, run_before=_steps())


def test_dashboard_without_runs(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p", with_run=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps())


def test_dashboard_teacher_stream(snap_compare: Any, tmp_path: Path) -> None:
    async def stream(pilot: Pilot[None]) -> None:
        bus = pilot.app.project.bus  # type: ignore[attr-defined]
        bus.publish(RequestStarted(1, 21, "demo/none", 2))
        for piece in ["def solution():\n", "    speed = 60\n", "    return speed * 2"]:
            bus.publish(TokensStreamed(1, 21, "demo/none", 0, piece))
        bus.publish(TokensStreamed(1, 21, "demo/none", 1, "def solution():\n    return 60 +"))
        bus.publish(RequestStarted(1, 20, "demo/div", 2))
        bus.publish(RequestFinished(1, 20, "demo/div", 120, 40, 0.0, 1.5))
        bus.publish(RequestStarted(1, 19, "demo/sub", 2))
        bus.publish(RequestFailed(1, 19, "demo/sub", "RateLimitError", "429, retry in 2 s", False))
        await pilot.pause()

    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(stream))


def test_dashboard_light_theme(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("ctrl+t"))


def test_problems(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("2", "down", "down"))


def test_problems_filter_solved(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("2", "f"))


def test_problems_search(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    keys = ["2", "slash", *"eggs"]
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(*keys))


def test_problems_sort_by_pass_rate(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("2", "o", "o"))


def test_problem_detail_pass(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("2", "enter"))


def test_problem_detail_error_verdict(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    keys = ("2", "down", "down", "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(*keys))


def test_problem_detail_asserts(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    keys = ("2", "end", "enter", "down")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(*keys))


def test_problem_detail_edit_diff_and_gold(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(_with_edit(make_project(tmp_path / "p")))
    keys = ("2", "down", "enter", "end", "d")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(*keys))


def test_candidate_editor(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    keys = ("2", "down", "enter", "e")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(*keys))


def test_prompt_editor(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("3"))


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("2", "question_mark"))


def test_config_form(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(make_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=(140, 50), run_before=_steps("c"))
