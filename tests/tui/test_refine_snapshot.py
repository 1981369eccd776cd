"""Snapshot of the inspector with a candidate's feedback and its refinement tree (a chain:
a refinement that failed and was refined again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.candidates import code_hash
from core.store import connect_sync
from tests.tui.seed import T0, make_project
from tests.tui.test_snapshots import SIZE, _app, _steps

FIXED = "def solution():\n    return 6 * 5\n"
STILL_WRONG = "def solution():\n    return 6 * 6\n"


def _feedback(conn: Any, fid: int, cid: int, author: str, text: str) -> None:
    conn.execute(
        "INSERT INTO feedback(id, candidate_id, author, text, created_at) VALUES (?, ?, ?, ?, ?)",
        [fid, cid, author, text, T0 + 40 + fid],
    )


def _refinement(
    conn: Any, cid: int, parent: int, fb: int, code: str, status: str, ret: str
) -> None:
    conn.execute(
        "INSERT INTO candidates(id, problem_id, source, parent_id, feedback_id, code, raw,"
        " code_hash, created_at) VALUES (?, 'demo/mul', 'refine', ?, ?, ?, ?, ?, ?)",
        [cid, parent, fb, code, code, code_hash(code), T0 + cid * 4],
    )
    conn.execute(
        "INSERT INTO verdicts(candidate_id, status, detail, passed, total, returned,"
        " expected, duration_s, created_at) VALUES (?, ?, ?, ?, 1, ?, '30', 0.01, ?)",
        [cid, status, f"returned {ret}", int(status == "pass"), ret, T0 + cid * 4 + 1],
    )


def _with_refinements(root: Path) -> Path:
    """Candidate #4 (demo/mul, returned 11): human feedback fixed it (#11); execution feedback
    did not (#12), and #12 refined again with its own execution feedback passed (#13)."""
    conn = connect_sync(root / "ekt.db")
    wrong = "The program runs, but solution() returned {}, which is not the answer."
    _feedback(conn, 1, 4, "execution", wrong.format(11))
    _feedback(conn, 2, 4, "human", "Multiply the eggs per box by the number of boxes.")
    _refinement(conn, 11, 4, 2, FIXED, "pass", "30")
    _refinement(conn, 12, 4, 1, STILL_WRONG, "fail", "36")
    _feedback(conn, 3, 12, "execution", wrong.format(36))
    _refinement(conn, 13, 12, 3, FIXED, "pass", "30")
    conn.close()
    return root


def test_refinement_tree(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(_with_refinements(make_project(tmp_path / "p")))
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps("2", "down", "enter"))
