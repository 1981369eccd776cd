"""A small project with answer-checked problems in a test and a train split."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.project import init_project
from core.store import connect_sync

PROBLEMS = [
    ("t1", "test", "What is 2 + 3?", "5"),
    ("t2", "test", "What is 4 * 6?", "24"),
    ("t3", "test", "What is 10 - 7?", "3"),
    ("r1", "train", "What is 1 + 1?", "2"),
]


def add_problems(root: Path, problems: list[tuple[str, str, str, str]] = PROBLEMS) -> None:
    conn = connect_sync(root / "ekt.db")
    try:
        start = conn.execute("SELECT coalesce(max(seq), 0) FROM problems").fetchone()[0]
        conn.executemany(
            "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, imported_at)"
            " VALUES (?, ?, 'toy', ?, 'answer', ?, ?, ?)",
            [(pid, start + i + 1, split, q, a, time.time()) for i, (pid, split, q, a) in
             enumerate(problems)],
        )  # fmt: skip
    finally:
        conn.close()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    root = init_project(tmp_path / "proj")
    add_problems(root)
    return root
