"""`ekt status`: one JSON-able summary of the project (rendered by `core.cli.status_view`)."""

from __future__ import annotations

from typing import Any

from core.project import Project
from core.queries import (
    RequestTotals,
    all_runs,
    flag_counts,
    gold_problem_count,
    problem_count,
    request_totals,
    run_failures,
    run_gold_problems,
    run_problem_count,
    status_counts,
)


def _totals(t: RequestTotals) -> dict[str, Any]:
    return {
        "requests": t.requests,
        "tokens": {"prompt": t.tokens_prompt, "completion": t.tokens_completion},
        "cost_usd": round(t.cost_usd, 6),
    }


async def project_status(project: Project) -> dict[str, Any]:
    """The `ekt status --json` object."""
    store = project.store
    counts = await status_counts(store)
    flags = await flag_counts(store)
    out: dict[str, Any] = {
        "project": str(project.root),
        "problems": await problem_count(store),
        "candidates": counts.candidates,
        "pending": counts.pending,
        "verdicts": counts.verdicts,
        "spurious": flags.spurious,
        "untrusted_harness": flags.untrusted_harness,
        "gold_problems": await gold_problem_count(store),
        **_totals(await request_totals(store)),
        "runs": [],
    }
    for run in await all_runs(store):
        rc = await status_counts(store, run_id=run.id)
        out["runs"].append(
            {
                "id": run.id,
                "name": run.name,
                "status": run.status,
                "teacher": run.teacher,
                "problems": await run_problem_count(store, run.id),
                "candidates": rc.candidates,
                "pending": rc.pending,
                "verdicts": rc.verdicts,
                "gold_problems": await run_gold_problems(store, run.id),
                **_totals(await request_totals(store, run.id)),
                "failures": await run_failures(store, run.id),  # failed requests by class
            }
        )
    return out
