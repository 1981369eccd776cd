"""Problem detail / candidate inspector: the problem, its candidates with verdicts, the selected
candidate's code and verdict; edit (verified at once), diff against the parent, gold on/off."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Label, TextArea

from core import get_candidate, get_problem
from core.queries import latest_judgements
from ekt_tui.actions import toggle_gold
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.candidate_editor import CandidateEditor
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.widgets.candidate_list import CandidateList
from ekt_tui.widgets.diff_view import DiffView
from ekt_tui.widgets.key_bar import KeyBar
from ekt_tui.widgets.problem_info import ProblemInfo
from ekt_tui.widgets.verdict_view import VerdictView


class ProblemDetailScreen(LiveScreen):
    HELP_TITLE = "Problem detail / candidate inspector"
    AUTO_FOCUS = "CandidateList"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("g", "gold", "Gold on/off"),
        Binding("d", "diff", "Diff vs parent"),
    ]
    COMMANDS_LIST = [
        ("Candidate: edit in the code editor (or write one)", "e", "edit"),
        ("Candidate: mark or unmark as gold", "g", "gold"),
        ("Candidate: diff against its parent", "d", "diff"),
        ("Back to the problem list", "escape", "back"),
    ]

    def __init__(self, problem_id: str, eval_id: int | None = None) -> None:
        super().__init__()
        self.problem_id = problem_id
        self.eval_id = eval_id  # set: the inspector shows only that evaluation's samples
        self.problem: dict[str, Any] | None = None
        self.candidate: dict[str, Any] | None = None
        self.show_diff = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="detail"):
            with Vertical(id="detail-left"):
                with VerticalScroll(id="problem-info-box"):
                    yield ProblemInfo(id="problem-info")
                yield Label("candidates", id="cand-title")
                yield CandidateList(
                    self.ekt.reader, self.problem_id, eval_id=self.eval_id, id="candidates"
                )
            with Vertical(id="detail-right"):
                yield Label("code", id="code-title")
                yield TextArea(
                    "", language="python", read_only=True, show_line_numbers=True, id="code"
                )
                with VerticalScroll(id="verdict-box"):
                    yield VerdictView(id="verdict")
                    yield DiffView(id="diff")
        yield KeyBar()

    def _subtitle(self) -> str:
        suffix = f" · samples of evaluation #{self.eval_id}" if self.eval_id is not None else ""
        return self.problem_id + suffix

    def on_mount(self) -> None:
        self.sub_title = self._subtitle()
        self.query_one(CandidateList).focus()
        self.query_one(DiffView).display = False

    def set_problem(self, problem_id: str, eval_id: int | None = None) -> None:
        """Show another problem in this (reused) screen: composing a new one costs ~0.1 s."""
        self.problem_id = problem_id
        self.eval_id = eval_id
        self.problem = self.candidate = None
        self.sub_title = self._subtitle()
        clist = self.query_one(CandidateList)
        clist.problem_id = problem_id
        clist.eval_id = eval_id
        clist.clear()
        self.query_one(ProblemInfo).update("")
        self.query_one("#code", TextArea).load_text("")
        self.query_one(VerdictView).show(None)
        self.show_diff = False
        self.query_one(DiffView).display = False
        clist.focus()

    async def refresh_data(self) -> None:
        reader = self.ekt.reader
        if self.problem is None:
            self.problem = await get_problem(reader, self.problem_id)
            if self.problem is None:
                self.notify(f"problem {self.problem_id}: no such problem", severity="error")
                return
            self.query_one(ProblemInfo).show(self.problem)
        clist = self.query_one(CandidateList)
        await clist.reload()
        self.query_one("#cand-title", Label).update(
            f"candidates ({clist.total})  ✔ pass ✘ fail ! error ◌ pending ✦ gold"
        )
        await self._show_current()

    @on(CandidateList.CandidateHighlighted)
    def _highlighted(self, event: CandidateList.CandidateHighlighted) -> None:
        if self.candidate is None or self.candidate["id"] != event.candidate_id:
            self._load_current()

    @work(group="detail-candidate", exclusive=True, exit_on_error=False)
    async def _load_current(self) -> None:
        await self._show_current()

    async def _show_current(self) -> None:
        row = self.query_one(CandidateList).current
        code = self.query_one("#code", TextArea)
        if row is None:
            self.candidate = None
            code.load_text("")
            view = self.query_one(VerdictView)
            view.show(None)
            if self.problem is not None and not self.query_one(CandidateList).total:
                view.update(
                    "No candidate yet: e writes a solution from scratch (verified on save)."
                )
            return
        fresh = await get_candidate(self.ekt.reader, row.id)
        if fresh is not None:  # the judge's latest word on it (ekt judge), shown under the verdict
            fresh["judge"] = (await latest_judgements(self.ekt.reader, [row.id])).get(row.id)
        changed = self.candidate is None or fresh is None or self.candidate["id"] != fresh["id"]
        self.candidate = fresh
        if fresh is None:
            return
        if changed:
            code.load_text(fresh["code"])
            self.query_one("#code-title", Label).update(
                f"code — candidate #{fresh['id']} ({fresh['source']})"
            )
        self.query_one(VerdictView).show(fresh)
        if self.show_diff:
            await self._render_diff()

    async def _render_diff(self) -> None:
        view = self.query_one(DiffView)
        c = self.candidate
        if c is None or c.get("parent_id") is None:
            view.update("This candidate has no parent (not an edit).")
            return
        parent = await get_candidate(self.ekt.reader, c["parent_id"])
        if parent is None:
            view.update(f"Parent #{c['parent_id']} is missing.")
            return
        view.show(parent["code"], c["code"], f"#{parent['id']}", f"#{c['id']}")

    def action_back(self) -> None:
        self.app.pop_screen()

    async def action_diff(self) -> None:
        self.show_diff = not self.show_diff
        self.query_one(DiffView).display = self.show_diff
        if self.show_diff:
            await self._render_diff()

    def action_edit(self) -> None:
        """Edit the selected candidate; with none (the problem has no candidate yet) write a
        solution from scratch."""
        if self.problem is None:
            self.notify("The problem is still loading", severity="warning")
            return
        if self.candidate is None and self.query_one(CandidateList).total:
            self.notify("No candidate selected", severity="warning")
            return
        self.app.push_screen(CandidateEditor(self.candidate, self.problem))

    def action_gold(self) -> None:
        """Toggle gold; forcing a candidate that did not pass into gold asks first (it would
        train the student on a program the verifier rejected)."""
        c = self.candidate
        if c is None:
            self.notify("No candidate selected", severity="warning")
            return
        if c.get("gold") or c.get("v_status") == "pass":
            self._toggle_gold(c)
            return
        status = c.get("v_status") or "not verified yet"
        detail = f" ({c['v_detail']})" if c.get("v_detail") else ""
        question = (
            f"Candidate #{c['id']} did not pass: {status}{detail}.\n"
            "Override its verdict and make it gold? The student will train on it."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._toggle_gold(c)

        self.app.push_screen(ConfirmScreen(question, yes="Make gold", no="Cancel"), answered)

    @work(group="detail-gold", exit_on_error=False)
    async def _toggle_gold(self, candidate: dict[str, Any]) -> None:
        now_gold = await toggle_gold(self.ekt.project, candidate)
        forced = now_gold and candidate.get("v_status") != "pass"
        state = "is gold (by override)" if forced else "is" if now_gold else "is no longer"
        self.notify(f"Candidate #{candidate['id']} {state}" + ("" if forced else " gold"))
        await self.refresh_data()
