"""`ekt candidates`: the headless hand-edit path (edit → sandbox verdict → gold) and gold marks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.candidates import NewCandidate, insert_candidates
from core.cli import cli
from core.project import ASSETS, Project
from core.store import connect_sync

WRONG = "def solution():\n    return 18 + 18\n"  # Lena: 18 + 36 - 15 = 39
RIGHT = "def solution():\n    monday = 18\n    return monday + 2 * monday - 15\n"


def ekt(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin, catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, int]:
    root = tmp_path / "p"
    assert ekt("init", root).exit_code == 0
    src = ASSETS / "samples" / "math-train.jsonl"
    assert ekt("-p", root, "import", src, "--format", "gsm8k", "--limit", "3").exit_code == 0

    async def seed() -> int:
        project = await Project.open(root)
        try:
            (cid,) = await insert_candidates(
                project.store, [NewCandidate("gsm8k/train/0", "teacher", WRONG)]
            )
            return cid
        finally:
            await project.close()

    return root, asyncio.run(seed())


def _gold_ids(root: Path) -> set[int]:
    with connect_sync(root / "ekt.db") as conn:
        return {r[0] for r in conn.execute("SELECT id FROM gold_candidates")}


def test_edit_verifies_at_once_and_becomes_gold(project: tuple[Path, int], tmp_path: Path) -> None:
    root, parent = project
    fix = tmp_path / "fix.py"
    fix.write_text(RIGHT)
    res = ekt("-p", root, "candidates", "edit", parent, fix, "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["status"] == "pass" and out["parent_id"] == parent
    assert out["returned"] == "39"
    assert _gold_ids(root) == {out["candidate_id"]}
    listed = [
        json.loads(line)
        for line in ekt("-p", root, "candidates", "list", "--json").stdout.splitlines()
    ]
    assert [(c["source"], c["parent_id"], c["gold"]) for c in listed] == [
        ("edit", parent, True),
        ("teacher", None, False),
    ]
    # the original is untouched
    shown = json.loads(ekt("-p", root, "candidates", "show", parent, "--json").stdout)
    assert shown["code"] == WRONG and shown["v_status"] is None


def test_failing_edit_exits_2_with_its_verdict(project: tuple[Path, int]) -> None:
    root, parent = project
    res = ekt("-p", root, "candidates", "edit", parent, "-", stdin=WRONG.replace("18", "19"))
    assert res.exit_code == 2
    assert "fail: returned 38, expected 39" in res.stdout
    assert _gold_ids(root) == set()


def test_gold_marks_override_and_return_to_the_verdict(project: tuple[Path, int]) -> None:
    root, parent = project
    assert ekt("-p", root, "candidates", "gold", parent).stdout.strip().endswith(": gold")
    assert _gold_ids(root) == {parent}
    assert (
        ekt("-p", root, "candidates", "gold", parent, "--auto").stdout.strip().endswith("not gold")
    )
    assert _gold_ids(root) == set()
    with connect_sync(root / "ekt.db") as conn:
        assert conn.execute("SELECT gold_override FROM candidates").fetchone()[0] is None


@pytest.mark.parametrize(
    "args",
    [("edit", "999", "-"), ("show", "999"), ("gold", "999")],
)
def test_unknown_candidate_is_one_line_and_writes_nothing(
    project: tuple[Path, int], args: tuple[str, ...]
) -> None:
    root, _ = project
    res = ekt("-p", root, "candidates", *args, stdin=RIGHT)
    assert res.exit_code == 1
    assert res.stderr.startswith("ekt: error: candidate 999: no such candidate")
    assert len(res.stderr.strip().splitlines()) == 1
    with connect_sync(root / "ekt.db") as conn:
        assert conn.execute("SELECT count(*) FROM candidates").fetchone()[0] == 1


def test_empty_edit_is_refused(project: tuple[Path, int]) -> None:
    root, parent = project
    res = ekt("-p", root, "candidates", "edit", parent, "-", stdin="\n  \n")
    assert res.exit_code == 1 and "the edited program is empty" in res.stderr
