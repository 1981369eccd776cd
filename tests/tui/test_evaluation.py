"""Evaluation screen (hosted by the real app, key 5): table, bars, detail, k cycling, export,
cross-process refresh."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.evaluation import EvaluationScreen
from ekt_tui.widgets.eval_bars import EvalBars
from ekt_tui.widgets.eval_detail import EvalDetail
from ekt_tui.widgets.eval_table import EvalTable
from tests.tui.eval_fixture import T0, make_eval_project
from tests.tui.helpers import make_app, settle


def _text(detail: EvalDetail) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(detail.content)
    return console.export_text()


async def test_table_bars_and_detail(tmp_path: Path) -> None:
    root = make_eval_project(tmp_path / "p")
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
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
        await settle(pilot)
        assert "sft-test" in _text(screen.query_one(EvalDetail))
        await pilot.press("x")
        await pilot.pause()
        md = (root / "eval-table.md").read_text()
        assert "beats teacher" in md and "| sft-1@step40 | ekt-sft |" in md


async def test_refreshes_when_another_process_adds_an_eval(tmp_path: Path) -> None:
    root = make_eval_project(tmp_path / "p")
    app = EktApp(root, poll=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        while app._version is None:  # first poll records the version
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
        for _ in range(100):  # the app's next poll notices the commit
            if len(screen.rows) >= 4:
                break
            await pilot.pause(0.1)
        await settle(pilot)
        assert screen.query_one(EvalTable).row_count == 4
