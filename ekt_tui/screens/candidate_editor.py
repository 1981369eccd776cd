"""Edit a candidate in a Python code editor; save = a new `edit` candidate linked to its parent,
verified in the sandbox at once, its verdict shown here. With no candidate to start from the
editor opens empty: a solution written from scratch, stored and verified the same way."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Label, TextArea

from core import get_candidate
from core.edits import save_new
from ekt_tui.actions import save_edit
from ekt_tui.screens.base import LiveScreen
from ekt_tui.widgets.diff_view import DiffView
from ekt_tui.widgets.key_bar import KeyBar
from ekt_tui.widgets.problem_info import ProblemInfo
from ekt_tui.widgets.verdict_view import VerdictView


class CandidateEditor(LiveScreen):
    HELP_TITLE = "Candidate editor"
    AUTO_FOCUS = "#editor-code"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save & verify"),
        Binding("ctrl+d", "diff", "Diff vs parent", priority=True),
        Binding("escape", "back", "Back", priority=True),
    ]
    COMMANDS_LIST = [
        ("Editor: save as an edit and verify", "ctrl+s", "save"),
        ("Editor: diff against the parent", "ctrl+d", "diff"),
    ]

    def __init__(self, candidate: dict[str, Any] | None, problem: dict[str, Any]) -> None:
        super().__init__()
        self.parent_candidate = candidate
        self.problem = problem
        self.saved_id: int | None = None

    def compose(self) -> ComposeResult:
        parent = self.parent_candidate
        yield Header()
        with Vertical(id="editor"):
            if parent is None:
                title = (
                    f"a new solution for {self.problem['id']} (it has no candidate yet)"
                    " — ctrl+s saves it and verifies it"
                )
            else:
                title = (
                    f"editing candidate #{parent['id']} of {self.problem['id']}"
                    " — ctrl+s saves a new edit and verifies it"
                )
            yield Label(title, id="editor-title")
            with Horizontal(id="editor-main"):
                yield TextArea.code_editor(
                    parent["code"] if parent else "", language="python", id="editor-code"
                )
                with VerticalScroll(id="editor-problem"):
                    yield ProblemInfo(id="editor-problem-info")
            with VerticalScroll(id="editor-result"):
                yield VerdictView("Not saved yet.", id="editor-verdict")
                yield DiffView(id="editor-diff")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#editor-code", TextArea).focus()
        self.query_one(ProblemInfo).show(self.problem)
        self.query_one(DiffView).display = False

    @property
    def code(self) -> str:
        return self.query_one("#editor-code", TextArea).text

    @work(group="editor-save", exclusive=True, exit_on_error=False)
    async def action_save(self) -> None:
        view = self.query_one(VerdictView)
        view.update("Saving and verifying in the sandbox…")
        if self.parent_candidate is None:
            new_id, _ = await save_new(self.ekt.project, self.problem["id"], self.code)
        else:
            new_id, _ = await save_edit(self.ekt.project, self.parent_candidate["id"], self.code)
        self.saved_id = new_id
        stored = await get_candidate(self.ekt.reader, new_id)
        view.show(stored)
        status = stored["v_status"] if stored else "?"
        self.notify(f"Saved edit #{new_id}: {status}")

    def action_diff(self) -> None:
        view = self.query_one(DiffView)
        if self.parent_candidate is None:
            self.notify("A new solution has no parent to diff against", severity="warning")
            return
        view.display = not view.display
        if view.display:
            view.show(
                self.parent_candidate["code"], self.code,
                f"#{self.parent_candidate['id']}", "edited",
            )  # fmt: skip

    def action_back(self) -> None:
        self.app.pop_screen()
