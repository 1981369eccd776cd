"""`ekt status` as a Rich table: metrics as rows, the project and its latest runs as columns."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from core.store import VERDICT_STATUSES

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
