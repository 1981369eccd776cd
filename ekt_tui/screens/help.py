"""Keys of the screen underneath and of the whole app, from their live bindings."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def _rows(bindings: list[Binding]) -> list[tuple[str, str]]:
    out = []
    for b in bindings:
        if isinstance(b, Binding) and b.description and b.key != "ctrl+p":
            out.append((b.key.replace("_", " "), b.description))
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        title = getattr(self.under, "HELP_TITLE", "") or type(self.under).__name__
        table = Table(title=f"Keys — {title}", expand=True, show_header=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, desc in _rows(list(getattr(self.under, "BINDINGS", []))):
            table.add_row(key, desc)
        table.add_section()
        for key, desc in _rows(
            list(
                self.app._bindings.key_to_bindings
                and [b for bs in self.app._bindings.key_to_bindings.values() for b in bs]
            )
        ):
            table.add_row(key, desc)
        table.add_row("ctrl+p", "command palette (every action by name)")
        table.add_row("mouse", "click a row to select it, double-click to open; wheel scrolls")
        with VerticalScroll(id="help-box"):
            yield Static(table)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
