"""Training screen: launch a student run, watch its loss, cancel or resume it.

The trainer is a detached subprocess that writes into the store, so this screen only reads,
through the app's read connection: the app refreshes it when `PRAGMA data_version` says another
connection committed. While a run is active it also checks every few seconds, on the writer,
for a trainer that died without a word (that marks the run failed, which the next refresh shows).
Quitting the TUI leaves a run going; on the next start the screen selects it again.
Until a started run logs its first step the summary says "loading model… N s" (ticking each
second); the log beside the plot only appends new lines and follows its end.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, DataTable, Footer, Log, Static

from core import (
    EktError,
    Project,
    cancel_training,
    launch_training,
    list_train_runs,
    preview_method,
    resolve_options,
    resume_training,
    train_checkpoints,
    train_run_events,
)
from core.train import reconcile
from ekt_tui.screens.base import LiveScreen, one_line
from ekt_tui.widgets.loss_plot import LossPlot
from ekt_tui.widgets.train_form import TrainForm
from ekt_tui.widgets.train_progress import TrainProgress, log_lines, waiting
from ekt_tui.widgets.train_runs import TrainRunsTable

ACTIVE_CHECK_S = 3.0
ACTIVE = ("starting", "running")
TICK_S = 1.0
LOG_LINES = 500


class TrainingScreen(LiveScreen):
    """Student fine-tuning on gold: several runs, one selected and shown in full."""

    CSS_PATH = "training.tcss"
    HELP_TITLE = "Training"
    BINDINGS = [
        Binding("l", "launch", "Launch"),
        Binding("c", "cancel_run", "Cancel run"),
        Binding("r", "resume_run", "Resume run"),
        Binding("g", "reload", "Reload", show=False),
    ]
    COMMANDS_LIST = [
        ("Training: launch a run with the form's settings", "key l", "launch"),
        ("Training: cancel the selected run (checkpoint, then stop)", "key c", "cancel_run"),
        ("Training: resume the selected run from its last checkpoint", "key r", "resume_run"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: int | None = None
        self.runs: list[dict[str, Any]] = []
        self._events: dict[int, list[dict[str, Any]]] = {}
        self._shown: tuple[Any, ...] | None = None  # what the right-hand side shows
        self._preview_timer: Timer | None = None
        self._active_timer: Timer | None = None
        self._mounted = False  # a refresh may come first (on resume): it waits for on_mount
        self._log_of: tuple[int | None, int] = (None, 0)  # (run shown in the log, lines written)
        self._progress: tuple[dict[str, Any] | None, list[dict[str, Any]]] = (None, [])

    @property
    def project(self) -> Project:
        return self.ekt.project

    def compose(self) -> ComposeResult:
        yield Static("Training — fine-tune the student on gold", id="train-title")
        with Horizontal(id="train-main"):
            with VerticalScroll(id="train-left"):
                yield Static("Runs", classes="train-heading")
                yield TrainRunsTable(id="train-runs")
                yield Static("New run", classes="train-heading")
                yield TrainForm(self.project.config, id="train-form")
            with Vertical(id="train-right"):
                yield TrainProgress(id="train-progress")
                yield LossPlot(id="train-plot")
                with Horizontal(id="train-bottom"):
                    yield Log(id="train-log", max_lines=LOG_LINES)
                    yield DataTable(id="train-checkpoints", cursor_type="row")
                with Horizontal(id="train-buttons"):
                    # disabled until the selected run is known to be running / resumable
                    yield Button("Cancel run", id="train-cancel", variant="error", disabled=True)
                    yield Button("Resume run", id="train-resume", variant="primary",
                                 disabled=True)  # fmt: skip
        yield Footer()

    def _checkpoint_table(self) -> DataTable[Any]:
        """The checkpoints table with its columns (a refresh may come before on_mount)."""
        table = self.query_one("#train-checkpoints", DataTable)
        if not table.columns:
            table.add_columns("step", "dev pass@1", "loss", "best", "path")
        return table

    def on_mount(self) -> None:
        self._checkpoint_table()
        self.query_one(TrainRunsTable).focus()
        self.schedule_preview()
        self.set_interval(TICK_S, self._tick)
        self._mounted = True

    def _tick(self) -> None:
        """The wait for a first step is counted in seconds although nothing is written."""
        run, events = self._progress
        if run is not None and self.is_current and waiting(run, events, self.ekt.clock()):
            self.query_one(TrainProgress).show(run, events, self.ekt.clock())

    # -- data ------------------------------------------------------------------------------------
    async def refresh_data(self) -> None:
        if not self._mounted:  # the checkpoint table has no columns yet: at the next tick
            self.ekt.live.dirty = True
            return
        reader = self.ekt.reader
        runs = await list_train_runs(reader)
        ids = [r["id"] for r in runs]
        if self.selected not in ids:
            active = [r["id"] for r in runs if r["status"] in ACTIVE]
            self.selected = (active or ids or [None])[0]
        if runs != self.runs or self._shown is None:
            self.query_one(TrainRunsTable).show_runs(runs, self.selected)
            self.runs = runs
        if self._active_timer is None and any(r["status"] in ACTIVE for r in runs):
            self._active_timer = self.set_timer(ACTIVE_CHECK_S, self._check_active)
        await self._show_selected()

    def _check_active(self) -> None:
        self._active_timer = None
        if self.is_current:
            self._reconcile()

    @work(group="train-reconcile", exclusive=True, exit_on_error=False)
    async def _reconcile(self) -> None:
        """A trainer that died without a word leaves its run "running": mark it failed (only
        the writer may), then refresh, which checks again while a run is still active."""
        await reconcile(self.project.store)
        self.ekt.live.dirty = True

    async def _show_selected(self) -> None:
        run = next((r for r in self.runs if r["id"] == self.selected), None)
        events: list[dict[str, Any]] = []
        checkpoints: list[dict[str, Any]] = []
        if run is not None:
            reader = self.ekt.reader
            cached = self._events.setdefault(run["id"], [])
            after = cached[-1]["id"] if cached else 0
            cached.extend(await train_run_events(reader, run["id"], after_id=after))
            events = cached
            checkpoints = await train_checkpoints(reader, run["id"])
        shown = (run, len(events), checkpoints)
        if shown == self._shown:
            return
        self._shown = None  # until all of it is shown: a refresh that fails here redraws
        self._progress = (run, events)
        self.query_one(TrainProgress).show(run, events, self.ekt.clock())
        title = f"{run['name']}: loss per step" if run else "training loss"
        self.query_one(LossPlot).show(events, title)
        self._show_log(run, events)
        table = self._checkpoint_table()
        table.clear()
        for c in checkpoints:
            dev = c["metrics"].get("dev_pass_at_1")
            loss = c["metrics"].get("loss")
            table.add_row(
                str(c["step"]),
                "–" if dev is None else f"{100 * dev:.1f}%",
                "–" if loss is None else f"{loss:.4f}",
                "★" if c["metrics"].get("best") else "",
                self._short(c["path"]),
            )
        self.query_one("#train-cancel", Button).disabled = (
            run is None or run["status"] not in ACTIVE
        )
        self.query_one("#train-resume", Button).disabled = run is None or run["status"] not in (
            "cancelled",
            "failed",
        )
        self._shown = shown

    def _show_log(self, run: dict[str, Any] | None, events: list[dict[str, Any]]) -> None:
        """Append the new lines (all of them for another run) and follow the end; the scroll
        waits for the layout, which knows the new height only after this refresh."""
        log = self.query_one(Log)
        lines = [self._short(line) for line in log_lines(events, tail=len(events) + 1)]
        run_id = None if run is None else run["id"]
        shown_run, written = self._log_of
        if run_id != shown_run or len(lines) < written:
            log.clear()
            written = 0
        new = lines[written:][-LOG_LINES:]
        self._log_of = (run_id, len(lines))
        if new:
            log.write_lines(new, scroll_end=False)
        log.call_after_refresh(log.scroll_end, animate=False)

    def _short(self, text: str) -> str:
        """Paths inside the project shown relative to it (short, and the same on any machine)."""
        return text.replace(f"{self.project.root.resolve()}/", "").replace(
            f"{self.project.root}/", ""
        )

    def on_train_runs_table_run_highlighted(self, message: TrainRunsTable.RunHighlighted) -> None:
        if message.run_id != self.selected:
            self.selected = message.run_id
            self.ekt.request_refresh()

    # -- preview ---------------------------------------------------------------------------------
    def schedule_preview(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(0.3, self._preview)

    def on_train_form_preview_wanted(self) -> None:
        self.schedule_preview()

    @work(group="train-preview", exclusive=True, exit_on_error=False)
    async def _preview(self) -> None:
        form = self.query_one(TrainForm)
        try:
            section = resolve_options(self.project.config, form.options())
            p = await preview_method(self.ekt.reader, section)  # the method's set (kd: all)
        except EktError as exc:
            form.show_preview(f"[red]{one_line(exc)}[/]")
            return
        mark = "" if p.exact else "≈"
        form.show_preview(
            f"{p.examples:,} examples from {p.problems:,} problems, {p.dev} dev held out · "
            f"{mark}{p.prompt_tokens:,} prompt + {mark}{p.completion_tokens:,} completion tokens"
        )

    # -- actions ---------------------------------------------------------------------------------
    def on_train_form_launch_requested(self) -> None:
        self.action_launch()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "train-cancel":
            self.action_cancel_run()
        elif event.button.id == "train-resume":
            self.action_resume_run()

    def action_reload(self) -> None:
        self.ekt.request_refresh()

    @work(group="train-action", exit_on_error=False)
    async def action_launch(self) -> None:
        try:
            options = self.query_one(TrainForm).options()
            run_id = await launch_training(self.project, options)
        except EktError as exc:
            self.notify(one_line(exc), title="Cannot launch", severity="error", timeout=10)
            return
        self.selected = run_id
        self.notify(f"training run started (id {run_id})")
        self.ekt.request_refresh()

    @work(group="train-action", exit_on_error=False)
    async def action_cancel_run(self) -> None:
        if self.selected is None:
            self.notify("no run selected", severity="warning")
            return
        try:
            run = await cancel_training(self.project, self.selected)
        except EktError as exc:
            self.notify(one_line(exc), title="Cannot cancel", severity="error", timeout=10)
            return
        self.notify(f"{run['name']}: cancelling (checkpoint, then stop)")

    @work(group="train-action", exit_on_error=False)
    async def action_resume_run(self) -> None:
        if self.selected is None:
            self.notify("no run selected", severity="warning")
            return
        try:
            await resume_training(self.project, self.selected)
        except EktError as exc:
            self.notify(one_line(exc), title="Cannot resume", severity="error", timeout=10)
            return
        self.notify("resuming from the last checkpoint")
        self.ekt.request_refresh()
