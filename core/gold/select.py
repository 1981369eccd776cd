"""Gold by policy: the candidates the gold rule admits (a passing verdict unless overridden
off, or overridden on — `core.store.schema.gold_rule`), filtered by a policy: `first` (one per
problem), `all-distinct` (every distinct normalised program) or `max-per-problem` (up to K
distinct ones). Gold is never stored twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import VerifyError
from core.queries.gold import gold_rows
from core.store import Store

POLICIES = ("first", "all-distinct", "max-per-problem")


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
) -> list[GoldExample]:
    """Gold examples in problem import order, lowest candidate id first within a problem;
    `sources`: only candidates of these sources (e.g. teacher, edit, refine for the SFT set)."""
    if policy not in POLICIES:
        raise VerifyError(f"unknown gold policy {policy!r} (expected one of {', '.join(POLICIES)})")
    if policy == "max-per-problem" and k < 1:
        raise VerifyError(f"max-per-problem needs K >= 1, got {k}")
    limit = 1 if policy == "first" else k if policy == "max-per-problem" else None
    if problem_ids is not None and not problem_ids:
        return []
    out: list[GoldExample] = []
    seen: set[tuple[str, str]] = set()
    per_problem: dict[str, int] = {}
    for r in await gold_rows(store, problem_ids):
        if sources is not None and r.source not in sources:
            continue
        key = (r.problem_id, r.code_hash)
        if key in seen or (limit is not None and per_problem.get(r.problem_id, 0) >= limit):
            continue
        seen.add(key)
        per_problem[r.problem_id] = per_problem.get(r.problem_id, 0) + 1
        status = "override" if r.override == 1 else str(r.verdict_status)
        out.append(GoldExample(r.problem_id, r.candidate_id, r.code, r.source, status))
    return out
