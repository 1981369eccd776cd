"""The trainer subprocess's writer: progress rows into the store, JSON lines on stdout.

Its own sqlite connection (WAL, busy_timeout), rows buffered and written with one executemany
per flush (about once a second, and at every checkpoint, eval and exit), so a fast tiny-model
run does not hold the write lock once per step. No torch here.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Any

from core.queries.training import checkpoint_id_sync, checkpoint_scores_sync
from core.store import connect_sync

EVENT_COLS = ("kind", "step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s", "eta_s")
FLUSH_S = 1.0


class Recorder:
    def __init__(
        self, db: Path | str, run_id: int, *, stdout: IO[str] | None = None, enabled: bool = True
    ) -> None:
        self.run_id = run_id
        self.enabled = enabled  # False on non-zero ranks of a multi-process run
        self.conn = connect_sync(db) if enabled else None
        self.out = stdout if stdout is not None else sys.stdout
        self._rows: list[tuple[Any, ...]] = []
        self._last_flush = time.monotonic()

    def event(self, kind: str, *, data: dict[str, Any] | None = None, **fields: Any) -> None:
        if not self.enabled:
            return
        unknown = set(fields) - set(EVENT_COLS)
        if unknown:
            raise TypeError(f"unknown event fields {sorted(unknown)}")
        now = time.time()
        values = [fields.get(c) for c in EVENT_COLS[1:]]
        self._rows.append((self.run_id, kind, *values, json.dumps(data or {}, default=str), now))
        line = {"kind": kind, **{k: v for k, v in fields.items() if v is not None}}
        if data:
            line["data"] = data
        print(json.dumps(line, default=str), file=self.out, flush=True)
        if kind != "log" or time.monotonic() - self._last_flush >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if not self._rows or self.conn is None:
            return
        rows, self._rows = self._rows, []
        cols = ", ".join(("train_run_id", *EVENT_COLS, "data", "created_at"))
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(
                f"INSERT INTO train_events({cols}) VALUES ({','.join('?' * 11)})", rows
            )
            self.conn.execute(
                "UPDATE train_runs SET updated_at = ? WHERE id = ?", (time.time(), self.run_id)
            )
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        self._last_flush = time.monotonic()

    def status(self, status: str, *, error: str | None = None, pid: int | None = None) -> None:
        if self.conn is None:
            return
        self.flush()
        sets, params = ["status = ?", "error = ?", "updated_at = ?"], [status, error, time.time()]
        if pid is not None:
            sets.append("pid = ?")
            params.append(pid)
        self.conn.execute(
            f"UPDATE train_runs SET {', '.join(sets)} WHERE id = ?", (*params, self.run_id)
        )

    def checkpoint(
        self, step: int, path: str, metrics: dict[str, Any], lineage: dict[str, Any]
    ) -> int | None:
        """Insert (or refresh, on a resumed run) the checkpoint row; returns its id."""
        if self.conn is None:
            return None
        self.flush()
        self.conn.execute(
            "INSERT INTO checkpoints(train_run_id, step, path, metrics, lineage, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(train_run_id, step) DO UPDATE SET"
            " path = excluded.path, metrics = excluded.metrics, lineage = excluded.lineage",
            (self.run_id, step, path, json.dumps(metrics), json.dumps(lineage), time.time()),
        )
        return checkpoint_id_sync(self.conn, self.run_id, step)

    def mark_best(self) -> int | None:
        """Flag the checkpoint with the highest dev pass@1 (the earliest on a tie) as best."""
        if self.conn is None:
            return None
        rows = checkpoint_scores_sync(self.conn, self.run_id)
        scored = [(score, cid) for cid, score in rows if score is not None]
        if not scored:
            return None
        best_score = max(s for s, _ in scored)
        best = next(i for s, i in scored if s == best_score)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "UPDATE checkpoints SET metrics = json_set(metrics, '$.best', json(CASE WHEN id = ?"
            " THEN 'true' ELSE 'false' END)) WHERE train_run_id = ?",
            (best, self.run_id),
        )
        self.conn.execute("COMMIT")
        return best

    def close(self) -> None:
        if self.conn is not None:
            self.flush()
            self.conn.close()
            self.conn = None
