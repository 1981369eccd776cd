"""Training screen while a run starts: "loading model… N s" until the trainer writes, "first
step… N s" until a step is logged, then the step line; the log appends and follows its end."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from rich.console import Console
from textual.widgets import Log, Static

from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.training import TrainingScreen
from tests.tui.helpers import refreshed, settle
from tests.tui.train_fixture import T0, make_train_project


def _summary(screen: TrainingScreen) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(screen.query_one("#train-summary", Static).content)
    return console.export_text()


def _add(root: Path, sql: str, params: tuple) -> None:
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


async def test_loading_then_first_step_then_steps(tmp_path: Path) -> None:
    root = make_train_project(tmp_path / "p")
    # a live pid (this process), so the screen's check for a dead trainer leaves it running
    _add(root, "INSERT INTO train_runs(id, name, status, config, pid, created_at, updated_at)"
         " VALUES (3, 'sft-3', 'running', ?, ?, ?, ?)",
         (json.dumps({"model": "m"}), os.getpid(), T0, T0 + 50))  # fmt: skip
    now = [T0 + 62.0]
    app = EktApp(root, poll=False, clock=lambda: now[0])
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await refreshed(pilot)
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        assert screen.selected == 3  # the active run
        assert "loading model… 12 s" in _summary(screen)
        now[0] += 3
        await pilot.pause(1.3)  # the 1 s tick, nothing written meanwhile
        assert "loading model… 15 s" in _summary(screen)
        ev = ("INSERT INTO train_events(train_run_id, kind, step, loss, data, created_at)"
              " VALUES (3, ?, ?, ?, ?, ?)")  # fmt: skip
        _add(root, ev, ("start", 0, None, json.dumps({"max_steps": 4}), T0 + 60))
        await refreshed(pilot)
        assert "first step… 5 s" in _summary(screen)
        _add(root, ev, ("log", 1, 2.5, "{}", T0 + 64))
        await refreshed(pilot)
        text = _summary(screen)
        assert "step 1/4  loss 2.5000" in text and "loading" not in text


async def test_log_appends_and_follows_the_end(tmp_path: Path) -> None:
    root = make_train_project(tmp_path / "p")
    app = EktApp(root, poll=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await refreshed(pilot)
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        log = screen.query_one(Log)
        await pilot.pause(0.2)
        lines = log.line_count
        assert lines > log.size.height  # it scrolls
        assert log.scroll_y == log.max_scroll_y > 0
        assert log.lines[-1].endswith("done")
        _add(root, "INSERT INTO train_events(train_run_id, kind, step, loss, data, created_at)"
             " VALUES (2, 'log', 31, 1.25, '{}', ?)", (T0 + 999,))  # fmt: skip
        await refreshed(pilot)
        await pilot.pause(0.2)
        assert log.line_count == lines + 1
        assert log.scroll_y == log.max_scroll_y
