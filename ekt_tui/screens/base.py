"""What every ekt screen shares: a live refresh hook and its palette entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.screen import Screen
from textual.worker import Worker

if TYPE_CHECKING:
    from ekt_tui.app import EktApp


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

    async def on_screen_resume(self) -> None:
        self.ekt.request_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand screen workers' errors to the app's handler."""
        self.ekt.on_worker_state_changed(event)
