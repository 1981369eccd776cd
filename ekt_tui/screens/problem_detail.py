"""Problem detail / candidate inspector: the problem, its candidates with verdicts, the selected
candidate's code and verdict; edit (verified at once), diff against the parent, gold on/off;
ILF: the candidate's feedback and refinement tree, `f` writes feedback, `r` refines it now."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Header, Label, TextArea

from core import (
    RefineOptions,
    add_feedback,
    get_candidate,
    get_problem,
    list_feedback,
    refinement_fixed_share,
    refinement_tree,
)
from core.queries import latest_judgements
from ekt_tui.actions import toggle_gold
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.candidate_editor import CandidateEditor
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.screens.feedback_editor import FeedbackEditor
from ekt_tui.widgets.candidate_list import CandidateList
from ekt_tui.widgets.diff_view import DiffView
from ekt_tui.widgets.key_bar import KeyBar
from ekt_tui.widgets.problem_info import ProblemInfo
from ekt_tui.widgets.refine_tree import RefineTree
from ekt_tui.widgets.verdict_view import VerdictView


class ProblemDetailScreen(LiveScreen):
    HELP_TITLE = "Problem detail / candidate inspector"
    AUTO_FOCUS = "CandidateList"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("g", "gold", "Gold on/off"),
        Binding("d", "diff", "Diff vs parent"),
        Binding("f", "feedback", "Feedback"),
        Binding("r", "refine", "Refine"),
    ]
    COMMANDS_LIST = [
        ("Candidate: edit in the code editor (or write one)", "e", "edit"),
        ("Candidate: mark or unmark as gold", "g", "gold"),
        ("Candidate: diff against its parent", "d", "diff"),
        ("Candidate: write feedback on what is wrong", "f", "feedback"),
        ("Candidate: refine it now with the teacher (ILF)", "r", "refine"),
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
                    yield RefineTree(id="refine-tree")
                    yield DiffView(id="diff")
        yield KeyBar()

    def _subtitle(self) -> str:
        suffix = f" · samples of evaluation #{self.eval_id}" if self.eval_id is not None else ""
        return self.problem_id + suffix

    def on_mount(self) -> None:
        self.sub_title = self._subtitle()
        self.query_one(CandidateList).focus()
        self.query_one(DiffView).display = False
        self.query_one(RefineTree).display = False

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
        self.query_one(RefineTree).show([], [])
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
            self.query_one(RefineTree).show([], [])
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
        reader = self.ekt.reader
        tree = await refinement_tree(reader, fresh["id"])
        feedback = await list_feedback(reader, fresh["id"])
        fixed = await refinement_fixed_share(reader) if len(tree) > 1 else (0, 0)
        self.query_one(RefineTree).show(feedback, tree, fixed)
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

    def action_feedback(self) -> None:
        """Write human feedback on the selected candidate (what a refine run tells the teacher)."""
        c = self.candidate
        if c is None:
            self.notify("No candidate selected", severity="warning")
            return

        def saved(text: str | None) -> None:
            if text:
                self._save_feedback(c["id"], text)

        self.app.push_screen(FeedbackEditor(c["id"]), saved)

    @work(group="detail-feedback", exit_on_error=False)
    async def _save_feedback(self, candidate_id: int, text: str) -> None:
        row = await add_feedback(self.ekt.project, candidate_id, text, "human")
        self.notify(f"Feedback #{row.id} saved on candidate #{candidate_id} (r refines it)")
        await self.refresh_data()

    async def action_refine(self) -> None:
        """Refine the selected failing candidate now with the configured teacher: its human
        feedback if it has some, else execution feedback; refinements stream in under it."""
        c = self.candidate
        if c is None:
            self.notify("No candidate selected", severity="warning")
            return
        if c.get("v_status") == "pass" or c.get("gold"):
            self.notify(f"Candidate #{c['id']} already passes: nothing to refine")
            return
        if c.get("v_status") is None:
            self.notify(f"Candidate #{c['id']} is not verified yet", severity="warning")
            return
        human = await list_feedback(self.ekt.reader, c["id"], "human")
        kind = "human" if human else "execution"
        worker = self.ekt.sampler.start_refine(RefineOptions(feedback=kind, candidates=[c["id"]]))
        if worker is not None:
            self.notify(f"Refining candidate #{c['id']} with {kind} feedback")
