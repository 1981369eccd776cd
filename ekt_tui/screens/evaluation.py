"""Evaluation screen: the comparison table, pass@k bars per model, and a drill into the samples.

Only reads; the app refreshes it when another process (a headless `ekt eval`) commits, noticed
by its `PRAGMA data_version` polling.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from core import Project, TableRow, comparison_rows, get_eval, render_markdown
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.eval_samples import EvalSamplesScreen
from ekt_tui.widgets.eval_bars import EvalBars
from ekt_tui.widgets.eval_detail import EvalDetail
from ekt_tui.widgets.eval_table import EvalTable


class EvaluationScreen(LiveScreen):
    """Few-shot student vs EKT student vs teacher, as in the EKT paper's table."""

    CSS_PATH = "evaluation.tcss"
    HELP_TITLE = "Evaluation"
    BINDINGS = [
        Binding("k", "next_k", "pass@k"),
        Binding("r", "reload", "Reload"),
        Binding("x", "export", "Export .md"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TableRow] = []
        self._rendered = False

    @property
    def project(self) -> Project:
        return self.ekt.project

    def compose(self) -> ComposeResult:
        yield Static("Evaluation — pass@k of students and teachers", id="eval-title")
        with VerticalScroll(id="eval-body"):
            yield EvalTable(id="eval-table")
            yield EvalBars(id="eval-bars")
            yield EvalDetail(id="eval-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EvalTable).focus()

    async def refresh_data(self) -> None:
        rows = await comparison_rows(self.ekt.reader)
        if rows != self.rows or not self._rendered:
            self._rendered = False  # until all of it is shown: a refresh that fails redraws
            self.rows = rows
            self.query_one(EvalTable).show_rows(rows)
            bars = self.query_one(EvalBars)
            ks = self._ks()
            if bars.k not in ks:
                bars.k = ks[0]
            bars.show_rows(rows)
            self._rendered = True
        await self._show_detail()

    def _ks(self) -> list[int]:
        return sorted({k for r in self.rows for k in r.pass_at}) or [1]

    async def _show_detail(self) -> None:
        row = self.query_one(EvalTable).current
        ev = None
        if row is not None:
            rec = await get_eval(self.project.store, row.eval_id)
            if rec is not None:
                ev = {
                    "name": rec.name,
                    "status": rec.status,
                    "params": rec.params,
                    "results": rec.results,
                }
        self.query_one(EvalDetail).show(ev)

    def on_data_table_row_highlighted(self) -> None:
        self.ekt.request_refresh()

    def action_next_k(self) -> None:
        bars = self.query_one(EvalBars)
        ks = self._ks()
        bars.k = ks[(ks.index(bars.k) + 1) % len(ks)] if bars.k in ks else ks[0]

    def action_reload(self) -> None:
        self.ekt.request_refresh()

    def action_export(self) -> None:
        path = Path(self.project.root) / "eval-table.md"
        try:
            path.write_text(render_markdown(self.rows), encoding="utf-8")
        except OSError as exc:
            self.notify(f"{path}: cannot write: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"wrote {path}")

    def on_eval_table_eval_chosen(self, message: EvalTable.EvalChosen) -> None:
        self.open_candidates(message.eval_id, message.name)

    def open_candidates(self, eval_id: int, name: str) -> None:
        """Drill into an evaluation's samples, then into the shared candidate inspector."""
        self.app.push_screen(EvalSamplesScreen(eval_id, name))
