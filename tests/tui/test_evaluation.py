"""Evaluation screen: table, bars, detail, k cycling, export, cross-process refresh."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from textual.app import App

from core import Project
from core.store import connect_sync
from ekt_tui.screens.evaluation import EvaluationScreen
from ekt_tui.widgets.eval_bars import EvalBars
from ekt_tui.widgets.eval_detail import EvalDetail
from ekt_tui.widgets.eval_table import EvalTable
from tests.tui.eval_fixture import T0, make_eval_project


def _text(detail: EvalDetail) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(detail.content)
    return console.export_text()


class EvalApp(App[None]):
    def __init__(self, project: Project, poll: bool = False) -> None:
        super().__init__()
        self.project = project
        self.poll = poll

    def on_mount(self) -> None:
        self.push_screen(EvaluationScreen(self.project, poll=self.poll))


async def test_table_bars_and_detail(tmp_path: Path) -> None:
    project = await Project.open(make_eval_project(tmp_path / "p"))
    app = EvalApp(project)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, EvaluationScreen)
            table = screen.query_one(EvalTable)
            assert table.row_count == 3
            assert [r.method for r in screen.rows] == ["few-shot", "ekt-sft", "teacher"]
            assert screen.rows[1].beats_teacher
            detail = _text(screen.query_one(EvalDetail))
            assert "fewshot-test" in detail
            bars = screen.query_one(EvalBars)
            assert bars.k == 1
            await pilot.press("k")
            assert bars.k == 10
            await pilot.press("k")
            assert bars.k == 1
            await pilot.press("down")
            await pilot.pause()
            await app.workers.wait_for_complete()
            assert "sft-test" in _text(screen.query_one(EvalDetail))
            await pilot.press("x")
            await pilot.pause()
            md = (project.root / "eval-table.md").read_text()
            assert "beats teacher" in md and "| sft-1@step40 | ekt-sft |" in md
    finally:
        await project.close()


async def test_refreshes_when_another_process_adds_an_eval(tmp_path: Path) -> None:
    root = make_eval_project(tmp_path / "p")
    project = await Project.open(root)
    app = EvalApp(project, poll=True)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await app.workers.wait_for_complete()
            screen = app.screen
            assert isinstance(screen, EvaluationScreen)
            while screen._version is None:  # first poll records the version
                await pilot.pause(0.1)
            conn = connect_sync(root / "ekt.db")
            results = {
                "problems": 5,
                "samples": 5,
                "pass_at_k": {"1": {"value": 0.4, "lo": 0.1, "hi": 0.7}},
            }
            conn.execute(
                "INSERT INTO evals(name, model, method, split, status, results, created_at,"
                " updated_at) VALUES ('new', 'other', 'zero-shot', 'test', 'done', ?, ?, ?)",
                (json.dumps(results), T0, T0),
            )
            conn.close()
            while len(screen.rows) < 4:
                await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            assert screen.query_one(EvalTable).row_count == 4
    finally:
        await project.close()
