"""Deterministic snapshot of the Training screen (seeded runs, fixed numbers, no clock), hosted
by the real app (key 4) like every other screen's snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.helpers import make_app, settle
from tests.tui.train_fixture import make_train_project


async def _training(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot, delay=0.35)  # the preview is debounced by 0.3 s
    await pilot.pause()


def test_training_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(make_train_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=(160, 48), run_before=_training)
