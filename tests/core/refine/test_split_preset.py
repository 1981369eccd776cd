"""`ekt import … --format mbpp --split-preset ilf`: the ILF paper's MBPP splits by task id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from core.cli import cli
from core.project import init_project

DATA = Path(__file__).resolve().parent / "mbpp-ilf.jsonl"


def _ekt(root: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["-p", str(root), *args], catch_exceptions=False)
    return res.exit_code, res.output + res.stderr


def test_ilf_preset_assigns_refine_train_and_test(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root, name="ilf")
    code, out = _ekt(root, "import", str(DATA), "--format", "mbpp", "--split-preset", "ilf")
    assert code == 0, out
    conn = sqlite3.connect(root / "ekt.db")
    rows = conn.execute("SELECT id, split FROM problems ORDER BY seq").fetchall()
    conn.close()
    assert rows == [
        ("mbpp/5", "prompt"), ("mbpp/11", "test"), ("mbpp/110", "test"),
        ("mbpp/111", "refine"), ("mbpp/310", "refine"), ("mbpp/311", "train"),
        ("mbpp/974", "train"),
    ]  # fmt: skip


def test_preset_with_split_or_another_format_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root, name="ilf")
    code, out = _ekt(root, "import", str(DATA), "--format", "mbpp", "--split-preset", "ilf",
                     "--split", "train")  # fmt: skip
    assert code == 1 and "--split or --split-preset" in out
    code, out = _ekt(root, "import", str(DATA), "--format", "jsonl", "--split-preset", "ilf")
    assert code == 1 and "applies to --format mbpp" in out
