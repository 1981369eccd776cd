"""`ekt eval --teacher` with an openai-compatible endpoint: FakeOpenAIServer through the real
client, samples verified in the sandbox, pass@k stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

import core.cli.eval_cmds  # noqa: F401  (registers the eval group on the root)
from core.cli.app import cli
from tests.fake_openai import FakeOpenAIServer

# t1: both samples right; t2: one of two; t3: none
ANSWERS = {
    "What is 2 + 3?": ["\n    return 5\n", "\n    return 2 + 3\n"],
    "What is 4 * 6?": ["\n    return 24\n", "\n    return 10\n"],
    "What is 10 - 7?": ["\n    return 1 / 0\n", "\n    return (\n"],
}


def _use_teacher(root: Path, base_url: str) -> None:
    toml = root / "ekt.toml"
    text = toml.read_text()
    text = text.replace('backend = "local"', 'backend = "openai"', 1)
    text = text.replace('base_url = ""', f'base_url = "{base_url}"', 1)
    text = text.replace('api_key_env = "OPENAI_API_KEY"', 'api_key_env = "EKT_TEST_NO_KEY"', 1)
    toml.write_text(text)


def test_eval_teacher_against_an_endpoint(project_dir: Path, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answers = ANSWERS
    fake_openai.default_answer = "\n    return 0\n"
    _use_teacher(project_dir, fake_openai.base_url)
    result = CliRunner().invoke(
        cli, ["-p", str(project_dir), "eval", "--teacher", "--n", "2", "--k", "1,2"]
    )
    assert result.exit_code == 0, result.output
    reqs = fake_openai.completion_requests
    assert len(reqs) == 3 and {r.body["n"] for r in reqs} == {2}  # one request per problem
    assert all(r.body["prompt"].rstrip().endswith("def solution():") for r in reqs)
    conn = sqlite3.connect(project_dir / "ekt.db")
    try:
        rows = conn.execute(
            "SELECT c.problem_id, c.sample_index, v.status FROM candidates c"
            " JOIN verdicts v ON v.candidate_id = c.id ORDER BY c.problem_id, c.sample_index"
        ).fetchall()
        method, status = conn.execute("SELECT method, status FROM evals").fetchone()
    finally:
        conn.close()
    assert [(p, i, s == "pass") for p, i, s in rows] == [
        ("t1", 0, True),
        ("t1", 1, True),
        ("t2", 0, True),
        ("t2", 1, False),
        ("t3", 0, False),
        ("t3", 1, False),
    ]
    assert (method, status) == ("teacher", "done")


def test_eval_teacher_unreachable_is_one_line(project_dir: Path) -> None:
    with FakeOpenAIServer() as srv:
        url = srv.base_url  # a port that is closed once the server stops
    _use_teacher(project_dir, url)
    result = CliRunner().invoke(
        cli, ["-p", str(project_dir), "eval", "--teacher", "--n", "1", "--k", "1"]
    )
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.startswith("ekt: error: cannot reach the teacher at ") and len(err.splitlines()) == 1
