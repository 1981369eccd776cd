"""The verifier's reads: every SELECT of core.verify in one place (writes stay in the service)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.db import Store

VERDICT_COLS = (
    "status, detail, passed, total, returned, expected, error_type, error_message, trace,"
    " output, duration_s, flags"
)


async def candidates_by_id(store: Store, ids: Sequence[int]) -> list[Any]:
    marks = ",".join("?" * len(ids))
    return await store.fetchall(
        f"SELECT id, problem_id, code, code_hash FROM candidates WHERE id IN ({marks})", list(ids)
    )


async def problems_by_id(store: Store, problem_ids: Sequence[str]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(problem_ids), 500):
        chunk = list(problem_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows += await store.fetchall(f"SELECT * FROM problems WHERE id IN ({marks})", chunk)
    return rows


async def verdicts_of_programs(
    store: Store, problems: Sequence[str], hashes: Sequence[str]
) -> list[Any]:
    """Stored verdicts of candidates with one of these (problem, code hash) pairs (a superset:
    the caller keeps the pairs it asked for)."""
    rows: list[Any] = []
    for start in range(0, len(hashes), 400):
        hchunk = list(hashes[start : start + 400])
        sql = (
            f"SELECT c.problem_id, c.code_hash, {VERDICT_COLS} FROM candidates c"
            " JOIN verdicts v ON v.candidate_id = c.id"
            f" WHERE c.problem_id IN ({','.join('?' * len(problems))})"
            f" AND c.code_hash IN ({','.join('?' * len(hchunk))})"
        )
        rows += await store.fetchall(sql, [*problems, *hchunk])
    return rows


async def pending_candidate_ids(store: Store, run_id: int | None = None) -> list[int]:
    sql = (
        "SELECT c.id FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE v.candidate_id IS NULL"
    )
    params: tuple[Any, ...] = ()
    if run_id is not None:
        sql += " AND c.run_id = ?"
        params = (run_id,)
    return [r[0] for r in await store.fetchall(sql + " ORDER BY c.id", params)]


async def problems_with_reference(store: Store) -> list[Any]:
    """Problems whose meta may carry a reference solution (MBPP `code`, HumanEval
    `canonical_solution`)."""
    return await store.fetchall(
        "SELECT * FROM problems WHERE meta LIKE '%code%' OR meta LIKE '%canonical_solution%'"
    )


async def passing_programs(store: Store, limit: int) -> list[Any]:
    """Programs that already passed, with their problem's columns (GSM8K has no reference)."""
    return await store.fetchall(
        "SELECT c.code, p.* FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
        " JOIN problems p ON p.id = c.problem_id WHERE v.status = 'pass'"
        " ORDER BY c.id LIMIT ?",
        (limit,),
    )
