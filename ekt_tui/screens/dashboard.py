"""Dashboard: the current run's numbers, throughput sparklines, the live teacher stream, and the
start / pause / resume / stop controls for sampling in this app's event loop."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Label, Sparkline

from ekt_tui.reader import list_runs, rates, run_stats
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.config_form import ConfigForm
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
        ("Start sampling", "run the configured teacher over the problems (s)", "start"),
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

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-top"):
            yield RunPanel(id="run-panel")
            with Vertical(id="rates"):
                yield Label("requests/s (last 60 s)", id="req-label")
                yield Sparkline([0] * 60, id="req-spark")
                yield Label("verifications/s (last 60 s)", id="ver-label")
                yield Sparkline([0] * 60, id="ver-spark")
        yield Label("Teacher stream", id="stream-title")
        yield TeacherStream(id="stream")
        yield Footer()

    async def refresh_data(self) -> None:
        reader, now = self.ekt.reader, self.ekt.clock()
        self.run_ids = [r[0] for r in await list_runs(reader)]
        run_id = self.run_id if self.run_id in self.run_ids else None
        if run_id is None and self.run_ids:
            run_id = self.run_ids[0]
        stats = await run_stats(reader, run_id) if run_id is not None else None
        self.query_one(RunPanel).show(stats, now, self.ekt.sampler.state)
        if stats is not None:
            req, ver = await rates(reader, stats.id, now)
            self.query_one("#req-spark", Sparkline).data = req
            self.query_one("#ver-spark", Sparkline).data = ver
            self.query_one("#req-label", Label).update(
                f"requests/s (last 60 s) now {req[-1]}  max {max(req)}"
            )
            self.query_one("#ver-label", Label).update(
                f"verifications/s (last 60 s) now {ver[-1]}  max {max(ver)}"
            )
        stream = self.query_one(TeacherStream)
        width, height = stream.size.width or 80, max(stream.size.height, 4)
        stream.show(self.ekt.live.streams.values(), width, height)

    def action_start(self) -> None:
        if self.ekt.sampler.start() is not None:
            self.notify("Sampling started")
            self.run_id = None

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
        self.notify("Stopping: requests in flight finish first")
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
