"""A gold project (tests/core/train's) plus two more passing programs for toy/t1: one that
returns a hard-coded number and one the fake judge cannot score; the tiny model as embedder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.candidates import code_hash
from core.store import connect_sync
from tests.core.train.conftest import make_gold_project
from tests.tiny_model import make_tiny_model

HARD_CODED = "def solution():\n    return 5\n"
UNSURE = "def solution():\n    # judge: unsure\n    return 2 + 3\n"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    root = make_gold_project(tmp_path / "proj")
    conn = connect_sync(root / "ekt.db")
    with conn:
        for n, code in enumerate((HARD_CODED, UNSURE)):
            cur = conn.execute(
                "INSERT INTO candidates(problem_id, source, run_id, sample_index, code,"
                " code_hash, created_at) VALUES ('toy/t1', 'teacher', 1, ?, ?, ?, ?)",
                (n, code, code_hash(code), time.time()),
            )
            conn.execute(
                "INSERT INTO verdicts(candidate_id, status, created_at) VALUES (?, 'pass', ?)",
                (cur.lastrowid, time.time()),
            )
    conn.close()
    return root
