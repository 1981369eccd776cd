"""Evaluation screen: launch evaluations, watch the running ones, the comparison table, pass@k
bars per model, and a drill into the samples.

`l` opens the launch dialog; the evaluation then runs `core.evaluate.run_eval` (what `ekt eval`
runs) in a worker on the app's loop: generation happens in its subprocess and verification in
the sandbox's, so the UI stays live. Running evaluations are listed from the store, so one that
an `ekt eval` in another process runs shows the same way; `c` cancels one of this TUI's (after a
confirmation; it is marked cancelled and resumes under the same name). The app refreshes the
screen when another connection commits (`PRAGMA data_version`); a 1 s timer ticks the elapsed
times while something runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, get_current_worker

from core import (
    EktError,
    EvalOptions,
    Project,
    TableRow,
    comparison_rows,
    get_eval,
    render_markdown,
    run_eval,
)
from core.queries.evals import RunningEval, running_evals
from ekt_tui.screens.base import LiveScreen, one_line
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.screens.eval_launch import EvalLaunchScreen, launch_choices
from ekt_tui.screens.eval_samples import EvalSamplesScreen
from ekt_tui.widgets.eval_bars import EvalBars
from ekt_tui.widgets.eval_detail import EvalDetail
from ekt_tui.widgets.eval_running import EvalRunningTable
from ekt_tui.widgets.eval_table import EvalTable

TICK_S = 1.0


class EvaluationScreen(LiveScreen):
    """Few-shot student vs EKT student vs teacher, as in the EKT paper's table."""

    CSS_PATH = "evaluation.tcss"
    HELP_TITLE = "Evaluation"
    BINDINGS = [
        Binding("l", "launch", "Launch"),
        Binding("c", "cancel_eval", "Cancel eval"),
        Binding("k", "next_k", "pass@k"),
        Binding("r", "reload", "Reload"),
        Binding("x", "export", "Export .md"),
    ]
    COMMANDS_LIST = [
        ("Evaluation: launch an evaluation (model or checkpoint, split, n, k)", "key l",
         "launch"),
        ("Evaluation: cancel the selected running evaluation", "key c", "cancel_eval"),
        ("Evaluation: next pass@k in the bars", "key k", "next_k"),
        ("Evaluation: export the table as eval-table.md", "key x", "export"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TableRow] = []
        self.running: list[RunningEval] = []
        self.jobs: dict[int, Worker[Any]] = {}  # eval id -> the worker of this TUI running it
        self._rendered = False

    @property
    def project(self) -> Project:
        return self.ekt.project

    def compose(self) -> ComposeResult:
        yield Static("Evaluation — pass@k of students and teachers", id="eval-title")
        with VerticalScroll(id="eval-body"):
            yield EvalRunningTable(id="eval-running")
            yield EvalTable(id="eval-table")
            yield EvalBars(id="eval-bars")
            yield EvalDetail(id="eval-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EvalTable).focus()
        self.set_interval(TICK_S, self._tick)

    async def refresh_data(self) -> None:
        self.running = await running_evals(self.ekt.reader)
        self._show_running()
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

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "eval-table":
            self.ekt.request_refresh()

    # -- running evaluations ---------------------------------------------------------------------
    def _show_running(self) -> None:
        self.query_one(EvalRunningTable).show(self.running, self.ekt.clock(), self.jobs)

    def _tick(self) -> None:
        """Elapsed times and "loading model… N s" move on while nothing is written."""
        if self.running and self.is_current:
            self._show_running()

    def action_launch(self) -> None:
        self._open_launch()

    @work(group="eval-dialog", exclusive=True, exit_on_error=False)
    async def _open_launch(self) -> None:
        choices = await launch_choices(self.project, self.ekt.reader)
        options = await self.app.push_screen_wait(
            EvalLaunchScreen(self.project.config.eval, choices)
        )
        if options is not None:
            self.start_eval(options)

    def start_eval(self, options: EvalOptions) -> Worker[Any]:
        """Run `options` as `ekt eval` would, in a worker of this screen."""
        return self.run_worker(self._run_eval(options), group="eval-run", exit_on_error=False)

    async def _run_eval(self, options: EvalOptions) -> None:
        current: list[tuple[int, str]] = []

        def started(eval_id: int, name: str) -> None:
            current.append((eval_id, name))
            self.jobs[eval_id] = get_current_worker()
            self.notify(f"evaluation {name} started")
            self.ekt.request_refresh()

        try:
            summary = await run_eval(
                self.project, options, on_start=started,
                on_progress=lambda _p: self.ekt.request_refresh(),
            )  # fmt: skip
        except EktError as exc:
            self.notify(one_line(exc), title="Cannot evaluate", severity="error", timeout=10)
            return
        except asyncio.CancelledError:
            if current:
                self.notify(f"evaluation {current[0][1]} cancelled (its name resumes it)")
            raise
        finally:
            for eval_id, _ in current:
                self.jobs.pop(eval_id, None)
            self.ekt.request_refresh()
        p1 = summary.results.get("pass_at_k", {}).get("1")
        score = f": pass@1 {100 * p1['value']:.1f}%" if p1 else ""
        self.notify(f"evaluation {summary.name} done{score}")

    def action_cancel_eval(self) -> None:
        table = self.query_one(EvalRunningTable)
        eval_id = table.selected_id
        ev = next((e for e in self.running if e.id == eval_id), None)
        if ev is None:
            self.notify("no evaluation is running", severity="warning")
            return
        worker = self.jobs.get(ev.id)
        if worker is None:
            self.notify(
                f"{ev.name} runs in another process (`ekt eval`): stop it there (Ctrl+C)",
                severity="warning", timeout=8,
            )  # fmt: skip
            return

        def answer(yes: bool | None) -> None:
            if yes and not worker.is_finished:
                worker.cancel()

        self.app.push_screen(
            ConfirmScreen(
                f"Cancel evaluation {ev.name}? Its {ev.samples} samples stay; launching it"
                " again under the same name resumes it.",
                yes="Cancel it",
                no="Keep running",
            ),
            answer,
        )

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
