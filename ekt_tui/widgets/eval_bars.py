"""Horizontal bars of pass@k per evaluated model, with the bootstrap interval drawn around them.

Rendered with Rich (no plotting dependency): a handful of rows, deterministic output that a
snapshot test can freeze. Bars are 0–100 % of the widget's width, the interval as a thin rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from core import TableRow

METHOD_STYLES = {
    "teacher": "bold magenta",
    "ekt-sft": "bold green",
    "kd": "bold yellow",
    "expert-iteration": "bold red",
    "few-shot": "bold cyan",
    "zero-shot": "bold blue",
}


def bar_line(row: TableRow, k: int, width: int, label_width: int) -> Text:
    """`label  ████████░░ ─┤ 41.2%` — value as a solid bar, its interval as a rule."""
    label = f"{row.model} · {row.method}"[:label_width].ljust(label_width)
    text = Text(label + " ", style="bold" if row.beats_teacher else "")
    est = row.pass_at.get(k)
    if est is None:
        return text.append(f"no pass@{k} for this evaluation", style="dim")
    cells = max(10, width)
    filled = round(est.value * cells)
    lo, hi = round(est.lo * cells), round(est.hi * cells)
    bar = Text()
    for i in range(cells):
        if i < filled:
            inside = lo <= i  # the interval's lower part, drawn inside the bar
            bar.append("▓" if inside else "█", style=METHOD_STYLES.get(row.method, "bold white"))
        elif lo <= i < hi:
            bar.append("─", style="yellow")
        else:
            bar.append("·", style="grey30")
    text.append_text(bar)
    text.append(f" {100 * est.value:5.1f}%")
    text.append(f"  [{100 * est.lo:.1f}–{100 * est.hi:.1f}]", style="dim")
    if row.beats_teacher:
        text.append("  ★ beats teacher", style="bold yellow")
    return text


class EvalBars(Widget):
    """pass@k for one k across every row of the comparison table."""

    DEFAULT_CSS = "EvalBars { height: auto; }"

    k: reactive[int] = reactive(1)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[TableRow] = []

    def show_rows(self, rows: Sequence[TableRow]) -> None:
        self._rows = list(rows)
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        title = Text(f"pass@{self.k} per model (95% bootstrap interval)", style="bold")
        if not self._rows:
            return Group(title, Text("No finished evaluation yet: run `ekt eval`.", style="dim"))
        label_width = min(34, max(len(f"{r.model} · {r.method}") for r in self._rows))
        width = max(10, self.size.width - label_width - 40)
        return Group(title, *(bar_line(r, self.k, width, label_width) for r in self._rows))
