"""End to end: the real `ekt-tui` process in tmux, driven with send-keys and read with
capture-pane, on a real project. Skipped only where tmux is not installed."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TMUX, Tmux
from tests.tui.seed import make_project

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

BIN = Path(sys.executable).parent


def _row(screen: str, problem_id: str) -> list[str]:
    """The cells of a problem's row in the problem list (glyph, id, counts…)."""
    for line in screen.splitlines():
        cells = line.split()
        if len(cells) > 2 and cells[1] == problem_id:
            return cells
    raise AssertionError(f"{problem_id} not on screen:\n{screen}")


@pytest.fixture
def tui(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    root = make_project(tmp_path / "project")
    term = Tmux()
    env = {"TERM": "xterm-256color", "HOME": str(tmp_path)}
    term.start([str(BIN / "ekt-tui"), str(root)], tmp_path, env)
    try:
        yield term, root
    finally:
        term.kill()


def test_browse_edit_verify_and_live_updates(tui: tuple[Tmux, Path]) -> None:
    term, root = tui
    # Dashboard: the seeded run's real numbers.
    screen = term.wait_for("run-1")
    assert "5 / 5 sampled" in screen
    assert re.search(r"fail 5\s+pass 3\s+error 1\s+pending 1", screen), screen
    assert "2 problems (40.0% coverage)" in screen

    # Problems: counts and glyphs per problem.
    term.keys("2")
    screen = term.wait_for("6 problems")
    assert _row(screen, "demo/add")[:5] == ["✔", "demo/add", "3", "2", "1"]
    assert _row(screen, "demo/div")[0] == "◌"
    assert _row(screen, "demo/none")[0] == "·"

    # Another process verifies the pending candidate: the list follows (PRAGMA data_version).
    verify = subprocess.run(
        [str(BIN / "ekt"), "-p", str(root), "verify", "--workers", "1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    screen = term.wait_for(lambda s: _row(s, "demo/div")[0] == "✔")
    assert _row(screen, "demo/div")[1:7] == ["demo/div", "2", "1", "1", "0", "0"]

    # Inspector for demo/mul (two failing candidates), then edit the first one and verify it.
    term.keys("Home", "Down", "Enter")
    screen = term.wait_for("expected answer: 30")
    assert "A box holds 6 eggs" in screen and "returned 11, expected 30" in screen
    term.keys("e")
    term.wait_for("editing candidate #4 of demo/mul")
    term.keys("Down", "End", *["BSpace"] * 5)
    term.type("6 * 5")
    term.keys("C-s")
    screen = term.wait_for("Saved edit #")
    screen = term.wait_for("returned 30")
    assert "✔ pass" in screen
    term.keys("C-d")
    screen = term.wait_for("+    return 6 * 5")
    assert "-    return 6 + 5" in screen
    term.keys("Escape")
    screen = term.wait_for("candidates (3)")
    assert "edit←#4" in screen

    # Help, theme, quit: a clean exit, never a traceback.
    term.keys("?")
    term.wait_for("Keys — Problem detail")
    term.keys("Escape")
    term.wait_for(lambda s: "Keys —" not in s)
    term.keys("q")
    screen = term.wait_for("EXIT=")
    assert "EXIT=0" in screen and "Traceback" not in screen


def test_sampling_run_streams_on_the_dashboard(tmp_path: Path) -> None:
    """Start a run with the teacher from ekt.toml (the fake server), watch it stream, pause,
    resume, and see the final verdict counts."""
    from tests.fake_openai import FakeOpenAIServer
    from tests.tui.test_sampling_flows import _answers, _project

    with FakeOpenAIServer(_answers, token_latency_s=0.25) as srv:
        root = _project(tmp_path / "project", srv.base_url)
        term = Tmux()
        term.start([str(BIN / "ekt-tui"), str(root)], tmp_path, {"HOME": str(tmp_path)})
        try:
            term.wait_for("run-1")
            term.keys("s")  # the start-sampling dialog, with its dry-run estimate
            term.wait_for(lambda s: "Start sampling" in s and "6 for 12 samples" in s)
            term.keys("C-s")
            screen = term.wait_for(lambda s: " streaming " in s and "(this app: running)" in s)
            assert "openai:fake@http://127.0.0.1" in screen
            (tmp_path / "streaming.txt").write_text(screen, encoding="utf-8")
            term.keys("Space")
            term.wait_for("(this app: paused)")
            term.wait_for(lambda s: "— paused" in s)
            term.keys("Space")
            term.wait_for("(this app: running)")
            screen = term.wait_for(lambda s: "— done" in s and "6 / 6 sampled (100%)" in s)
            screen = term.wait_for(lambda s: re.search(r"fail 8\s+pass 2\s+syntax 2", s))
            assert "requests    6 done / 6" in screen
            term.keys("q")
            screen = term.wait_for("EXIT=")
            assert "EXIT=0" in screen and "Traceback" not in screen
        finally:
            term.kill()
