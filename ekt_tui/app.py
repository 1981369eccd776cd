"""The ekt-tui App: one thin layer over a project (injected, so tests pass a seeded one).

Screens are modes (their own stacks): dashboard, problems, prompt editor, training, evaluation
(SCREENS), all `LiveScreen`s refreshed from the app's read connection. Every worker error becomes
one notification (`on_worker_state_changed`); nothing ever shows a traceback.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from core import Project, Store
from ekt_tui.commands import EktCommands
from ekt_tui.live import POLL_S, TICKS_PER_S, LiveFeed
from ekt_tui.sampler import Sampler
from ekt_tui.screens.base import LiveScreen, one_line
from ekt_tui.screens.dashboard import DashboardScreen
from ekt_tui.screens.evaluation import EvaluationScreen
from ekt_tui.screens.help import HelpScreen
from ekt_tui.screens.problem_detail import ProblemDetailScreen
from ekt_tui.screens.problems import ProblemsScreen
from ekt_tui.screens.prompt_editor import PromptEditorScreen
from ekt_tui.screens.training import TrainingScreen

# mode -> (screen, key, label)
SCREENS: dict[str, tuple[type[LiveScreen], str, str]] = {
    "dashboard": (DashboardScreen, "1", "Dashboard"),
    "problems": (ProblemsScreen, "2", "Problems"),
    "prompts": (PromptEditorScreen, "3", "Prompt editor"),
    "training": (TrainingScreen, "4", "Training"),
    "evaluation": (EvaluationScreen, "5", "Evaluation"),
}
ERROR_TIMEOUT_S = 10.0
SYSTEM_COMMANDS_REPLACED = {"Quit", "Keys"}


def _terminal_alive() -> bool:
    """Whether this session still has a controlling terminal (gone after a hang-up)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


class EktApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "ekt-tui"
    COMMANDS = App.COMMANDS | {EktCommands}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        project: Project | Path,
        *,
        reader: Store | None = None,
        clock: Callable[[], float] | None = None,
        poll: bool = True,
    ) -> None:
        """`project` may be a folder: it is then opened (and closed) by the app itself, in the
        app's own event loop (what snapshot tests need)."""
        self._root = project if isinstance(project, Path) else None
        self.project: Project = None if isinstance(project, Path) else project  # type: ignore[assignment]
        self.reader: Store = reader  # type: ignore[assignment]  # opened in on_load if None
        self._own_reader = reader is None
        self.clock = clock or time.time
        self.poll = poll
        self.live = LiveFeed()
        self.sampler = Sampler(self)
        self.screen_keys: dict[str, tuple[str, str]] = {}
        self.selected_problem_id: str | None = None
        self._detail: ProblemDetailScreen | None = None
        self._errors_shown: dict[str, float] = {}  # error line -> when it was last notified
        super().__init__()
        for mode, (cls, key, label) in SCREENS.items():
            self.add_mode(mode, cls)
            self.screen_keys[mode] = (key, label)
            self.bind(key, f"switch_mode('{mode}')", description=label)
        self._version: int | None = None
        self._refreshing = False

    async def on_load(self) -> None:
        if self.project is None:
            self.project = await Project.open(self._root)  # type: ignore[arg-type]
        self.sub_title = f"{self.project.config.project.name} — {self.project.root}"
        if self.reader is None:
            self.reader = await Store.open(self.project.db_path, readonly=True)

    async def on_mount(self) -> None:
        await self.switch_mode("dashboard")
        self._follow_bus()
        self.set_interval(1 / TICKS_PER_S, self._tick)
        if self.poll:
            self.set_interval(POLL_S, self._poll_version)
        self._parent_pid = os.getppid()
        self._had_tty = _terminal_alive()
        self.set_interval(2.0, self._check_terminal)

    def _check_terminal(self) -> None:
        """Quit when our terminal or our parent is gone: under `make run` a closed terminal
        hangs up make, not us, and Textual would otherwise spin on a dead tty for ever."""
        if os.getppid() != self._parent_pid or (self._had_tty and not _terminal_alive()):
            self.exit()

    async def on_unmount(self) -> None:
        with contextlib.suppress(Exception):
            await self.sampler.stop()
        if self._own_reader and self.reader is not None:
            await self.reader.close()
        if self._root is not None and self.project is not None:
            await self.project.close()

    # -- live updates ----------------------------------------------------------------------------
    @work(group="bus", exit_on_error=False)
    async def _follow_bus(self) -> None:
        async for event in self.project.bus.stream():
            self.live.apply(event)

    async def _poll_version(self) -> None:
        version = await self.reader.data_version()
        if version != self._version:
            self._version = version
            self.live.dirty = True

    def _tick(self) -> None:
        for message, severity in self.live.take_notices():
            self.notify(message, severity=severity, timeout=8)  # type: ignore[arg-type]
        if self.live.dirty and not self._refreshing:
            self.request_refresh()

    def request_refresh(self) -> None:
        """Refresh the current screen now rather than at the next tick (a screen that opens
        shows its data at once); if a refresh is running, once more after it."""
        if self._refreshing:
            self.live.dirty = True
            return
        self.live.dirty = False
        self._refreshing = True
        self._refresh_screen()

    @work(group="refresh", exit_on_error=False)
    async def _refresh_screen(self) -> None:
        screen = self.screen
        try:
            if isinstance(screen, LiveScreen):
                with self.batch_update():
                    await screen.refresh_data()
        finally:
            self._refreshing = False
            if isinstance(screen, LiveScreen) and screen.repaint_after_refresh:
                # see switch_mode; a refresh that changed nothing would paint nothing
                screen.repaint_after_refresh = False
                screen.refresh()

    def switch_mode(self, mode: str) -> AwaitMount:
        """Textual repaints the new mode's screen when the switch's short update batch ends,
        but not if a refresh batch is open then: that refresh repaints it instead."""
        await_mount = super().switch_mode(mode)
        if isinstance(self.screen, LiveScreen):
            self.screen.repaint_after_refresh = True
        return await_mount

    async def refresh_now(self) -> None:
        """Refresh the current screen at once (tests; after a save)."""
        if isinstance(self.screen, LiveScreen):
            await self.screen.refresh_data()

    def open_problem(self, problem_id: str, eval_id: int | None = None) -> None:
        """Push the inspector for `problem_id` (only evaluation `eval_id`'s samples when given);
        one installed screen is reused (a new one costs ~0.1 s of composing and styling)."""
        screen = self._detail
        if screen is None or any(screen in stack for stack in self._screen_stacks.values()):
            screen = ProblemDetailScreen(problem_id, eval_id)
            if self._detail is None:
                self._detail = screen
                self.install_screen(screen, "problem-detail")
        else:
            screen.set_problem(problem_id, eval_id)
        self.push_screen(screen)

    # -- errors ----------------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's error is shown: one line, once while it is on screen (a
        refresh that keeps failing the same way does not stack up notifications)."""
        worker = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        line, now = one_line(worker.error), time.monotonic()
        shown = {k: t for k, t in self._errors_shown.items() if now - t < ERROR_TIMEOUT_S}
        self._errors_shown = shown
        if line in shown:
            return
        shown[line] = now
        self.notify(line, title="Error", severity="error", timeout=ERROR_TIMEOUT_S)

    # -- actions ---------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        """Quit; a sampling run of this app is stopped first, so it is marked stopped (and a
        later start continues it) instead of failing with its requests cut off; an evaluation
        it runs is cancelled first, for the same reason."""
        if self.sampler.running:
            self.notify("Stopping the sampling run…")
            await self.sampler.stop(timeout=15)
        evals = [w for w in self.workers if w.group == "eval-run" and not w.is_finished]
        if evals:  # the runner marks them cancelled (resumable by name), not left "running"
            self.notify("Cancelling the running evaluation…")
            for worker in evals:
                worker.cancel()
            for worker in evals:
                with contextlib.suppress(Exception):
                    await worker.wait()
        self.exit()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme != "textual-light" else "textual-dark"

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette entries except those ekt lists itself (`command_entries`): Quit
        (ours stops sampling first) and Keys (ours is the help screen), so each shows once."""
        for command in super().get_system_commands(screen):
            if command.title not in SYSTEM_COMMANDS_REPLACED:
                yield command

    def command_entries(
        self, screen: Screen[Any] | None = None
    ) -> list[tuple[str, str, str, object]]:
        """(label, help, action, target) for the palette: navigation, app and the actions of
        `screen` (default: the current one)."""
        out: list[tuple[str, str, str, object]] = [
            (f"Go to {label}", f"key {key}", f"switch_mode('{mode}')", self)
            for mode, (key, label) in self.screen_keys.items()
        ]
        out += [
            ("Help: keys of this screen", "key ?", "help", self),
            ("Toggle dark/light theme", "ctrl+t", "toggle_theme", self),
            ("Quit", "key q", "quit", self),
        ]
        screen = self.screen if screen is None else screen
        for label, help_text, action in getattr(screen, "COMMANDS_LIST", []):
            out.append((label, help_text, action, screen))
        return out
