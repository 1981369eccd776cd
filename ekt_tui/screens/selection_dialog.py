"""Ask for a diversity selection (ekt select): K, by question or code, the embedder."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select


class SelectionDialog(ModalScreen[dict[str, Any] | None]):
    """Dismisses with {"k", "by", "embedder"} or None; a K that is not a positive integer keeps
    the dialog open with a one-line error (core checks K against the pool)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SelectionDialog { align: center middle; }
    #selection-box { width: 64; height: auto; border: round $accent; padding: 1 2;
                     background: $surface; }
    #selection-box Input, #selection-box Select { margin-bottom: 1; }
    #selection-error { color: $error; height: auto; }
    """

    def __init__(self, k: int = 100, embedder: str = "smollm2") -> None:
        super().__init__()
        self.k, self.embedder = k, embedder

    def compose(self) -> ComposeResult:
        with Vertical(id="selection-box"):
            yield Label("[b]Diverse selection[/b] (k-center greedy over embeddings)")
            yield Label("K: how many problems")
            yield Input(str(self.k), id="selection-k")
            yield Label("by")
            yield Select(
                [("question text", "question"), ("gold programs", "code")],
                value="question", allow_blank=False, id="selection-by",
            )  # fmt: skip
            yield Label("embedder (hub id, folder or smollm2)")
            yield Input(self.embedder, id="selection-embedder")
            yield Label("", id="selection-error")
            with Horizontal():
                yield Button("Select", variant="primary", id="selection-ok")
                yield Button("Cancel", id="selection-cancel")

    def _submit(self) -> None:
        raw = self.query_one("#selection-k", Input).value.strip()
        if not raw.isdigit() or int(raw) < 1:
            self.query_one("#selection-error", Label).update(
                f"K must be a positive integer, not {raw!r}"
            )
            return
        self.dismiss({
            "k": int(raw), "by": str(self.query_one("#selection-by", Select).value),
            "embedder": self.query_one("#selection-embedder", Input).value.strip() or None,
        })  # fmt: skip

    @on(Input.Submitted)
    def _entered(self) -> None:
        self._submit()

    @on(Button.Pressed, "#selection-ok")
    def _ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#selection-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
