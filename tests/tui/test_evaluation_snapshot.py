"""Deterministic snapshot of the Evaluation screen (fixed evaluations, fixed dates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from core import Project
from ekt_tui.screens.evaluation import EvaluationScreen
from tests.tui.eval_fixture import make_eval_project


class SnapApp(App[None]):
    """Opens the project on its own loop (the store belongs to the loop that opened it)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.project: Project | None = None

    async def on_mount(self) -> None:
        self.project = await Project.open(self.root)
        await self.push_screen(EvaluationScreen(self.project, poll=False))

    async def on_unmount(self) -> None:
        if self.project is not None:
            await self.project.close()


def test_evaluation_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = SnapApp(make_eval_project(tmp_path / "p"))

    async def settle(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 36), run_before=settle)
