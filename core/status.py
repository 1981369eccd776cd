"""`ekt status`: one JSON-able summary of the project, and its Rich rendering."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from core.project import Project
from core.store import VERDICT_STATUSES, gold_problem_count, status_counts
from core.store.db import Store


async def _request_totals(store: Store, run_id: int | None) -> dict[str, Any]:
    where, params = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("", [])
    row = await store.fetchone(
        "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
        f" coalesce(sum(cost_usd), 0.0) FROM requests {where}",
        params,
    )
    assert row is not None
    return {
        "requests": row[0],
        "tokens": {"prompt": row[1], "completion": row[2]},
        "cost_usd": round(float(row[3]), 6),
    }


async def _run_gold_problems(store: Store, run_id: int) -> int:
    return int(
        await store.scalar(
            "SELECT count(DISTINCT problem_id) FROM gold_candidates WHERE run_id = ?", [run_id]
        )
    )


async def project_status(project: Project) -> dict[str, Any]:
    """The `ekt status --json` object."""
    store = project.store
    counts = await status_counts(store)
    out: dict[str, Any] = {
        "project": str(project.root),
        "problems": int(await store.scalar("SELECT count(*) FROM problems")),
        "candidates": counts.candidates,
        "pending": counts.pending,
        "verdicts": counts.verdicts,
        "gold_problems": await gold_problem_count(store),
        **await _request_totals(store, None),
        "runs": [],
    }
    for run in await store.fetchall(
        "SELECT id, name, status, teacher, params FROM runs ORDER BY id"
    ):
        rc = await status_counts(store, run_id=run["id"])
        out["runs"].append(
            {
                "id": run["id"],
                "name": run["name"],
                "status": run["status"],
                "teacher": json.loads(run["teacher"]),
                "problems": int(
                    await store.scalar(
                        "SELECT count(DISTINCT problem_id) FROM requests WHERE run_id = ?",
                        [run["id"]],
                    )
                ),
                "candidates": rc.candidates,
                "pending": rc.pending,
                "verdicts": rc.verdicts,
                "gold_problems": await _run_gold_problems(store, run["id"]),
                **await _request_totals(store, run["id"]),
            }
        )
    return out


def render_status(data: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    cols = [
        "",
        "problems",
        "candidates",
        "pending",
        *VERDICT_STATUSES,
        "gold",
        "requests",
        "tokens in/out",
        "cost $",
    ]
    table = Table(*cols, title=f"ekt status — {data['project']}", show_lines=False)

    def row(label: str, d: dict[str, Any]) -> list[str]:
        v = d["verdicts"]
        return [
            label,
            str(d["problems"]),
            str(d["candidates"]),
            str(d["pending"]),
            *(str(v.get(s, 0)) for s in VERDICT_STATUSES),
            str(d["gold_problems"]),
            str(d["requests"]),
            f"{d['tokens']['prompt']}/{d['tokens']['completion']}",
            f"{d['cost_usd']:.4f}",
        ]

    table.add_row(*row("project", data), style="bold")
    for run in data["runs"]:
        table.add_row(*row(f"run {run['name']} ({run['status']})", run))
    console.print(table)
