"""Deterministic snapshot of the Evaluation screen (fixed evaluations, fixed dates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ekt_tui.screens.evaluation import EvaluationScreen
from tests.tui.eval_fixture import make_eval_project
from tests.tui.snap_app import SnapApp


def test_evaluation_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = SnapApp(
        make_eval_project(tmp_path / "p"), lambda project: EvaluationScreen(project, poll=False)
    )

    async def settle(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 36), run_before=settle)
