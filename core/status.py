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


MAX_RUN_COLUMNS = 6


def _metric_rows(d: dict[str, Any]) -> dict[str, str]:
    v = d["verdicts"]
    rows = {
        "problems": f"{d['problems']:,}",
        "candidates": f"{d['candidates']:,}",
        "pending": f"{d['pending']:,}",
    }
    rows.update({f"  {s}": f"{v.get(s, 0):,}" for s in VERDICT_STATUSES})
    rows.update(
        {
            "gold problems": f"{d['gold_problems']:,}",
            "requests": f"{d['requests']:,}",
            "tokens in": f"{d['tokens']['prompt']:,}",
            "tokens out": f"{d['tokens']['completion']:,}",
            "cost $": f"{d['cost_usd']:.4f}",
        }
    )
    return rows


def render_status(data: dict[str, Any], console: Console | None = None) -> None:
    """Metrics as rows, the project and its latest runs as columns: narrow enough for 80 cols."""
    console = console or Console()
    runs = data["runs"][-MAX_RUN_COLUMNS:]
    table = Table(title=f"ekt status — {data['project']}", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("project", justify="right", style="bold")
    for run in runs:
        table.add_column(f"{run['name']}\n[dim]{run['status']}[/]", justify="right")
    columns = [_metric_rows(data), *(_metric_rows(r) for r in runs)]
    for metric in columns[0]:
        values = [c[metric] for c in columns]
        if (
            metric.startswith("  ")
            and all(v == "0" for v in values)
            and metric.strip()
            not in {
                "pass",
                "fail",
            }
        ):
            continue  # rare statuses only when they happened
        table.add_row(metric, *values)
    console.print(table)
    hidden = len(data["runs"]) - len(runs)
    if hidden > 0:
        console.print(f"[dim]{hidden} older runs not shown (ekt status --json lists all)[/]")
