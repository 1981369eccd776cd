"""`ekt eval` bad input: one clear line, exit 1, and no evaluation row left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import core.cli.eval_cmds  # noqa: F401  (registers the eval group on the root)
from core.cli.app import cli


def _evals(root: Path) -> int:
    conn = sqlite3.connect(root / "ekt.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM evals").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "no-such-model"], "unknown model 'no-such-model'"),
        (["--model", "missing.gguf"], "missing.gguf: no such GGUF file"),
        (
            ["--model", "smollm2", "--split", "dev"],
            "no problems in split 'dev' (splits here: 'test', 'train')",
        ),
        (["--model", "smollm2", "--k", "1,x"], "expected comma-separated integers"),
        (["--model", "smollm2", "--k", "0"], "--k 0: k must be at least 1"),
        (["--model", "smollm2", "--n", "5", "--k", "1,10"], "--k 10 exceeds --n 5"),
        (["--model", "smollm2", "--n", "0"], "--n 0: need at least one sample"),
        (["--model", "smollm2", "--limit", "0"], "--limit 0: expected a positive number"),
        (["--model", "smollm2", "--teacher"], "either --model or --teacher, not both"),
        (["--model", "smollm2", "--zero-shot", "--prompt", "2"], "exclude each other"),
        ([], "nothing to evaluate"),
        (["--model", "smollm2", "--prompt", "gsm8k@9"], "no prompt gsm8k@v9"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    project_dir: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["-p", str(project_dir), "eval", *args])
    assert result.exit_code == 1, result.output
    err = result.stderr.strip()
    assert err.startswith("ekt: error: ") and len(err.splitlines()) == 1, err
    assert message in err
    assert _evals(project_dir) == 0


def test_table_on_an_empty_project(project_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-p", str(project_dir), "eval", "table"])
    assert result.exit_code == 0
    assert result.stdout.startswith("| model | method |")
    out = tmp_path / "t.csv"
    result = CliRunner().invoke(
        cli, ["-p", str(project_dir), "eval", "table", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0
    assert out.read_text().startswith("model,method,teacher,prompt,split,")


def test_table_bad_format_and_unwritable_out(project_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-p", str(project_dir), "eval", "table", "--format", "x"])
    assert result.exit_code == 2 and "'x' is not one of 'md', 'csv'" in result.stderr
    bad = tmp_path / "no" / "such" / "dir" / "t.md"
    result = CliRunner().invoke(cli, ["-p", str(project_dir), "eval", "table", "--out", str(bad)])
    assert result.exit_code == 1 and "cannot write" in result.stderr
    assert not bad.parent.exists()
