"""Store: migrations, trigger-maintained per-problem counts, gold derivation, windowed queries."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from core.errors import StoreError
from core.queries import (
    ProblemFilter,
    ProblemSort,
    count_problems,
    list_problems,
    problem_summary,
    status_counts,
)
from core.store import SCHEMA_VERSION, Store, connect_sync

VERDICT_UPSERT = (
    "INSERT INTO verdicts(candidate_id, status, created_at) VALUES (?, ?, 0) "
    "ON CONFLICT(candidate_id) DO UPDATE SET status = excluded.status"
)


def _seed(conn: sqlite3.Connection) -> None:
    now = time.time()
    conn.executemany(
        "INSERT INTO problems(id, seq, dataset, kind, question, answer, imported_at)"
        " VALUES (?, ?, 'gsm8k', 'answer', ?, '1', ?)",
        [(f"p{i}", i, f"question {i}", now) for i in range(3)],
    )
    conn.executemany(
        "INSERT INTO candidates(problem_id, source, code, code_hash, created_at)"
        " VALUES (?, 'teacher', 'x', 'h', ?)",
        [("p0", now), ("p0", now), ("p1", now)],
    )


def test_fresh_store_is_migrated_to_current_version(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "ekt.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "ekt.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this ekt"):
        connect_sync(tmp_path / "ekt.db")


async def test_stats_follow_candidates_verdicts_and_overrides(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "ekt.db")
    _seed(conn)
    store = await Store.open(tmp_path / "ekt.db")
    rows = {r.id: r for r in await problem_summary(store)}
    assert (rows["p0"].n, rows["p0"].pending, rows["p0"].gold) == (2, 2, 0)
    assert rows["p2"].n == 0

    await store.executemany(VERDICT_UPSERT, [(1, "fail"), (2, "pass"), (3, "timeout")])
    rows = {r.id: r for r in await problem_summary(store)}
    assert (rows["p0"].passed, rows["p0"].failed, rows["p0"].pending, rows["p0"].gold) == (
        1,
        1,
        0,
        1,
    )
    assert rows["p1"].timeouts == 1 and not rows["p1"].has_gold

    # re-verification through an upsert moves the count, it does not add one
    await store.execute(VERDICT_UPSERT, (1, "pass"))
    await store.execute("UPDATE candidates SET gold_override = 0 WHERE id = 2")
    rows = {r.id: r for r in await problem_summary(store)}
    assert (rows["p0"].passed, rows["p0"].failed, rows["p0"].gold) == (2, 0, 1)
    gold_ids = [r[0] for r in await store.fetchall("SELECT id FROM gold_candidates ORDER BY id")]
    assert gold_ids == [1]

    # a human can force a non-passing candidate into gold, and take it back
    await store.execute("UPDATE candidates SET gold_override = 1 WHERE id = 3")
    assert {r.id: r.gold for r in await problem_summary(store)}["p1"] == 1
    await store.execute("UPDATE candidates SET gold_override = NULL WHERE id = 3")
    assert {r.id: r.gold for r in await problem_summary(store)}["p1"] == 0

    await store.execute("DELETE FROM verdicts WHERE candidate_id = 1")
    rows = {r.id: r for r in await problem_summary(store)}
    assert (rows["p0"].passed, rows["p0"].pending, rows["p0"].gold) == (1, 1, 0)

    counts = await status_counts(store)
    assert counts.candidates == 3 and counts.pending == 1 and counts.verdicts["timeout"] == 1
    await store.close()


async def test_windowed_filtered_listing(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "ekt.db")
    _seed(conn)
    conn.execute(VERDICT_UPSERT, (2, "pass"))
    store = await Store.open(tmp_path / "ekt.db", readonly=True)
    assert [r.id for r in await list_problems(store, flt=ProblemFilter.SOLVED)] == ["p0"]
    assert [r.id for r in await list_problems(store, flt=ProblemFilter.UNSAMPLED)] == ["p2"]
    assert [r.id for r in await list_problems(store, flt=ProblemFilter.PENDING)] == ["p0", "p1"]
    assert [r.id for r in await list_problems(store, search="question 1")] == ["p1"]
    assert [r.id for r in await list_problems(store, search="%")] == []
    assert [r.id for r in await list_problems(store, offset=1, limit=1)] == ["p1"]
    by_rate = await list_problems(store, sort=ProblemSort.PASS_RATE_DESC)
    assert by_rate[0].id == "p0"
    assert await count_problems(store, flt=ProblemFilter.ALL) == 3
    await store.close()


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    connect_sync(tmp_path / "ekt.db").close()
    store = await Store.open(tmp_path / "ekt.db")
    with pytest.raises(sqlite3.IntegrityError):
        await store.executemany(
            "INSERT INTO problems(id, seq, dataset, kind, question, imported_at)"
            " VALUES (?, ?, 'x', 'answer', 'q', 0)",
            [("a", 1), ("b", 1)],
        )
    assert await store.scalar("SELECT count(*) FROM problems") == 0
    await store.close()


async def test_a_reader_opened_after_the_writer_sees_other_processes_commits(
    tmp_path: Path,
) -> None:
    """Regression: re-reading the header of an open store closed a file descriptor, which drops
    the process's POSIX locks; the reader's snapshot went stale and data_version froze."""
    import subprocess
    import sys

    from core.store import Store

    db = tmp_path / "ekt.db"
    async with await Store.open(db) as writer, await Store.open(db, readonly=True) as reader:
        await writer.fetchall("SELECT count(*) FROM problems")
        before = await reader.data_version()
        code = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
            " c.execute('CREATE TABLE other_process(x)'); c.close()"
        )
        subprocess.run([sys.executable, "-c", code, str(db)], check=True)
        assert await reader.data_version() != before
        names = await reader.fetchall("SELECT name FROM sqlite_master WHERE name = 'other_process'")
        assert len(names) == 1
