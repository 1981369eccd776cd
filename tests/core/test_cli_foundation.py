"""The `ekt` foundation commands end to end: init, import, status, prompt, demo, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.cli import cli
from core.demo import ensure_demo_project
from core.project import ASSETS
from core.prompts import default_template, exemplar_questions
from core.store import VERDICT_STATUSES, connect_sync

SAMPLES = ASSETS / "samples"
TOTALS = {"problems", "candidates", "verdicts", "gold_problems", "requests", "tokens", "cost_usd"}


def ekt(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    result = ekt("init", root)
    assert result.exit_code == 0, result.stderr
    return root


def _status(root: Path) -> dict:
    result = ekt("-p", root, "status", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ekt: error: "), result.stderr
    return lines[0]


def test_import_status_and_reimport(project: Path) -> None:
    src = SAMPLES / "math-train.jsonl"
    first = ekt("-p", project, "import", src, "--format", "gsm8k", "--dataset", "m")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("imported 24 new problems")
    assert _status(project)["problems"] == 24
    again = ekt("-p", project, "import", src, "--format", "gsm8k", "--dataset", "m")
    assert again.exit_code == 0 and "imported 0 new problems" in again.stdout
    assert "24 already present" in again.stdout
    assert _status(project)["problems"] == 24


def test_broken_line_5_exits_nonzero_and_changes_nothing(project: Path, tmp_path: Path) -> None:
    ekt("-p", project, "import", SAMPLES / "math-test.jsonl", "--format", "gsm8k")
    before = _status(project)
    lines = (SAMPLES / "math-train.jsonl").read_text().splitlines()[:8]
    lines[4] = lines[4][:40]  # truncated JSON on line 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    line = _one_line_error(ekt("-p", project, "import", bad, "--format", "gsm8k"))
    assert f"{bad}:5: invalid JSON" in line
    assert _status(project) == before
    skipped = ekt("-p", project, "import", bad, "--format", "gsm8k", "--skip-bad")
    assert skipped.exit_code == 0 and "imported 7 new problems" in skipped.stdout
    assert "skipped 1 bad rows" in skipped.stderr and f"{bad}:5:" in skipped.stderr
    assert _status(project)["problems"] == before["problems"] + 7


def test_mapping_flags_and_formats_from_the_cli(project: Path) -> None:
    data = Path(__file__).resolve().parent.parent / "data"
    args = ["--format", "csv", "--id-field", "id", "--answer-field", "answer", "--limit", "2"]
    result = ekt("-p", project, "import", data / "mapped.csv", *args)
    assert result.exit_code == 0, result.stderr
    mbpp = ekt(
        "-p",
        project,
        "import",
        SAMPLES / "code-test.jsonl",
        "--format",
        "mbpp",
        "--dataset",
        "c",
        "--json",
    )
    assert json.loads(mbpp.stdout)["kinds"] == {"asserts": 6}
    he = ekt("-p", project, "import", SAMPLES / "check-test.jsonl", "--format", "humaneval")
    assert he.exit_code == 0, he.stderr
    assert _status(project)["problems"] == 2 + 6 + 4
    line = _one_line_error(
        ekt("-p", project, "import", data / "mapped.csv", "--format", "gsm8k", "--id-field", "id")
    )
    assert "apply to jsonl/csv" in line
    bad_format = ekt("-p", project, "import", data / "mapped.csv", "--format", "xml")
    assert bad_format.exit_code != 0 and "xml" in bad_format.stderr


def test_status_json_shape_with_a_run(project: Path) -> None:
    ekt("-p", project, "import", SAMPLES / "math-test.jsonl", "--format", "gsm8k")
    conn = connect_sync(project / "ekt.db")
    now = time.time()
    conn.execute(
        "INSERT INTO runs(id, name, teacher, created_at, updated_at, status)"
        " VALUES (1, 'r1', '{\"model\": \"m\"}', ?, ?, 'done')",
        [now, now],
    )
    conn.execute(
        "INSERT INTO requests(id, run_id, problem_id, first_index, n, status, prompt_tokens,"
        " completion_tokens, cost_usd) VALUES (1, 1, 'gsm8k/test/0', 0, 2, 'done', 100, 40, 0.25)"
    )
    conn.executemany(
        "INSERT INTO candidates(id, problem_id, source, run_id, request_id, sample_index, code,"
        " code_hash, created_at) VALUES (?, 'gsm8k/test/0', 'teacher', 1, 1, ?, 'x', ?, ?)",
        [(1, 0, "h0", now), (2, 1, "h1", now)],
    )
    conn.execute("INSERT INTO verdicts(candidate_id, status, created_at) VALUES (1, 'pass', 0)")
    conn.close()
    data = _status(project)
    assert set(data) >= TOTALS and "runs" in data
    assert data["problems"] == 9 and data["candidates"] == 2 and data["gold_problems"] == 1
    assert set(data["verdicts"]) == set(VERDICT_STATUSES) and data["verdicts"]["pass"] == 1
    assert data["tokens"] == {"prompt": 100, "completion": 40} and data["cost_usd"] == 0.25
    (run,) = data["runs"]
    assert set(run) >= TOTALS
    assert (run["name"], run["problems"], run["candidates"], run["requests"]) == ("r1", 1, 2, 1)
    assert run["verdicts"]["pass"] == 1 and run["tokens"] == data["tokens"]
    table = CliRunner().invoke(cli, ["-p", str(project), "status"], terminal_width=80)
    assert table.exit_code == 0
    assert "r1" in table.stdout and "gold problems" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


def test_prompt_set_list_show_render(project: Path, tmp_path: Path) -> None:
    ekt("-p", project, "import", SAMPLES / "math-test.jsonl", "--format", "gsm8k")
    listed = ekt("-p", project, "prompt", "list")
    assert listed.exit_code == 0 and "gsm8k@v1" in listed.stdout and "mbpp@v1" in listed.stdout
    edited = tmp_path / "gsm8k.txt"
    edited.write_text("# Solve it.\n" + default_template("gsm8k"))
    saved = ekt("-p", project, "prompt", "set", edited, "--note", "add a header")
    assert saved.exit_code == 0 and "saved gsm8k@v2" in saved.stdout
    same = ekt("-p", project, "prompt", "set", edited, "--note", "again")
    assert "unchanged" in same.stdout
    listed = ekt("-p", project, "prompt", "list", "--name", "gsm8k")
    assert "gsm8k@v2           parent gsm8k@v1" in listed.stdout and "add a header" in listed.stdout
    shown = ekt("-p", project, "prompt", "show", "gsm8k@1")
    assert shown.stdout == default_template("gsm8k")
    assert "gsm8k@v1" in shown.stderr
    rendered = ekt("-p", project, "prompt", "render", "--problem", "gsm8k/test/0")
    assert rendered.exit_code == 0
    assert rendered.stdout.startswith("# Solve it.\n")
    assert rendered.stdout.endswith("def solution():\n")
    assert "gsm8k@v2" in rendered.stderr and "tokens" in rendered.stderr
    as_json = json.loads(
        ekt(
            "-p",
            project,
            "prompt",
            "render",
            "--problem",
            "gsm8k/test/0",
            "--version",
            "1",
            "--json",
        ).stdout
    )
    assert as_json["prompt"] == "gsm8k@v1" and as_json["code_prefix"] == "def solution():"
    assert as_json["text"].endswith("def solution():") and as_json["tokens"] > 100


def test_prompt_bad_input_is_one_line_and_saves_nothing(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "gsm8k.txt"
    bad.write_text("Q: {{question}}\nA: {{solution}}\n")
    line = _one_line_error(ekt("-p", project, "prompt", "set", bad, "--note", "x"))
    assert "unknown placeholder {{solution}}" in line
    other = tmp_path / "custom.txt"
    other.write_text("{{question}}")
    assert "give --name" in _one_line_error(
        ekt("-p", project, "prompt", "set", other, "--note", "x")
    )
    listed = ekt("-p", project, "prompt", "list")
    assert "gsm8k@v2" not in listed.stdout
    missing = ekt("-p", project, "prompt", "render", "--problem", "nope/1")
    assert "no problem 'nope/1'" in _one_line_error(missing)


def test_prompt_set_warns_about_leaked_exemplar(project: Path, tmp_path: Path) -> None:
    ekt("-p", project, "import", SAMPLES / "math-train.jsonl", "--format", "gsm8k")
    question = json.loads((SAMPLES / "math-train.jsonl").read_text().splitlines()[3])["question"]
    template = default_template("gsm8k").replace(
        exemplar_questions(default_template("gsm8k"))[0], question
    )
    path = tmp_path / "gsm8k.txt"
    path.write_text(template)
    result = ekt("-p", project, "prompt", "set", path, "--note", "leaky")
    assert result.exit_code == 0
    assert "leakage" in result.stderr and "gsm8k/train/3 exactly" in result.stderr


def test_broken_config_is_one_line_naming_file_and_field(project: Path) -> None:
    (project / "ekt.toml").write_text('[sampling]\ntemperature = "hot"\n')
    line = _one_line_error(ekt("-p", project, "status"))
    assert str(project / "ekt.toml") in line and "temperature" in line and "hot" in line
    (project / "ekt.toml").write_text("[sampling\n")
    assert "not valid TOML" in _one_line_error(ekt("-p", project, "status", "--json"))


def test_not_a_project(tmp_path: Path) -> None:
    line = _one_line_error(ekt("-p", tmp_path / "none", "status", "--json"))
    assert "ekt.toml: no such file" in line
    ekt("init", tmp_path / "twice")
    assert "already exists" in _one_line_error(ekt("init", tmp_path / "twice"))


def test_demo_project_is_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKT_DEMO_DIR", str(tmp_path / "demo"))
    root = ensure_demo_project()
    assert root == tmp_path / "demo"
    data = _status(root)
    assert data["problems"] == 24 + 9 + 12 + 6 + 4
    db_mtime = (root / "ekt.db").stat().st_mtime_ns
    assert ensure_demo_project() == root
    assert (root / "ekt.db").stat().st_mtime_ns == db_mtime  # the fast path writes nothing
    listed = ekt("-p", root, "prompt", "list")
    assert all(f"{n}@v1" in listed.stdout for n in ("gsm8k", "mbpp", "humaneval"))
    (root / ".ekt-demo").write_text("stale\n")
    assert ensure_demo_project() == root and _status(root)["problems"] == data["problems"]
