"""Deterministic snapshot of the Evaluation screen (fixed evaluations, fixed dates), hosted by
the real app (key 5) like every other screen's snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.eval_fixture import make_eval_project
from tests.tui.helpers import make_app, settle


async def _evaluation(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    await pilot.pause()


def test_evaluation_screen_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(make_eval_project(tmp_path / "p"))
    assert snap_compare(app, terminal_size=(150, 36), run_before=_evaluation)
