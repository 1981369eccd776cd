"""Gold by policy: the candidates the gold rule admits (a passing verdict unless overridden
off, or overridden on — `core.store.schema.gold_rule`), filtered by a policy: `first` (one per
problem), `all-distinct` (every distinct normalised program), `max-per-problem` (up to K
distinct ones) or `diverse` (K distinct programs picked by k-center greedy over their
embeddings, `core.select.diverse_gold`). A minimum judge score first leaves out gold the judge
scored lower (unjudged gold stays). Gold is never stored twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import VerifyError
from core.queries.gold import gold_rows
from core.queries.judgements import judged_below
from core.store import Store

POLICIES = ("first", "all-distinct", "max-per-problem", "diverse")


@dataclass(frozen=True, slots=True)
class GoldExample:
    problem_id: str
    candidate_id: int
    code: str
    source: str
    status: str  # the verdict status, or "override" for a hand-approved candidate


async def select_gold(
    store: Store,
    policy: str = "all-distinct",
    k: int = 4,
    problem_ids: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    *,
    embedder: str | None = None,
    min_judge_score: int = 0,
) -> list[GoldExample]:
    """Gold examples in problem import order, lowest candidate id first within a problem;
    `sources`: only candidates of these sources (e.g. teacher, edit, refine for the SFT set)."""
    if policy not in POLICIES:
        raise VerifyError(f"unknown gold policy {policy!r} (expected one of {', '.join(POLICIES)})")
    if policy in {"max-per-problem", "diverse"} and k < 1:
        raise VerifyError(f"{policy} needs K >= 1, got {k}")
    limit = 1 if policy == "first" else k if policy == "max-per-problem" else None
    if problem_ids is not None and not problem_ids:
        return []
    out: list[GoldExample] = []
    seen: set[tuple[str, str]] = set()
    per_problem: dict[str, int] = {}
    rows = await gold_rows(store, problem_ids)
    if sources is not None:
        rows = [r for r in rows if r.source in sources]
    if min_judge_score > 0:
        low = await judged_below(store, [r.candidate_id for r in rows], min_judge_score)
        rows = [r for r in rows if r.candidate_id not in low]
    for r in rows:
        key = (r.problem_id, r.code_hash)
        if key in seen or (limit is not None and per_problem.get(r.problem_id, 0) >= limit):
            continue
        seen.add(key)
        per_problem[r.problem_id] = per_problem.get(r.problem_id, 0) + 1
        status = "override" if r.override == 1 else str(r.verdict_status)
        out.append(GoldExample(r.problem_id, r.candidate_id, r.code, r.source, status))
    if policy == "diverse":
        from core.select import diverse_gold

        return await diverse_gold(store, out, k, embedder=embedder)
    return out
