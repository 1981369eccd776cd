"""A deterministic snapshot of screen 5's launch dialog (fixed project, a finished run's
checkpoint, the project's [eval] values; nothing runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ekt_tui.screens.eval_launch import EvalLaunchScreen
from tests.tui.helpers import make_app, settle
from tests.tui.test_eval_launch import make_launch_project


async def _dialog(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    await pilot.press("l")  # the dialog's worker waits for its answer: no settle() from here
    for _ in range(100):
        await pilot.pause(0.05)
        if isinstance(pilot.app.screen, EvalLaunchScreen):
            break
    assert isinstance(pilot.app.screen, EvalLaunchScreen)
    await pilot.pause(0.2)


def test_eval_launch_dialog(snap_compare: Any, tmp_path: Path) -> None:
    root, _ = make_launch_project(tmp_path / "p")
    assert snap_compare(make_app(root), terminal_size=(150, 36), run_before=_dialog)
