"""Reads behind embeddings: cached vectors and the questions a selection draws from."""

from __future__ import annotations

from collections.abc import Sequence

from core.store.db import Store


async def cached_vectors(
    store: Store, model: str, kind: str, item_ids: Sequence[str]
) -> dict[str, bytes]:
    """{item id: float16 bytes} of the items already embedded by `model`."""
    out: dict[str, bytes] = {}
    ids = list(item_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (
            "SELECT item_id, vector FROM embeddings"
            f" WHERE model = ? AND kind = ? AND item_id IN ({marks})"
        )
        out.update({r[0]: bytes(r[1]) for r in await store.fetchall(sql, [model, kind, *chunk])})
    return out


async def question_items(
    store: Store, *, source: str = "all", split: str | None = None
) -> list[tuple[str, str]]:
    """(problem id, question) in import order: every problem, the unsolved ones, or the gold
    ones (at least one gold candidate), optionally of one split."""
    where, params = [], []
    if split is not None:
        where.append("p.split = ?")
        params.append(split)
    if source == "unsolved":
        where.append("coalesce(s.gold, 0) = 0")
    elif source == "gold":
        where.append("coalesce(s.gold, 0) > 0")
    sql = "SELECT p.id, p.question FROM problems p LEFT JOIN problem_stats s ON s.problem_id = p.id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [(r[0], r[1]) for r in await store.fetchall(sql + " ORDER BY p.seq", params)]
