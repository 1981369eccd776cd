"""A diverse selection made from the Problems screen (k → dialog → filter with radius vs
random), the judge column (shown once something is judged, sortable) and the inspector's judge
line; plus a snapshot of the filtered, judged list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Label

from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.problems import ProblemsScreen
from ekt_tui.screens.selection_dialog import SelectionDialog
from ekt_tui.widgets.problem_list import ProblemList
from ekt_tui.widgets.verdict_view import VerdictView
from tests.tiny_model import make_tiny_model
from tests.tui.helpers import make_app, settle
from tests.tui.seed import T0, make_project

SCORES = {"demo/mul": (9, "computes 6 boxes times 5 eggs"), "demo/add": (3, "hard-codes 3 + 4")}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def judged_project(root: Path) -> Path:
    make_project(root)
    conn = connect_sync(root / "ekt.db")
    with conn:
        for pid, (score, reason) in SCORES.items():
            cid = conn.execute(
                "SELECT min(id) FROM candidates WHERE problem_id = ?", [pid]
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO judgements(candidate_id, teacher, score, reason, raw, parsed,"
                " created_at) VALUES (?, 'openai:judge', ?, ?, ?, 1, ?)",
                (cid, score, reason, f'{{"score": {score}}}', T0),
            )
    conn.close()
    return root


async def _select(pilot: Pilot[None], k: str, model: Path) -> None:
    await pilot.press("k")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, SelectionDialog)
    dialog.query_one("#selection-k", Input).value = k
    dialog.query_one("#selection-embedder", Input).value = str(model)
    dialog.query_one("#selection-k", Input).focus()
    await pilot.press("enter")
    deadline = time.monotonic() + 240
    screen = pilot.app.screen
    assert isinstance(screen, ProblemsScreen)
    while screen.query_one(ProblemList).selection is None and time.monotonic() < deadline:
        await settle(pilot, delay=0.2)
    await settle(pilot)


async def test_selection_filter_judge_column_and_inspector(
    tmp_path: Path, tiny_model: Path
) -> None:
    app = make_app(judged_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        plist = screen.query_one(ProblemList)
        assert plist.show_judge and "judge" in str(
            screen.query_one("#problem-header", Label).content
        )
        for _ in range(3):  # id → pass rate ↑ → pass rate ↓ → judge ↓
            await pilot.press("o")
            await settle(pilot)
        assert plist.sort.value == "judge-desc"
        top = [plist.row_at(i) for i in range(2)]
        assert [r.id for r in top if r is not None] == ["demo/mul", "demo/add"]

        await _select(pilot, "3", tiny_model)
        assert plist.selection is not None and len(plist.selection) == 3 and plist.total == 3
        status = str(screen.query_one("#problem-status", Label).content)
        assert "question-all-k3" in status and "radius" in status and "vs random" in status

        await pilot.press("K")
        await settle(pilot)
        assert plist.selection is None and plist.total == 6

        await pilot.press("o")  # back to id order: demo/add first
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot, delay=0.3)
        console = Console(width=120)
        with console.capture() as captured:
            console.print(app.screen.query_one(VerdictView).content)
        text = captured.get()
        assert "judge 3/10" in text and "hard-codes 3 + 4" in text


async def test_bad_k_keeps_the_dialog_open(tmp_path: Path) -> None:
    app = make_app(judged_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2", "k")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SelectionDialog)
        dialog.query_one("#selection-k", Input).value = "zero"
        dialog.query_one("#selection-k", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        assert "positive integer" in str(dialog.query_one("#selection-error", Label).content)


def test_selection_snapshot(snap_compare: Any, tmp_path: Path, tiny_model: Path) -> None:
    app = EktApp(judged_project(tmp_path / "p"), clock=lambda: T0 + 30.0, poll=False)

    async def steps(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await _select(pilot, "4", tiny_model)
        await pilot.app.refresh_now()  # type: ignore[attr-defined]
        await settle(pilot)
        pilot.app.sub_title = "tui-test"
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 40), run_before=steps)
