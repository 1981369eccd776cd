"""A project with verified gold (answer problems, one teacher run) and a tiny random student."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.candidates import code_hash
from core.project import init_project
from core.store import connect_sync
from tests.tiny_model import make_tiny_model

T0 = 1_780_000_000.0
PROBLEMS = [(f"toy/{i}", "train", f"Tom has {i} apples and buys 2 more. How many?", str(i + 2))
            for i in range(1, 9)] + [("toy/t1", "test", "What is 2 + 3?", "5")]  # fmt: skip


def gold_code(i: int, variant: int = 0) -> str:
    extra = "    x = 0\n" if variant else ""
    return f"def solution():\n{extra}    apples = {i}\n    return apples + 2\n"


def make_gold_project(root: Path, *, with_gold: bool = True) -> Path:
    init_project(root, name="train-test")
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, imported_at)"
            " VALUES (?, ?, 'toy', ?, 'answer', ?, ?, ?)",
            [(pid, i + 1, split, q, a, T0) for i, (pid, split, q, a) in enumerate(PROBLEMS)],
        )
        conn.execute(
            "INSERT INTO prompts(id, name, version, template, created_at)"
            " VALUES (1, 'gsm8k', 1, 'Q: {{question}}\ndef solution():', ?)",
            (T0,),
        )
        conn.execute(
            "INSERT INTO runs(id, name, teacher, params, status, created_at, updated_at)"
            " VALUES (1, 'teach-1', ?, ?, 'done', ?, ?)",
            (json.dumps({"backend": "openai", "model": "big-teacher"}),
             json.dumps({"n": 4, "temperature": 0.8}), T0, T0),
        )  # fmt: skip
        conn.execute("INSERT INTO run_prompts(run_id, kind, prompt_id) VALUES (1, 'answer', 1)")
        if with_gold:
            rows = []
            for i in range(1, 9):
                for variant in (0, 1) if i % 2 else (0,):
                    rows.append((f"toy/{i}", gold_code(i, variant), variant))
            for n, (pid, code, variant) in enumerate(rows):
                cur = conn.execute(
                    "INSERT INTO candidates(problem_id, source, run_id, sample_index, code,"
                    " code_hash, created_at) VALUES (?, 'teacher', 1, ?, ?, ?, ?)",
                    (pid, variant, code, code_hash(code), T0 + n),
                )
                conn.execute(
                    "INSERT INTO verdicts(candidate_id, status, created_at) VALUES (?, 'pass', ?)",
                    (cur.lastrowid, T0),
                )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def gold_project(tmp_path: Path) -> Path:
    return make_gold_project(tmp_path / "proj")


def wait_status(db: Path, run_id: int, statuses: tuple[str, ...], timeout: float = 120) -> str:
    """Poll the store until the run reaches one of `statuses` (the trainer is a subprocess)."""
    deadline = time.monotonic() + timeout
    conn = connect_sync(db, readonly=True)
    try:
        while time.monotonic() < deadline:
            (status,) = conn.execute(
                "SELECT status FROM train_runs WHERE id = ?", (run_id,)
            ).fetchone()
            if status in statuses:
                return str(status)
            time.sleep(0.1)
    finally:
        conn.close()
    raise AssertionError(f"run {run_id} did not reach {statuses} in {timeout} s")
