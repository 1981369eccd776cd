"""An evaluation's numbers, computed from the store: per-problem (n, c) → pass@k with intervals.

Verdicts are the single source of truth: `results` in the `evals` row is a cache written when
an evaluation finishes (and recomputable with `recompute_results`). A human gold override does
not change pass@k: overrides steer training data, the metric is what the sandbox said.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from core.errors import EvalError
from core.evaluate.passk import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, estimate_pass_at_k
from core.store import Store


async def problem_counts(
    store: Store, eval_id: int, problem_ids: Sequence[str] | None = None
) -> dict[str, tuple[int, int]]:
    """(samples, passing samples) per problem of an evaluation; listed problems with no
    candidate (generation failed) count as (0, 0), i.e. unsolved."""
    rows = await store.fetchall(
        "SELECT c.problem_id, COUNT(*) AS n, SUM(v.status = 'pass') AS c"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? GROUP BY c.problem_id",
        (eval_id,),
    )
    counts = {r["problem_id"]: (int(r["n"]), int(r["c"] or 0)) for r in rows}
    for pid in problem_ids or ():
        counts.setdefault(pid, (0, 0))
    return counts


async def status_histogram(store: Store, eval_id: int) -> dict[str, int]:
    """Verdict statuses of an evaluation's samples ('pending' for unverified ones)."""
    rows = await store.fetchall(
        "SELECT COALESCE(v.status, 'pending') AS s, COUNT(*) AS n"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? GROUP BY s ORDER BY n DESC",
        (eval_id,),
    )
    return {r["s"]: int(r["n"]) for r in rows}


def summarise(
    counts: dict[str, tuple[int, int]],
    ks: Sequence[int],
    *,
    n: int,
    statuses: dict[str, int] | None = None,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """The JSON stored in `evals.results`."""
    ordered = [counts[p] for p in sorted(counts)]
    return {
        "problems": len(ordered),
        "samples": sum(x for x, _ in ordered),
        "n": n,
        "solved": sum(1 for _, c in ordered if c > 0),
        "short": {str(k): sum(1 for x, _ in ordered if x < k) for k in ks},
        "pass_at_k": {
            str(k): estimate_pass_at_k(
                ordered, k, resamples=resamples, confidence=confidence, seed=seed
            ).as_dict()
            for k in ks
        },
        "statuses": statuses or {},
        "confidence": confidence,
        "resamples": resamples,
        "seed": seed,
    }


async def recompute_results(store: Store, eval_id: int) -> dict[str, Any]:
    """Recompute and store an evaluation's results from its verdicts."""
    row = await store.fetchone("SELECT params FROM evals WHERE id = ?", (eval_id,))
    if row is None:
        raise EvalError(f"evaluation {eval_id}: no such evaluation")
    params = json.loads(row["params"] or "{}")
    counts = await problem_counts(store, eval_id, params.get("problem_ids"))
    results = summarise(
        counts,
        params.get("k", [1]),
        n=int(params.get("n", 1)),
        statuses=await status_histogram(store, eval_id),
        seed=int(params.get("seed") or 0),
    )
    await store.execute(
        "UPDATE evals SET results = ?, updated_at = ? WHERE id = ?",
        (json.dumps(results), time.time(), eval_id),
    )
    return results
