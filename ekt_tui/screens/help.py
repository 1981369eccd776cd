"""Keys of the screen underneath and of the whole app, from their live bindings."""

from __future__ import annotations

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def _rows(app: App[object], bindings: list[Binding]) -> list[tuple[str, str]]:
    """(keys, description), keys that do the same thing on one row."""
    keys: dict[str, list[str]] = {}
    for b in bindings:
        if isinstance(b, Binding) and b.description and b.key != "ctrl+p":
            shown = app.get_key_display(b)
            if shown not in keys.setdefault(b.description, []):
                keys[b.description].append(shown)
    return [(", ".join(k), desc) for desc, k in keys.items()]


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
        for key, desc in _rows(self.app, list(getattr(self.under, "BINDINGS", []))):
            table.add_row(key, desc)
        table.add_section()
        for key, desc in _rows(
            self.app,
            list(
                self.app._bindings.key_to_bindings
                and [b for bs in self.app._bindings.key_to_bindings.values() for b in bs]
            ),
        ):
            table.add_row(key, desc)
        table.add_row("^p", "command palette (every action by name)")
        table.add_row("↑ ↓ pgup pgdn home end", "move in a list; enter opens the row")
        table.add_row("mouse", "click a row to select it, double-click to open; wheel scrolls")
        with VerticalScroll(id="help-box"):
            yield Static(table)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
