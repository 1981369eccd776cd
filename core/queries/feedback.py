"""Reads for ILF (core/refine): feedback rows, the failing candidates a refine run starts from,
and a candidate's refinement tree (parent → refinements, each with its verdict)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.store.db import Store
from core.store.schema import CANDIDATE_GOLD


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: int
    candidate_id: int
    author: str  # human | execution | teacher
    text: str
    prompt_id: int | None
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_FB = "SELECT id, candidate_id, author, text, prompt_id, created_at FROM feedback"


async def list_feedback(
    store: Store, candidate_id: int | None = None, author: str | None = None
) -> list[FeedbackRow]:
    """Feedback, oldest first: of one candidate and/or one author kind."""
    where, params = [], []
    if candidate_id is not None:
        where.append("candidate_id = ?")
        params.append(candidate_id)
    if author is not None:
        where.append("author = ?")
        params.append(author)
    sql = _FB + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [FeedbackRow(*r) for r in await store.fetchall(sql, params)]


async def latest_feedback(
    store: Store, candidate_ids: Sequence[int], author: str, prompt_id: int | None = None
) -> dict[int, FeedbackRow]:
    """{candidate id: its newest feedback by `author`} (teacher: of that critique prompt)."""
    out: dict[int, FeedbackRow] = {}
    ids = list(candidate_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = f"{_FB} WHERE author = ? AND candidate_id IN ({','.join('?' * len(chunk))})"
        params: list[Any] = [author, *chunk]
        if prompt_id is not None:
            sql += " AND prompt_id = ?"
            params.append(prompt_id)
        for r in await store.fetchall(sql + " ORDER BY id", params):
            out[r[1]] = FeedbackRow(*r)
    return out


async def feedback_by_id(store: Store, feedback_id: int) -> FeedbackRow | None:
    row = await store.fetchone(_FB + " WHERE id = ?", (feedback_id,))
    return None if row is None else FeedbackRow(*row)


_TARGET = (
    "SELECT c.id, c.problem_id, c.source, c.code, c.parent_id, v.status, v.detail, v.passed,"
    " v.total, v.returned, v.error_type, v.error_message, v.trace, {gold} AS gold"
    " FROM candidates c JOIN problems p ON p.id = c.problem_id"
    " LEFT JOIN verdicts v ON v.candidate_id = c.id"
    " LEFT JOIN problem_stats s ON s.problem_id = c.problem_id"
)


async def refine_targets(
    store: Store,
    *,
    candidate_ids: Sequence[int] | None = None,
    problem_ids: Sequence[str] | None = None,
    unsolved_only: bool = False,
    limit: int | None = None,
    refinements: bool = False,
) -> list[dict[str, Any]]:
    """Candidates a refine run may start from, in problem order: verified, not passing, not
    gold, not a student's, not a refinement unless `refinements` (`candidate_ids`: exactly those,
    whatever their verdict, so the caller can say why one is refused)."""
    where: list[str] = []
    params: list[Any] = []
    if candidate_ids is not None:
        where.append(f"c.id IN ({','.join('?' * len(candidate_ids))})")
        params.extend(candidate_ids)
    else:
        where += ["v.status IS NOT NULL", "v.status != 'pass'", f"{CANDIDATE_GOLD} = 0"]
        where.append("c.eval_id IS NULL")
        if not refinements:
            where.append("c.source != 'refine'")
    if problem_ids is not None:
        where.append(f"c.problem_id IN ({','.join('?' * len(problem_ids))})")
        params.extend(problem_ids)
    if unsolved_only:
        where.append("coalesce(s.gold, 0) = 0")
    sql = _TARGET.format(gold=CANDIDATE_GOLD) + " WHERE " + " AND ".join(where)
    sql += " ORDER BY p.seq, c.id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in await store.fetchall(sql, params)]


@dataclass(frozen=True, slots=True)
class RefinementNode:
    """A candidate in a refinement tree: depth 0 is the root the inspector asked about."""

    id: int
    parent_id: int | None
    depth: int
    source: str
    status: str | None  # verdict status; None = not verified yet
    gold: bool
    feedback_id: int | None
    feedback_author: str | None


async def refinement_tree(store: Store, candidate_id: int) -> list[RefinementNode]:
    """The candidate and every refinement below it (a chain may be refined again), depth first
    in id order; empty when there is no such candidate."""
    rows = await store.fetchall(
        "WITH RECURSIVE tree(id, depth, path) AS ("
        " SELECT id, 0, printf('%012d', id) FROM candidates WHERE id = ?"
        " UNION ALL SELECT c.id, t.depth + 1, t.path || '/' || printf('%012d', c.id)"
        " FROM candidates c JOIN tree t ON c.parent_id = t.id WHERE c.source = 'refine')"
        " SELECT c.id, c.parent_id, t.depth, c.source, v.status,"
        f" {CANDIDATE_GOLD}, c.feedback_id, f.author"
        " FROM tree t JOIN candidates c ON c.id = t.id"
        " LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " LEFT JOIN feedback f ON f.id = c.feedback_id ORDER BY t.path",
        (candidate_id,),
    )
    return [RefinementNode(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7]) for r in rows]


async def refinement_fixed_share(store: Store) -> tuple[int, int]:
    """(failing candidates that got at least one passing refinement, failing candidates that
    were refined at all): the dashboard's "fixed" share."""
    row = await store.fetchone(
        "SELECT count(DISTINCT c.parent_id),"
        " count(DISTINCT CASE WHEN v.status = 'pass' THEN c.parent_id END)"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.source = 'refine' AND c.parent_id IS NOT NULL"
    )
    refined, fixed = (row[0], row[1]) if row else (0, 0)
    return int(fixed or 0), int(refined or 0)
