"""Reads behind gold: the candidates the gold rule admits (the `gold_candidates` view) in
problem import order, and their verdicts' details for an export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.store.db import Store


@dataclass(frozen=True, slots=True)
class GoldRow:
    """One gold candidate as the view gives it (`override` 1: hand-approved)."""

    candidate_id: int
    problem_id: str
    code: str
    code_hash: str
    source: str
    verdict_status: str | None
    override: int | None


async def gold_rows(store: Store, problem_ids: Sequence[str] | None = None) -> list[GoldRow]:
    """Every gold candidate (of the given problems), problem import order, then candidate id."""
    sql = (
        "SELECT g.id, g.problem_id, g.code, g.code_hash, g.source, g.verdict_status,"
        " g.gold_override FROM gold_candidates g JOIN problems p ON p.id = g.problem_id"
    )
    params: list[Any] = []
    if problem_ids is not None:
        sql += f" WHERE g.problem_id IN ({','.join('?' * len(problem_ids))})"
        params = list(problem_ids)
    return [GoldRow(*r) for r in await store.fetchall(sql + " ORDER BY p.seq, g.id", params)]


async def verdict_details(store: Store, candidate_ids: Sequence[int]) -> dict[int, str]:
    """{candidate id: its verdict's detail} for the given candidates."""
    out: dict[int, str] = {}
    ids = list(candidate_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT candidate_id, detail FROM verdicts WHERE candidate_id IN ({marks})"
        out.update({r[0]: r[1] for r in await store.fetchall(sql, chunk)})
    return out
