"""Reads of evaluations: their records (label, params, results), per-problem sample counts and
verdicts, and the checkpoints' recorded lineage that labels a student's evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.queries.runs import json_object
from core.store.db import Store


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One evaluation as stored: what was evaluated, how, and what came out."""

    id: int
    name: str
    model: str
    method: str
    teacher: str
    split: str
    status: str
    params: dict[str, Any]
    results: dict[str, Any]
    created_at: float
    prompt_name: str | None  # the prompt version (None: zero-shot)
    prompt_version: int | None

    def as_dict(self) -> dict[str, Any]:
        """The `ekt eval list --json` shape."""
        return {
            "id": self.id, "name": self.name, "model": self.model, "method": self.method,
            "teacher": self.teacher, "split": self.split, "status": self.status,
            "results": self.results,
        }  # fmt: skip


_EVAL_SQL = (
    "SELECT e.id, e.name, e.model, e.method, e.teacher, e.split, e.status, e.params, e.results,"
    " e.created_at, p.name, p.version FROM evals e LEFT JOIN prompts p ON p.id = e.prompt_id"
)


def _eval(r: Any) -> EvalRow:
    return EvalRow(
        r[0], r[1], r[2], r[3] or "", r[4] or "", r[5] or "", r[6],
        json_object(r[7]), json_object(r[8]), float(r[9]), r[10], r[11],
    )  # fmt: skip


async def list_evals(store: Store, *, done_only: bool = False) -> list[EvalRow]:
    """Every evaluation (or only finished ones) in creation order."""
    where = " WHERE e.status = 'done'" if done_only else ""
    return [_eval(r) for r in await store.fetchall(f"{_EVAL_SQL}{where} ORDER BY e.id")]


async def get_eval(store: Store, eval_id: int) -> EvalRow | None:
    row = await store.fetchone(f"{_EVAL_SQL} WHERE e.id = ?", [eval_id])
    return None if row is None else _eval(row)


async def eval_by_name(store: Store, name: str) -> EvalRow | None:
    row = await store.fetchone(f"{_EVAL_SQL} WHERE e.name = ?", [name])
    return None if row is None else _eval(row)


async def eval_name_taken(store: Store, name: str) -> bool:
    return bool(await store.scalar("SELECT 1 FROM evals WHERE name = ?", (name,)))


async def eval_problem_counts(store: Store, eval_id: int) -> dict[str, tuple[int, int]]:
    """{problem id: (samples, passing samples)} of an evaluation's stored samples."""
    rows = await store.fetchall(
        "SELECT c.problem_id, COUNT(*) AS n, SUM(v.status = 'pass') AS c"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? GROUP BY c.problem_id",
        (eval_id,),
    )
    return {r["problem_id"]: (int(r["n"]), int(r["c"] or 0)) for r in rows}


async def eval_status_counts(store: Store, eval_id: int) -> dict[str, int]:
    """Verdict statuses of an evaluation's samples ('pending' for unverified ones)."""
    rows = await store.fetchall(
        "SELECT COALESCE(v.status, 'pending') AS s, COUNT(*) AS n"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? GROUP BY s ORDER BY n DESC",
        (eval_id,),
    )
    return {r["s"]: int(r["n"]) for r in rows}


async def eval_done_problems(store: Store, eval_id: int, n: int) -> set[str]:
    """Problems that already have `n` samples in this evaluation."""
    rows = await store.fetchall(
        "SELECT problem_id FROM candidates WHERE eval_id = ? GROUP BY problem_id"
        " HAVING COUNT(*) >= ?",
        (eval_id, n),
    )
    return {r[0] for r in rows}


async def unverified_eval_candidates(store: Store, eval_id: int) -> list[int]:
    rows = await store.fetchall(
        "SELECT c.id FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? AND v.candidate_id IS NULL",
        (eval_id,),
    )
    return [r[0] for r in rows]


@dataclass(frozen=True, slots=True)
class EvalProblemRow:
    """One problem of an evaluation: its samples and how many passed."""

    problem_id: str
    samples: int
    passed: int
    first_detail: str  # one failing verdict's detail (the smallest), as an example


async def eval_problems(store: Store, eval_id: int) -> list[EvalProblemRow]:
    """The problems an evaluation sampled, in import order (a split: ≤ a few thousand rows)."""
    rows = await store.fetchall(
        "SELECT c.problem_id, count(*), coalesce(sum(v.status = 'pass'), 0),"
        " coalesce(min(CASE WHEN v.status != 'pass' THEN v.detail END), '')"
        " FROM candidates c JOIN problems p ON p.id = c.problem_id"
        " LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? GROUP BY c.problem_id ORDER BY min(p.seq)",
        [eval_id],
    )
    return [EvalProblemRow(r[0], int(r[1]), int(r[2]), r[3] or "") for r in rows]


async def split_problems(
    store: Store, split: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """Every column of a split's problems in import order."""
    sql = "SELECT * FROM problems WHERE split = ? ORDER BY seq"
    params: tuple[Any, ...] = (split,)
    if limit is not None:
        sql += " LIMIT ?"
        params = (split, limit)
    return [dict(r) for r in await store.fetchall(sql, params)]


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """A stored checkpoint with its training run's name and the merged lineage (run, then
    checkpoint)."""

    id: int
    step: int
    path: str
    run_name: str
    lineage: dict[str, Any]


async def checkpoint_records(store: Store) -> list[CheckpointRecord]:
    """Every checkpoint, newest first."""
    rows = await store.fetchall(
        "SELECT c.id, c.step, c.path, c.lineage AS clin, t.name, t.lineage AS tlin"
        " FROM checkpoints c JOIN train_runs t ON t.id = c.train_run_id"
        " ORDER BY c.id DESC"
    )
    return [
        CheckpointRecord(
            int(r["id"]),
            int(r["step"]),
            r["path"],
            r["name"],
            {**json_object(r["tlin"]), **json_object(r["clin"])},
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class RunningEval:
    """An evaluation with status 'running', as far as the store shows it (whichever process
    runs it): nothing is written for progress, it is counted from the stored samples."""

    id: int
    name: str
    model: str
    method: str
    split: str
    started_at: float  # the runner stamps updated_at when it starts (or resumes) the run
    problems: int  # planned problems (params.problem_ids)
    problems_done: int  # problems with n samples
    samples: int
    verified: int
    new_samples: int  # samples written since started_at: 0 means the model is still loading


async def running_evals(store: Store) -> list[RunningEval]:
    """Every running evaluation, oldest first, with its progress counted from its samples."""
    rows = await store.fetchall(
        "SELECT e.id, e.name, e.model, e.method, e.split, e.updated_at,"
        " coalesce(json_array_length(e.params, '$.problem_ids'), 0),"
        " (SELECT count(*) FROM (SELECT 1 FROM candidates c WHERE c.eval_id = e.id"
        "   GROUP BY c.problem_id"
        "   HAVING count(*) >= coalesce(json_extract(e.params, '$.n'), 1))),"
        " (SELECT count(*) FROM candidates c WHERE c.eval_id = e.id),"
        " (SELECT count(*) FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
        "   WHERE c.eval_id = e.id),"
        " (SELECT count(*) FROM candidates c WHERE c.eval_id = e.id"
        "   AND c.created_at >= e.updated_at)"
        " FROM evals e WHERE e.status = 'running' ORDER BY e.id"
    )
    return [
        RunningEval(r[0], r[1], r[2], r[3] or "", r[4] or "", float(r[5]), *map(int, r[6:11]))
        for r in rows
    ]
