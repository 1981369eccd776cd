"""One evaluation at a glance: what was run (n, temperature, prompts) and how samples fared."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

STATUS_STYLES = {
    "pass": "green",
    "fail": "red",
    "error": "yellow",
    "syntax": "magenta",
    "timeout": "bright_red",
    "memory": "bright_red",
    "crashed": "bright_red",
    "output-limit": "bright_red",
    "pending": "dim",
}


def render_detail(ev: dict[str, Any] | None) -> RenderableType:
    if ev is None:
        return Text("Select an evaluation.", style="dim")
    params, results = ev["params"], ev["results"]
    head = Text.assemble((ev["name"], "bold"), f"  {ev['status']}", style="")
    run = Text(
        f"n {params.get('n', '?')} · temperature {params.get('temperature', '?')} · "
        f"max tokens {params.get('max_tokens', '?')} · prompts "
        + ", ".join(f"{k}: {v}" for k, v in (params.get("prompts") or {}).items()),
        style="dim",
    )
    lines: list[RenderableType] = [head, run]
    if "error" in results:
        lines.append(Text(f"stopped: {results['error']}", style="bold red"))
    if results.get("problems"):
        lines.append(
            Text(
                f"{results['problems']} problems · {results['samples']} samples · "
                f"{results['solved']} solved at least once"
            )
        )
    statuses = results.get("statuses") or {}
    if statuses:
        total = sum(statuses.values()) or 1
        hist = Text()
        for status, count in statuses.items():
            hist.append(f"{status} {count} ({100 * count / total:.0f}%)  ",
                        style=STATUS_STYLES.get(status, ""))  # fmt: skip
        lines.append(hist)
    return Group(*lines)


class EvalDetail(Static):
    """The selected evaluation's parameters and verdict histogram."""

    DEFAULT_CSS = "EvalDetail { height: auto; }"

    def show(self, ev: dict[str, Any] | None) -> None:
        self.update(render_detail(ev))
