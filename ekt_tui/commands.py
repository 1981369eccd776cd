"""Command palette: every action of the app and of the current screen, by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from ekt_tui.app import EktApp


class EktCommands(Provider):
    """Entries come from `EktApp.command_entries()` (global) plus the screen's `COMMANDS_LIST`."""

    def _entries(self) -> list[tuple[str, str, str, object]]:
        app: EktApp = self.app  # type: ignore[assignment]
        return app.command_entries(self.screen)  # the screen under the palette

    async def discover(self) -> Hits:
        for label, help_text, action, target in self._entries():
            yield DiscoveryHit(label, partial(self._run, target, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, action, target in self._entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(label), partial(self._run, target, action),
                    help=help_text,
                )  # fmt: skip

    async def _run(self, target: object, action: str) -> None:
        await self.app.run_action(action, target)  # type: ignore[arg-type]
