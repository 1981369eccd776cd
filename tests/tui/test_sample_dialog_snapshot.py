"""A deterministic snapshot of the start-sampling dialog over the seeded project (fixed teacher
URL that is never contacted, frozen clock, no cursor blink)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.test_sampling_flows import _project
from tests.tui.test_snapshots import SIZE, _app, _steps


def test_sample_dialog(snap_compare: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "http://127.0.0.1:9/v1")
    assert snap_compare(_app(root), terminal_size=SIZE, run_before=_steps("s"))
