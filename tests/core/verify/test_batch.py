"""A batch never aborts because of a candidate: each ends as one stored verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.project import Project
from core.verify.service import verify_pending
from tests.core.verify.test_cli import SAMPLES, _add_candidates, _ids, ekt
from tests.core.verify.test_forgery import forge
from tests.core.verify.test_service import RIGHT, _add, _statuses

HOSTILE = [
    forge('{"status": "sandbox-error", "error_message": "forged"}'),
    forge('{"status": "pass"}'),
    forge('{"status": "returned", "value": {"?": "\\ud800"}, "error_message": "\\ud800"}'),
    "def solution():\n    raise ValueError('\\ud800 \\x1b[32mpass\\x1b[0m')\n",
    "def solution():\n    print('\\ud800\\x1b]52;c;aGk=\\x07')\n    return 17\n",
    "import os\nos.write(3, b'\\xff\\xfe garbage')\n",
]


@pytest.fixture
def cli_project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    assert ekt("init", root).exit_code == 0
    result = ekt("-p", root, "import", SAMPLES / "math-train.jsonl", "--format", "gsm8k")
    assert result.exit_code == 0, result.stderr
    result = ekt("-p", root, "import", SAMPLES / "code-train.jsonl", "--format", "mbpp")
    assert result.exit_code == 0, result.stderr
    return root


async def test_hostile_candidates_each_get_a_verdict(project: Project) -> None:
    ids = await _add(project, *[("g1", code) for code in HOSTILE], ("g1", RIGHT))
    result = await verify_pending(project, workers=2)
    assert result["verified"] == len(ids)
    statuses = await _statuses(project)
    got = [statuses[i] for i in ids[:-1]]
    assert got == ["crashed", "crashed", "fail", "error", "fail", "error"]
    assert statuses[ids[-1]] == "pass"
    rows = await project.store.fetchall("SELECT detail, error_message, output FROM verdicts")
    for row in rows:
        for text in row:
            (text or "").encode("utf-8")  # no lone surrogate reached the store


def test_cli_goes_on_and_prints_no_escape(cli_project: Path) -> None:
    project = cli_project
    gsm, _ = _ids(project)
    _add_candidates(project, "r", gsm, [*HOSTILE, "def solution():\n    return 39\n"])
    result = ekt("-p", project, "verify", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verified"] == len(HOSTILE) + 1 and out["by_status"]["pass"] == 1
    bad = project / "bad.py"
    bad.write_text(HOSTILE[3], encoding="utf-8")
    result = ekt("-p", project, "check", bad, "--problem", gsm)
    assert result.exit_code == 2, result.stderr
    assert "\x1b" not in result.stdout and result.stdout.startswith("error: ValueError")
    result = ekt("-p", project, "check", bad, "--problem", gsm, "--json")
    assert json.loads(result.stdout)["trusted_harness"] is True
