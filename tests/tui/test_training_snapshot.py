"""Deterministic snapshot of the Training screen (seeded runs, fixed numbers, no clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ekt_tui.screens.training import TrainingScreen
from tests.tui.snap_app import SnapApp
from tests.tui.train_fixture import make_train_project


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.pause(0.35)  # the preview is debounced by 0.3 s
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_training_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = SnapApp(
        make_train_project(tmp_path / "p"), lambda project: TrainingScreen(project, poll=False)
    )
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle)
