"""A project with gold and two finished training runs (fixed numbers) for the Training screen."""

from __future__ import annotations

import json
import math
from pathlib import Path

from core.store import connect_sync
from tests.core.train.conftest import T0, make_gold_project

STEPS = 30
LINEAGE = {"method": "ekt-sft", "teacher": "big-teacher", "prompts": ["gsm8k@v1"],
           "gold_policy": "all-distinct", "sft_examples": 12, "sft_problems": 8,
           "sft_hash": "3f0c9a7d1e5b" + "0" * 52}  # fmt: skip


def _loss(step: int) -> float:
    return round(2.0 + 3.0 * math.exp(-step / 8) + 0.15 * math.sin(step), 4)


def _ev(run: int, kind: str, step: int | None, data: dict | None = None) -> tuple:
    epoch = None if step is None else step / 10
    return (run, kind, step, epoch, None, None, None, None, None, json.dumps(data or {}))


def make_train_project(root: Path) -> Path:
    make_gold_project(root)
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute("BEGIN")
        cfg = {"model": "smollm2", "max_steps": STEPS, "batch_size": 8}
        out = str(root / "checkpoints")
        conn.executemany(
            "INSERT INTO train_runs(id, name, status, config, lineage, output_dir, pid, error,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            [
                (1, "sft-1", "cancelled", json.dumps({**cfg, "max_steps": 100}), "{}",
                 out + "/sft-1", None, T0, T0),
                (2, "sft-2", "done", json.dumps(cfg), json.dumps(LINEAGE), out + "/sft-2", None,
                 T0 + 10, T0 + 10),
            ],
        )  # fmt: skip
        rows = [_ev(1, "start", 0, {"max_steps": 100})]
        rows += [(1, "log", s, s / 50, _loss(s), 5e-5, 1.1, 410.0, 600.0, "{}") for s in (1, 2)]
        rows += [_ev(1, "cancelled", None)]
        rows += [_ev(2, "start", 0, {"max_steps": STEPS, "examples": 12, "dev": 2})]
        for s in range(1, STEPS + 1):
            lr = 5e-5 * (1 - s / STEPS)
            eta = (STEPS - s) * 2.0
            rows.append((2, "log", s, s / 10, _loss(s), lr, 1.5, 812.0, eta, "{}"))
            if s % 10 == 0:
                rows.append(_ev(2, "eval", s, {"dev_pass_at_1": {10: 0.0, 20: 0.5, 30: 0.5}[s]}))
                rows.append(_ev(2, "checkpoint", s, {"path": f"{out}/sft-2/checkpoint-{s}"}))
        rows.append(_ev(2, "done", None))
        conn.executemany(
            "INSERT INTO train_events(train_run_id, kind, step, epoch, loss, lr, grad_norm,"
            " tokens_per_s, eta_s, data, created_at) VALUES (?,?,?,?,?,?,?,?,?,?, ?)",
            [(*r, T0 + i) for i, r in enumerate(rows)],
        )
        conn.executemany(
            "INSERT INTO checkpoints(train_run_id, step, path, metrics, lineage, created_at)"
            " VALUES (2, ?, ?, ?, '{}', ?)",
            [
                (s, f"{out}/sft-2/checkpoint-{s}",
                 json.dumps({"dev_pass_at_1": d, "loss": _loss(s), "best": s == 20}), T0 + s)
                for s, d in ((10, 0.0), (20, 0.5), (30, 0.5))
            ],
        )  # fmt: skip
        conn.execute("COMMIT")
    finally:
        conn.close()
    return root
