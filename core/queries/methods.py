"""Reads behind the training methods: every teacher sample (knowledge distillation trains on
all of them, verdict or not) and the passing programs of the student's own round evaluations
(expert iteration and EKT rounds add them to the next SFT set)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.store.db import Store
from core.store.schema import CANDIDATE_GOLD


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One candidate as a method sees it: `status` is its verdict (None: not verified yet)."""

    candidate_id: int
    problem_id: str
    code: str
    code_hash: str
    source: str
    status: str | None


async def teacher_samples(store: Store) -> list[SampleRow]:
    """Every teacher sample of a sampling run (not an evaluation's), problem import order."""
    rows = await store.fetchall(
        "SELECT c.id, c.problem_id, c.code, c.code_hash, c.source, v.status FROM candidates c"
        " JOIN problems p ON p.id = c.problem_id LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.source = 'teacher' AND c.eval_id IS NULL ORDER BY p.seq, c.id"
    )
    return [SampleRow(*r) for r in rows]


async def eval_gold_samples(store: Store, eval_ids: Sequence[int]) -> list[SampleRow]:
    """The candidates of the given evaluations that the gold rule admits, problem import order."""
    if not eval_ids:
        return []
    marks = ",".join("?" * len(eval_ids))
    rows = await store.fetchall(
        "SELECT c.id, c.problem_id, c.code, c.code_hash, c.source, v.status FROM candidates c"
        " JOIN problems p ON p.id = c.problem_id LEFT JOIN verdicts v ON v.candidate_id = c.id"
        f" WHERE c.eval_id IN ({marks}) AND {CANDIDATE_GOLD} = 1 ORDER BY p.seq, c.id",
        list(eval_ids),
    )
    return [SampleRow(*r) for r in rows]


async def eval_candidate_ids(store: Store, candidate_ids: Sequence[int]) -> dict[int, int]:
    """{candidate id: its evaluation} for those of the given candidates an evaluation made."""
    out: dict[int, int] = {}
    ids = list(candidate_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id, eval_id FROM candidates WHERE eval_id IS NOT NULL AND id IN ({marks})"
        out.update({r[0]: r[1] for r in await store.fetchall(sql, chunk)})
    return out
