"""Deterministic snapshot of the Training screen (seeded runs, fixed numbers, no clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from core import Project
from ekt_tui.screens.training import TrainingScreen
from tests.tui.train_fixture import make_train_project


class SnapApp(App[None]):
    """Opens the project on its own loop (the store belongs to the loop that opened it)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.project: Project | None = None

    async def on_mount(self) -> None:
        self.project = await Project.open(self.root)
        await self.push_screen(TrainingScreen(self.project, poll=False))

    async def on_unmount(self) -> None:
        if self.project is not None:
            await self.project.close()


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.pause(0.35)  # the preview is debounced by 0.3 s
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_training_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = SnapApp(make_train_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle)
