"""`ekt verify`, `ekt check`, `ekt verify --calibrate`, `ekt gold export` end to end."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.candidates import code_hash
from core.cli import cli
from core.project import ASSETS
from core.store import connect_sync

SAMPLES = ASSETS / "samples"
RIGHT = "def solution():\n    return 39\n"
COMPUTED = "def solution():\n    monday = 18\n    return monday + monday * 2 - 15\n"


def ekt(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin, catch_exceptions=False)


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ekt: error: "), result.stderr
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    assert ekt("init", root).exit_code == 0
    for name, fmt in (("math-train.jsonl", "gsm8k"), ("code-train.jsonl", "mbpp")):
        result = ekt("-p", root, "import", SAMPLES / name, "--format", fmt)
        assert result.exit_code == 0, result.stderr
    return root


def _ids(root: Path) -> tuple[str, str]:
    conn = connect_sync(root / "ekt.db")
    gsm = conn.execute(
        "SELECT id, answer FROM problems WHERE kind = 'answer' ORDER BY seq"
    ).fetchone()
    mbpp = conn.execute("SELECT id FROM problems WHERE kind = 'asserts' ORDER BY seq").fetchone()
    conn.close()
    assert gsm["answer"] == "39"
    return gsm["id"], mbpp["id"]


def _add_candidates(root: Path, run: str, problem: str, codes: list[str]) -> None:
    conn = connect_sync(root / "ekt.db")
    now = time.time()
    conn.execute(
        "INSERT OR IGNORE INTO runs(name, created_at, updated_at) VALUES (?, ?, ?)",
        (run, now, now),
    )
    run_id = conn.execute("SELECT id FROM runs WHERE name = ?", (run,)).fetchone()[0]
    conn.executemany(
        "INSERT INTO candidates(problem_id, source, run_id, sample_index, code, code_hash,"
        " created_at) VALUES (?, 'teacher', ?, ?, ?, ?, ?)",
        [(problem, run_id, i, code, code_hash(code), now) for i, code in enumerate(codes)],
    )
    conn.close()


def test_verify_with_flags_and_run_filter(project: Path) -> None:
    gsm, _ = _ids(project)
    codes = [
        RIGHT,
        "# same program\n" + RIGHT,
        "def solution():\n    return 40\n",
        "def solution():\n    return 1 / 0\n",
        "def solution():\n    while True:\n        pass\n",
    ]
    _add_candidates(project, "a", gsm, codes)
    _add_candidates(project, "b", gsm, [RIGHT])
    args = ["--run", "a", "--workers", "2", "--timeout", "0.5", "--memory-mb", "256", "--json"]
    result = ekt("-p", project, "verify", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["pending"], data["verified"], data["executed"], data["reused"]) == (5, 5, 4, 1)
    assert data["by_status"] == {"pass": 2, "fail": 1, "error": 1, "timeout": 1}
    assert data["isolation"]["heavy_modules"] == []
    conn = connect_sync(project / "ekt.db")
    meta = conn.execute("SELECT DISTINCT verifier FROM verdicts").fetchall()
    conn.close()
    assert [json.loads(m[0]) for m in meta] == [{"timeout_s": 0.5, "memory_mb": 256}]
    rest = ekt("-p", project, "verify")
    assert rest.exit_code == 0, rest.stderr
    assert rest.stdout.startswith("verified 1 candidates (ran 0 programs, 1 shared a verdict)")
    assert _one_line_error(ekt("-p", project, "verify", "--run", "zzz")).endswith(
        "run 'zzz': no such run in " + str(project / "ekt.db")
    )


def test_check_json_and_exit_status(project: Path, tmp_path: Path) -> None:
    gsm, mbpp = _ids(project)
    good = tmp_path / "good.py"
    good.write_text(RIGHT)
    result = ekt("-p", project, "check", good, "--problem", gsm, "--json")
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["status"] == "pass" and verdict["detail"] == "returned 39 (expected 39)"
    assert isinstance(verdict["duration_s"], float) and verdict["duration_s"] > 0

    wrong = ekt(
        "-p", project, "check", "-", "--problem", mbpp, stdin="def count_digits(n):\n    return 1\n"
    )
    assert wrong.exit_code == 2
    assert wrong.stdout.startswith(
        "fail: 2/3 asserts passed; first failing: assert count_digits(12345)"
    )

    slow = "import time\ntime.sleep(100)\n"
    timed = ekt(
        "-p", project, "check", "-", "--problem", gsm, "--timeout", "0.3", "--json", stdin=slow
    )
    assert timed.exit_code == 2 and json.loads(timed.stdout)["status"] == "timeout"

    noisy = ekt("-p", project, "check", "-", "--problem", gsm, stdin="print('hm')\n")
    assert noisy.exit_code == 2
    assert noisy.stdout.splitlines()[0].startswith("error: NameError")
    assert noisy.stdout.splitlines()[1:] == ["output:", "hm"]

    assert "no such problem" in _one_line_error(ekt("-p", project, "check", good, "--problem", "x"))
    missing = _one_line_error(ekt("-p", project, "check", tmp_path / "nope.py", "--problem", gsm))
    assert "nope.py: cannot read" in missing
    # Nothing is stored by `ekt check`.
    conn = connect_sync(project / "ekt.db")
    assert conn.execute("SELECT count(*) FROM verdicts").fetchone()[0] == 0
    conn.close()


def test_calibrate_suggests_a_timeout(project: Path) -> None:
    result = ekt("-p", project, "verify", "--calibrate", "--workers", "2", "--json")
    assert result.exit_code == 0, result.stderr
    cal = json.loads(result.stdout)
    assert cal["n"] == 12 and cal["passed"] == 12  # the MBPP samples' reference solutions
    assert 0 < cal["median_s"] <= cal["p95_s"] <= cal["max_s"]
    assert cal["suggested_timeout_s"] >= max(1.0, 3 * cal["max_s"])
    assert cal["current_timeout_s"] == 5.0
    text = ekt("-p", project, "verify", "--calibrate")
    assert "suggested [verifier] timeout_s =" in text.stdout


def test_calibrate_without_references_says_why(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    ekt("init", root)
    assert "no reference programs" in _one_line_error(ekt("-p", root, "verify", "--calibrate"))


def test_gold_export_jsonl_and_hf_dataset(project: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    gsm, mbpp = _ids(project)
    _add_candidates(
        project,
        "a",
        gsm,
        # genuine programs: a hard-coded `return 39` would be a spurious pass, kept out of gold
        [
            COMPUTED,
            "def solution():\n    return 18 + 18 * 2 - 15\n",
            "def solution():\n    return 0\n",
        ],
    )
    _add_candidates(project, "b", mbpp, ["def count_digits(n):\n    return len(str(n))\n"])
    assert ekt("-p", project, "verify").exit_code == 0
    out = tmp_path / "gold.jsonl"
    hf = tmp_path / "gold-hf"
    result = ekt("-p", project, "gold", "export", out, "--hf-dataset", hf)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"wrote 3 gold examples to {out} and {hf}"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["problem"], r["verdict"], r["source"]) for r in rows] == [
        (gsm, "pass", "teacher"), (gsm, "pass", "teacher"), (mbpp, "pass", "teacher"),
    ]  # fmt: skip
    assert rows[0]["code"] == COMPUTED and rows[0]["prompt"]
    loaded = datasets.load_from_disk(str(hf))
    assert loaded.num_rows == 3 and loaded[2]["problem"] == mbpp
    assert set(loaded.column_names) >= {"problem", "prompt", "code", "source", "verdict"}

    first = ekt("-p", project, "gold", "export", tmp_path / "first.jsonl", "--policy", "first")
    assert first.stdout.startswith("wrote 2 gold examples")
    again = ekt("-p", project, "gold", "export", out, "--hf-dataset", hf)
    assert "folder exists and is not empty" in _one_line_error(again)
