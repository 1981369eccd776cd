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
from core.queries.evals import eval_problem_counts, eval_status_counts, get_eval
from core.store import Store


async def problem_counts(
    store: Store, eval_id: int, problem_ids: Sequence[str] | None = None
) -> dict[str, tuple[int, int]]:
    """(samples, passing samples) per problem of an evaluation; listed problems with no
    candidate (generation failed) count as (0, 0), i.e. unsolved."""
    counts = await eval_problem_counts(store, eval_id)
    for pid in problem_ids or ():
        counts.setdefault(pid, (0, 0))
    return counts


async def status_histogram(store: Store, eval_id: int) -> dict[str, int]:
    """Verdict statuses of an evaluation's samples ('pending' for unverified ones)."""
    return await eval_status_counts(store, eval_id)


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
    record = await get_eval(store, eval_id)
    if record is None:
        raise EvalError(f"evaluation {eval_id}: no such evaluation")
    params = record.params
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
