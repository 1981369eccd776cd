"""The *start sampling* dialog: choose problems and sampling parameters, see what it would cost
and how long it would take (core's own dry run), and only then start.

`TeacherSpeed` is the measured pace of each teacher in this app session (from the engine's
events on the bus), so the ETA comes from what the teacher really did, not from a guess.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core import (
    EktError,
    Event,
    ProblemFilter,
    Project,
    RequestFinished,
    RequestStarted,
    Store,
    count_problems,
    list_problems,
)
from ekt_tui.screens.config_form import ConfigForm
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.widgets.run_panel import duration

CONFIRM_ETA_S = 3600.0  # a longer run asks again before it starts
SCOPE_ALL, SCOPE_PROBLEMS = "all", "problems-screen"


@dataclass
class _Pace:
    started: float | None = None
    finished_at: float = 0.0
    finished: int = 0
    tokens: int = 0
    latencies: list[float] = field(default_factory=list)


class TeacherSpeed:
    """Requests/s and tokens/s per run, from RequestStarted/RequestFinished events; a run's
    teacher label (what the dry run calls it) is resolved by the caller."""

    def __init__(self) -> None:
        self.runs: dict[int, _Pace] = {}
        self.teachers: dict[int, str] = {}

    def feed(self, event: Event) -> None:
        if isinstance(event, RequestStarted):
            pace = self.runs.setdefault(event.run_id, _Pace())
            pace.started = event.at if pace.started is None else min(pace.started, event.at)
        elif isinstance(event, RequestFinished):
            pace = self.runs.setdefault(event.run_id, _Pace())
            pace.finished += 1
            pace.tokens += event.completion_tokens
            pace.finished_at = max(pace.finished_at, event.at)
            pace.latencies.append(event.latency_s)

    def unlabelled(self) -> list[int]:
        return [r for r in self.runs if r not in self.teachers]

    def pace(self, teacher: str) -> tuple[float, float, float] | None:
        """(requests/s, completion tokens/s, median latency s) of `teacher`'s measured runs."""
        span = requests = tokens = 0.0
        latencies: list[float] = []
        for run_id, p in self.runs.items():
            label = self.teachers.get(run_id, "").rstrip("/")
            if label != teacher.rstrip("/") or not p.finished or p.started is None:
                continue
            span += max(p.finished_at - p.started, 1e-3)
            requests += p.finished
            tokens += p.tokens
            latencies += p.latencies
        if not requests:
            return None
        return requests / span, tokens / span, statistics.median(latencies)

    def eta_s(self, teacher: str, requests: int) -> float | None:
        pace = self.pace(teacher)
        return None if pace is None else requests / pace[0]


@dataclass(frozen=True)
class ProblemsScope:
    """The Problems screen's current filter and search (when one is set)."""

    flt: ProblemFilter
    search: str

    def label(self, count: int) -> str:
        search = f", search {self.search!r}" if self.search else ""
        return f"the Problems screen's: filter {self.flt.value}{search} ({count:,})"

    async def ids(self, store: Store) -> list[str]:
        total = await count_problems(store, flt=self.flt, search=self.search)
        rows = await list_problems(store, flt=self.flt, search=self.search, limit=max(total, 1))
        return [r.id for r in rows]


def _number(widget: Input, name: str, kind: type[int] | type[float]) -> int | float | None:
    text = widget.value.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise EktError(f"{name} {text!r}: expected {what}") from None


class SampleDialog(ModalScreen[dict[str, Any] | None]):
    """Dismisses with the `SampleOptions` keywords to start with, or None (nothing starts)."""

    CSS_PATH = "sample_dialog.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Start"),
        Binding("c", "config", "Edit teacher"),
    ]

    def __init__(
        self,
        project: Project,
        reader: Store,
        speed: TeacherSpeed,
        *,
        scope: ProblemsScope | None = None,
        scope_count: int = 0,
        resolve_teachers: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.project, self.reader, self.speed = project, reader, speed
        self.scope, self.scope_count = scope, scope_count
        self.resolve_teachers = resolve_teachers
        self.plan: Any | None = None  # the last DryRunPlan
        self.options: dict[str, Any] | None = None  # what that plan was computed for
        self.error: str | None = None
        self.eta: float | None = None

    def compose(self) -> ComposeResult:
        s = self.project.config.sampling
        scopes = [("every problem", SCOPE_ALL)]
        if self.scope is not None:
            scopes.insert(0, (self.scope.label(self.scope_count), SCOPE_PROBLEMS))
        with Vertical(id="sample-box"):
            yield Label("[b]Start sampling[/b]  (enter starts, esc cancels)", id="sample-title")
            with Horizontal(classes="sample-field"):
                yield Label("teacher", classes="sample-name")
                yield Label("…", id="sample-teacher")
            with Horizontal(classes="sample-field"):
                yield Label("problems", classes="sample-name")
                yield Select(scopes, value=scopes[0][1], allow_blank=False, id="sample-scope")
            with Horizontal(classes="sample-field"):
                yield Label("split", classes="sample-name")
                yield Input(placeholder="every split", id="sample-split")
                yield Label("limit", classes="sample-name2")
                yield Input(placeholder="no limit", id="sample-limit")
                yield Checkbox("unsolved only", id="sample-unsolved")
            with Horizontal(classes="sample-field"):
                yield Label("n", classes="sample-name")
                yield Input(str(s.n), id="sample-n")
                yield Label("temperature", classes="sample-name2")
                yield Input(str(s.temperature), id="sample-temperature")
                yield Label("max tokens", classes="sample-name2")
                yield Input(str(s.max_tokens), id="sample-max-tokens")
            yield Static("estimating…", id="sample-estimate")
            with Horizontal(id="sample-buttons"):
                yield Button("Teacher… (c)", id="sample-config")
                yield Button("Start (enter)", variant="primary", id="sample-start")
                yield Button("Cancel (esc)", id="sample-cancel")

    def on_mount(self) -> None:
        self.query_one("#sample-start", Button).focus()
        self._estimate()

    # -- the options and their estimate ---------------------------------------------------------
    def _input(self, name: str) -> Input:
        return self.query_one(f"#sample-{name}", Input)

    async def read_options(self) -> dict[str, Any]:
        """The form as SampleOptions keywords; a bad value raises one EktError line."""
        options: dict[str, Any] = {
            "split": self._input("split").value.strip() or None,
            "limit": _number(self._input("limit"), "limit", int),
            "unsolved_only": self.query_one("#sample-unsolved", Checkbox).value,
            "n": _number(self._input("n"), "n", int),
            "temperature": _number(self._input("temperature"), "temperature", float),
            "max_tokens": _number(self._input("max-tokens"), "max tokens", int),
        }
        scope = self.query_one("#sample-scope", Select).value
        if self.scope is not None and scope == SCOPE_PROBLEMS:
            ids = await self.scope.ids(self.reader)
            if not ids:
                raise EktError("the Problems screen's filter shows no problems")
            options["problems"] = ids
        return {k: v for k, v in options.items() if v is not None and v is not False}

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._estimate()

    @work(exclusive=True, group="sample-estimate", exit_on_error=False)
    async def _estimate(self) -> None:
        from core.sampling import SampleOptions, dry_run

        self.plan = None
        try:
            options = await self.read_options()
            plan = await dry_run(self.project, SampleOptions(**options))
        except EktError as exc:
            self.options, self.error, self.eta = None, str(exc).splitlines()[0], None
            self._show()
            return
        if self.resolve_teachers is not None and self.speed.unlabelled():
            await self.resolve_teachers()
        self.plan, self.options, self.error = plan, options, None
        self.eta = self.speed.eta_s(plan.teacher, plan.requests)
        self._show()

    def _show(self) -> None:
        box = self.query_one("#sample-estimate", Static)
        start = self.query_one("#sample-start", Button)
        if self.error is not None:
            box.update(Text(self.error, style="bold red"))
            start.disabled = True
            return
        p = self.plan
        assert p is not None
        self.query_one("#sample-teacher", Label).update(p.teacher)
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        state = "continues" if p.exists else "creates"
        t.add_row("run", f"{state} {p.run}")
        t.add_row(
            "requests",
            f"{p.requests:,} for {p.samples:,} samples over {p.problems:,} problems"
            + (f" ({p.already_done:,} samples already stored)" if p.already_done else ""),
        )
        approx = "" if p.prompt_tokens_exact else "≈"
        completion = f"completion ≤ {p.completion_tokens_bound:,}"
        t.add_row("tokens", f"prompt {approx}{p.prompt_tokens:,} · {completion}")
        budget = f" (budget ${p.budget_usd:,.2f})" if p.budget_usd is not None else ""
        t.add_row("cost", f"≤ ${p.cost_bound_usd:,.4f}{budget}")
        pace = self.speed.pace(p.teacher)
        if not p.requests:
            t.add_row("ETA", "—")
        elif self.eta is None or pace is None:
            unknown = "unknown (this teacher's speed is not measured yet)"
            t.add_row("ETA", Text(unknown, style="dim"))
        else:
            long = self.eta > CONFIRM_ETA_S
            t.add_row(
                "ETA",
                Text.assemble(
                    (f"≈ {duration(self.eta)}", "bold yellow" if long else "bold"),
                    (
                        f"  at {pace[0]:.2f} requests/s, {pace[1]:,.0f} tok/s, median latency"
                        f" {pace[2]:.1f} s (measured in this session)",
                        "dim",
                    ),
                ),
            )
        if not p.requests:
            t.add_row("", Text("nothing to send: every selected sample is stored", style="yellow"))
        box.update(t)
        start.disabled = not p.requests

    # -- actions --------------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "sample-start":
            self.action_start()
        elif event.button.id == "sample-config":
            self.action_config()
        else:
            self.action_cancel()

    def action_start(self) -> None:
        if self.error is not None:
            self.notify(self.error, severity="error")
            return
        if self.plan is None or self.options is None:
            self.notify("Still estimating…", severity="warning")
            return
        if not self.plan.requests:
            self.notify("Nothing to send: every selected sample is stored", severity="warning")
            return
        options = self.options
        if self.eta is not None and self.eta > CONFIRM_ETA_S:

            def answered(yes: bool | None) -> None:
                if yes:
                    self.dismiss(options)

            self.app.push_screen(
                ConfirmScreen(
                    f"This run would take about {duration(self.eta)} "
                    f"({self.plan.requests:,} requests). Start it anyway?",
                    yes="Start",
                    no="Back",
                ),
                answered,
            )
            return
        self.dismiss(options)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_config(self) -> None:
        def saved(changed: bool | None) -> None:
            if changed:
                s = self.project.config.sampling
                self._input("n").value = str(s.n)
                self._input("temperature").value = str(s.temperature)
                self._input("max-tokens").value = str(s.max_tokens)
                self._estimate()

        self.app.push_screen(ConfigForm(self.project), saved)
