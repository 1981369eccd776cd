"""Dashboard: the current run's numbers, throughput sparklines, the live teacher stream, and the
start / pause / resume / stop controls for sampling in this app's event loop.

`s` opens the start-sampling dialog (scope, parameters, core's dry-run estimate); the screen
also follows the bus itself to measure each teacher's pace (the dialog's ETA) and to know when
the run it started exists (before that the teacher is loading)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Header, Label, Sparkline

from core import ProblemFilter, RunStateChanged
from ekt_tui.runs import RATE_WINDOW, OutcomeThrottle, RunStats, list_runs, run_core
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.config_form import ConfigForm
from ekt_tui.screens.problems import ProblemsScreen
from ekt_tui.screens.sample_dialog import ProblemsScope, SampleDialog, TeacherSpeed
from ekt_tui.widgets.key_bar import KeyBar
from ekt_tui.widgets.run_panel import RunPanel
from ekt_tui.widgets.teacher_stream import TeacherStream


class DashboardScreen(LiveScreen):
    HELP_TITLE = "Dashboard"
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("space", "pause_resume", "Pause/resume"),
        Binding("x", "stop", "Stop"),
        Binding("c", "config", "Config"),
        Binding("left_square_bracket", "run(-1)", "Prev run", show=False),
        Binding("right_square_bracket", "run(1)", "Next run", show=False),
    ]
    COMMANDS_LIST = [
        ("Start sampling", "choose problems and parameters, see the estimate first (s)", "start"),
        ("Pause or resume sampling", "space", "pause_resume"),
        ("Stop sampling", "x", "stop"),
        ("Edit teacher and sampling config", "c", "config"),
        ("Show previous run", "[", "run(-1)"),
        ("Show next run", "]", "run(1)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_id: int | None = None  # None: follow the newest run
        self.run_ids: list[int] = []
        self.outcomes = OutcomeThrottle()
        self._shown: RunStats | None = None
        self._wake: Timer | None = None
        self._status: dict[int, str] = {}  # run id -> status last shown
        self.speed = TeacherSpeed()
        self._worker: object | None = None  # the sampler worker last seen
        self._started_at = 0.0  # when it was first seen (app clock)
        self._sampler_run: int | None = None  # the run it created or continued, once it exists

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-top"):
            yield RunPanel(id="run-panel")
            with Vertical(id="rates"):
                yield Label("requests/s (last 60 s)", id="req-label")
                yield Sparkline([0] * RATE_WINDOW, id="req-spark")
                yield Label("verifications/s (last 60 s)", id="ver-label")
                yield Sparkline([0] * RATE_WINDOW, id="ver-spark")
        yield Label("Teacher stream", id="stream-title")
        yield TeacherStream(id="stream")
        yield KeyBar()

    def on_mount(self) -> None:
        self._follow_bus()
        self.set_interval(1.0, self._loading_tick)

    @work(group="bus", exit_on_error=False)
    async def _follow_bus(self) -> None:
        async for event in self.ekt.project.bus.stream():
            self._track_sampler()
            self.speed.feed(event)
            if (
                isinstance(event, RunStateChanged)
                and event.state == "running"
                and self._sampler_run is None
                and self.ekt.sampler.running
            ):
                self._sampler_run = event.run_id
                self.run_id = None  # follow the run this app is sampling

    def _track_sampler(self) -> None:
        """A new sampler worker (from here or another screen) starts a new loading phase."""
        worker = self.ekt.sampler.worker
        if worker is not self._worker:
            self._worker = worker
            self._started_at = self.ekt.clock()
            self._sampler_run = None

    @property
    def loading(self) -> bool:
        """The app's sampler runs but its run does not exist yet: the teacher is starting."""
        self._track_sampler()
        return self.ekt.sampler.running and self._sampler_run is None

    def _loading_tick(self) -> None:
        if self.loading:
            self.ekt.live.dirty = True

    async def refresh_data(self) -> None:
        reader, now = self.ekt.reader, self.ekt.clock()
        self.run_ids = [r[0] for r in await list_runs(reader)]
        run_id = self.run_id if self.run_id in self.run_ids else None
        if run_id is None and self.run_ids:
            run_id = self.run_ids[0]
        stats = await run_core(reader, run_id, now) if run_id is not None else None
        if stats is not None:
            if self._status.get(stats.id, stats.status) != stats.status:
                self.outcomes.expire(stats.id)
            self._status[stats.id] = stats.status
            stats = replace(stats, outcomes=self.outcomes.latest.get(stats.id))
            wait = self.outcomes.wait_s(stats.id)
            if wait == 0.0:
                self._read_outcomes(stats.id, now)
            elif wait != float("inf") and self._wake is None:
                self._wake = self.set_timer(wait, self._woken)
        self._show(stats)
        stream = self.query_one(TeacherStream)
        width, height = stream.size.width or 80, max(stream.size.height, 4)
        stream.show(self.ekt.live.streams.values(), width, height)

    def _woken(self) -> None:
        self._wake = None
        self.ekt.live.dirty = True

    @work(group="dash-outcomes", exit_on_error=False)
    async def _read_outcomes(self, run_id: int, now: float) -> None:
        outcomes = await self.outcomes.read(self.ekt.reader, run_id, now)
        if self._shown is not None and self._shown.id == run_id:
            self._show(replace(self._shown, outcomes=outcomes))

    def _show(self, stats: RunStats | None) -> None:
        self._shown = stats
        panel = self.query_one(RunPanel)
        if self.loading:
            local = self.ekt.project.config.teacher.backend == "local"
            panel.show_loading(
                "loading model" if local else "starting the teacher",
                self.ekt.clock() - self._started_at,
            )
        else:
            mine = self.ekt.sampler.running and stats is not None and stats.id == self._sampler_run
            limit = self.ekt.live.concurrency.get(stats.id) if mine and stats else None
            panel.show(stats, self.ekt.clock(), self.ekt.sampler.state, writing=mine,
                       concurrency=limit)  # fmt: skip
        if stats is None:
            return
        req = stats.request_rate
        ver = stats.outcomes.verify_rate if stats.outcomes else [0] * RATE_WINDOW
        self.query_one("#req-spark", Sparkline).data = req
        self.query_one("#ver-spark", Sparkline).data = ver
        self.query_one("#req-label", Label).update(
            f"requests/s (last 60 s) now {req[-1]}  max {max(req)}"
        )
        self.query_one("#ver-label", Label).update(
            f"verifications/s (last 60 s) now {ver[-1]}  max {max(ver)}"
        )

    def action_start(self) -> None:
        if self.ekt.sampler.running:
            self.notify("A sampling run is already in progress", severity="warning")
            return
        scope, count = self._problems_scope()
        dialog = SampleDialog(
            self.ekt.project, self.ekt.reader, self.speed, scope=scope, scope_count=count,
            resolve_teachers=self._label_runs,
        )  # fmt: skip
        self.app.push_screen(dialog, self._start_with)

    def _start_with(self, options: dict[str, Any] | None) -> None:
        """The dialog's answer: None starts nothing."""
        if options is None:
            return
        if self.ekt.sampler.start(**options) is not None:
            self.notify("Sampling started")
            self.run_id = None
            self.ekt.live.dirty = True

    def _problems_scope(self) -> tuple[ProblemsScope | None, int]:
        """The Problems screen's filter/search when one is set (its screen lives in its mode's
        stack once visited)."""
        for stack in getattr(self.app, "_screen_stacks", {}).values():
            for screen in stack:
                if isinstance(screen, ProblemsScreen) and screen.is_mounted:
                    plist = screen.plist
                    if plist.flt != ProblemFilter.ALL or plist.search:
                        return ProblemsScope(plist.flt, plist.search), plist.total
        return None, 0

    async def _label_runs(self) -> None:
        """Name the teacher of each run the speed meter measured (as its dry run names it)."""
        now = self.ekt.clock()
        for run_id in self.speed.unlabelled():
            stats = await run_core(self.ekt.reader, run_id, now)
            if stats is not None:
                self.speed.teachers[run_id] = stats.teacher

    def action_pause_resume(self) -> None:
        sampler = self.ekt.sampler
        if sampler.state == "running":
            sampler.pause()
            self.notify("Sampling paused")
        elif sampler.state == "paused":
            sampler.resume()
            self.notify("Sampling resumed")
        else:
            self.notify("No sampling run in progress in this app", severity="warning")
        self.ekt.live.dirty = True

    async def action_stop(self) -> None:
        if not self.ekt.sampler.running:
            self.notify("No sampling run in progress in this app", severity="warning")
            return
        self.notify(
            "Stopping: requests in flight are cancelled and stay pending; the run stays"
            " resumable (s with the same settings continues it)"
        )
        self.run_worker(self.ekt.sampler.stop(), group="sampling-stop", exit_on_error=False)

    def action_config(self) -> None:
        self.app.push_screen(ConfigForm(self.ekt.project))

    def action_run(self, delta: int) -> None:
        if not self.run_ids:
            return
        current = self.run_id if self.run_id in self.run_ids else self.run_ids[0]
        i = (self.run_ids.index(current) + delta) % len(self.run_ids)
        self.run_id = self.run_ids[i]
        self.ekt.live.dirty = True
