"""What every ekt screen shares: a live refresh hook, its palette entries, and one wording of
an error (a notification line, never a traceback)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.screen import Screen
from textual.worker import Worker

from core import EktError

if TYPE_CHECKING:
    from ekt_tui.app import EktApp


def one_line(exc: BaseException) -> str:
    """The user-facing line for an error: EktErrors already are; others get their type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, EktError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LiveScreen(Screen[None]):
    """A screen the app refreshes (coalesced) when the store or the engine changed."""

    HELP_TITLE: ClassVar[str] = ""
    COMMANDS_LIST: ClassVar[list[tuple[str, str, str]]] = []
    """(palette label, help, action name on this screen)."""

    @property
    def ekt(self) -> EktApp:
        return self.app  # type: ignore[return-value]

    async def refresh_data(self) -> None:
        """Re-query what is on screen; called at most TICKS_PER_S times a second."""

    repaint_after_refresh = False
    """Set by a mode switch: the next refresh repaints the whole screen (see EktApp)."""

    async def on_screen_resume(self) -> None:
        self.ekt.request_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand screen workers' errors to the app's handler."""
        self.ekt.on_worker_state_changed(event)
