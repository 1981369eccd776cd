"""Write language feedback on a candidate (what is wrong with it): a refine run gives it to the
teacher with the program. Dismisses with the text (ctrl+s / Save) or None (Esc / Cancel)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea


class FeedbackEditor(ModalScreen[str | None]):
    DEFAULT_CSS = """
    FeedbackEditor { align: center middle; }
    #feedback-box {
        width: 90; height: 20; border: thick $accent; background: $surface; padding: 0 1;
    }
    #feedback-text { height: 1fr; }
    #feedback-buttons { height: 3; align-horizontal: right; }
    #feedback-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, candidate_id: int) -> None:
        super().__init__()
        self.candidate_id = candidate_id

    def compose(self) -> ComposeResult:
        with Vertical(id="feedback-box"):
            yield Label(
                f"Feedback on candidate #{self.candidate_id}: what is wrong, how to fix it"
                " (ctrl+s saves)",
                id="feedback-title",
            )
            yield TextArea("", id="feedback-text")
            with Horizontal(id="feedback-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="feedback-save")
                yield Button("Cancel (esc)", id="feedback-cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "feedback-save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("Feedback is empty: write what is wrong", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
