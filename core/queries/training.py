"""Reads of training: train runs (with their last step, loss and checkpoint count), their
events and checkpoints, and the problem sets the SFT split draws from. The trainer subprocess
reads through the `*_sync` functions on its own sqlite3 connection."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from core.store.db import Store

ACTIVE = ("starting", "running")
"""Statuses of a run whose trainer process should be alive."""


def _run_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["config"] = json.loads(out.get("config") or "{}")
    out["lineage"] = json.loads(out.get("lineage") or "{}")
    return out


async def train_run(store: Store, ref: str | int) -> dict[str, Any] | None:
    """A training run (config and lineage decoded) by name, else by id; None when unknown."""
    row = await store.fetchone("SELECT * FROM train_runs WHERE name = ?", (str(ref),))
    if row is None and str(ref).isdigit():
        row = await store.fetchone("SELECT * FROM train_runs WHERE id = ?", (int(ref),))
    return None if row is None else _run_dict(row)


async def active_train_runs(store: Store) -> list[tuple[int, int | None, float]]:
    """(id, pid, updated_at) of the runs whose status says a trainer should be alive."""
    rows = await store.fetchall(
        f"SELECT id, pid, updated_at FROM train_runs WHERE status IN {ACTIVE!r}"
    )
    return [(r["id"], r["pid"], r["updated_at"]) for r in rows]


async def train_runs(store: Store) -> list[dict[str, Any]]:
    """Every run with its last step/loss, planned steps and checkpoint count, newest first."""
    rows = await store.fetchall(
        "SELECT t.*,"
        " (SELECT max(step) FROM train_events e WHERE e.train_run_id = t.id) AS step,"
        " (SELECT loss FROM train_events e WHERE e.train_run_id = t.id AND e.loss IS NOT NULL"
        "   ORDER BY e.id DESC LIMIT 1) AS loss,"
        " (SELECT json_extract(data, '$.max_steps') FROM train_events e"
        "   WHERE e.train_run_id = t.id AND e.kind = 'start' ORDER BY e.id DESC LIMIT 1)"
        "   AS max_steps,"
        " (SELECT count(*) FROM checkpoints c WHERE c.train_run_id = t.id) AS checkpoints"
        " FROM train_runs t ORDER BY t.id DESC"
    )
    return [_run_dict(r) for r in rows]


async def train_events(
    store: Store, run_id: int, *, after_id: int = 0, limit: int = 5000
) -> list[dict[str, Any]]:
    rows = await store.fetchall(
        "SELECT * FROM train_events WHERE train_run_id = ? AND id > ? ORDER BY id LIMIT ?",
        (run_id, after_id, limit),
    )
    return [{**dict(r), "data": json.loads(r["data"] or "{}")} for r in rows]


async def last_train_event_id(store: Store) -> int:
    """The newest event id of any run (follow a resumed run from here on)."""
    return int(await store.scalar("SELECT coalesce(max(id), 0) FROM train_events"))


async def train_checkpoints(store: Store, run_id: int) -> list[dict[str, Any]]:
    rows = await store.fetchall(
        "SELECT * FROM checkpoints WHERE train_run_id = ? ORDER BY step", (run_id,)
    )
    return [
        {**dict(r), "metrics": json.loads(r["metrics"] or "{}"),
         "lineage": json.loads(r["lineage"] or "{}")}
        for r in rows
    ]  # fmt: skip


async def next_train_run_number(store: Store) -> int:
    return int(await store.scalar("SELECT coalesce(max(id), 0) FROM train_runs")) + 1


async def train_run_exists(store: Store, name: str) -> bool:
    return bool(await store.scalar("SELECT 1 FROM train_runs WHERE name = ?", (name,)))


async def problem_splits_of(store: Store, ids: Sequence[str]) -> list[str]:
    """The distinct splits the given problems belong to."""
    marks = ",".join("?" * len(ids))
    rows = await store.fetchall(
        f"SELECT DISTINCT split FROM problems WHERE id IN ({marks})", list(ids)
    )
    return [r[0] for r in rows]


async def split_problem_ids(store: Store, splits: Sequence[str]) -> list[str]:
    """Ids of the problems of these splits in import order."""
    rows = await store.fetchall(
        f"SELECT id FROM problems WHERE split IN ({','.join('?' * len(splits))}) ORDER BY seq",
        list(splits),
    )
    return [r[0] for r in rows]


def checkpoint_id_sync(conn: sqlite3.Connection, run_id: int, step: int) -> int:
    row = conn.execute(
        "SELECT id FROM checkpoints WHERE train_run_id = ? AND step = ?", (run_id, step)
    ).fetchone()
    return int(row[0])


def checkpoint_scores_sync(conn: sqlite3.Connection, run_id: int) -> list[tuple[int, Any]]:
    """(checkpoint id, dev pass@1 or None) of a run's checkpoints in step order."""
    rows = conn.execute(
        "SELECT id, json_extract(metrics, '$.dev_pass_at_1') FROM checkpoints"
        " WHERE train_run_id = ? ORDER BY step",
        (run_id,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def problems_sync(conn: sqlite3.Connection, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every column of the given problems (any order)."""
    rows = conn.execute(
        f"SELECT * FROM problems WHERE id IN ({','.join('?' * len(ids))})", list(ids)
    ).fetchall()
    return [dict(r) for r in rows]
