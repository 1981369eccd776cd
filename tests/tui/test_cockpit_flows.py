"""Pilot tests of the cockpit's safety nets: an unsaved prompt edit is marked and leaving asks,
forcing a failing candidate into gold asks and looks different from a pass, and a problem with
no candidate gets an empty editor whose save is verified."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea

from core.store import connect_sync
from ekt_tui.screens.candidate_editor import CandidateEditor
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.screens.dashboard import DashboardScreen
from ekt_tui.screens.problem_detail import ProblemDetailScreen
from ekt_tui.screens.prompt_editor import PromptEditorScreen
from ekt_tui.widgets.candidate_list import CandidateList, gold_mark
from ekt_tui.widgets.verdict_view import VerdictView
from tests.tui.helpers import make_app, refreshed, settle
from tests.tui.seed import make_project
from tests.tui.test_app_flows import _text


async def _prompt_editor(pilot: Pilot[None]) -> PromptEditorScreen:
    await pilot.press("3")
    await refreshed(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PromptEditorScreen)
    return screen


async def test_unsaved_prompt_edit_is_marked_and_leaving_asks(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _prompt_editor(pilot)
        title = screen.query_one("#prompt-title")
        assert "●" not in _text(title) and not screen.dirty
        template = screen.query_one("#template", TextArea)
        template.load_text(template.text.replace("Answer with", "Return it from"))
        await settle(pilot)
        assert screen.dirty and "● template gsm8k@v1 (edited, not saved" in _text(title)
        screen.query_one("#versions", DataTable).focus()
        await pilot.press("1")  # another screen: asks, "n" keeps editing
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "not saved" in _text(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and "Return it from" in template.text
        await pilot.press("q")  # quit: asks too
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and app.screen is screen
        await pilot.press("ctrl+s")  # save: the mark goes, and leaving no longer asks
        await settle(pilot)
        await pilot.press(*"clearer", "enter")
        await settle(pilot, rounds=5)
        assert not screen.dirty and "●" not in _text(title) and "gsm8k@v2" in _text(title)
        screen.query_one("#versions", DataTable).focus()
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_leaving_with_an_unsaved_edit_after_yes(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _prompt_editor(pilot)
        screen.query_one("#template", TextArea).load_text("# {{question}}\ndef solution():")
        await settle(pilot)
        screen.query_one("#versions", DataTable).focus()
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.current_mode == "problems"


async def _open_detail(pilot: Pilot[None], problem_id: str) -> ProblemDetailScreen:
    await refreshed(pilot)
    pilot.app.open_problem(problem_id)  # type: ignore[attr-defined]
    await refreshed(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ProblemDetailScreen)
    return screen


async def test_forcing_a_failing_candidate_into_gold_asks(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        detail = await _open_detail(pilot, "demo/mul")  # candidates #4, #5: both fail
        clist = detail.query_one(CandidateList)
        assert clist.current is not None and clist.current.status == "fail"
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = _text(app.screen.query_one("#confirm-question"))
        assert "did not pass: fail (returned 11, expected 30)" in question
        await pilot.press("n")
        await refreshed(pilot)
        assert not clist.current.gold
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await refreshed(pilot)
        row = clist.current
        assert row is not None and row.gold and row.gold_override == 1
        assert gold_mark(row.gold, row.gold_override, row.status) == ("◆", "magenta")
        assert "◆ gold by override" in _text(detail.query_one(VerdictView))
        assert any("by override" in n.message for n in app._notifications)
        await pilot.press("g")  # unmarking never asks
        await settle(pilot)
        await refreshed(pilot)
        assert not isinstance(app.screen, ConfirmScreen) and not clist.current.gold
    conn = connect_sync(root / "ekt.db", readonly=True)
    (override,) = conn.execute("SELECT gold_override FROM candidates WHERE id = 4").fetchone()
    conn.close()
    assert override is None


def test_gold_marks() -> None:
    assert gold_mark(True, None, "pass") == ("✦", "yellow")
    assert gold_mark(True, 1, "pass") == ("✦", "yellow")
    assert gold_mark(True, 1, "fail") == ("◆", "magenta")
    assert gold_mark(False, 0, "pass") == (" ", "")


async def test_e_without_candidates_writes_one_from_scratch(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        detail = await _open_detail(pilot, "demo/none")
        assert detail.query_one(CandidateList).total == 0
        assert "e writes a solution" in _text(detail.query_one(VerdictView))
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, CandidateEditor) and editor.code == ""
        assert "a new solution for demo/none" in _text(editor.query_one("#editor-title"))
        editor.query_one("#editor-code", TextArea).load_text("def solution():\n    return 60 * 2\n")
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=6)
        assert editor.saved_id is not None
        assert "pass" in _text(editor.query_one("#editor-verdict"))
        await pilot.press("escape")
        await refreshed(pilot)
        assert detail.query_one(CandidateList).total == 1
    conn = connect_sync(root / "ekt.db", readonly=True)
    row = conn.execute(
        "SELECT c.problem_id, c.source, c.parent_id, v.status FROM candidates c JOIN verdicts v"
        " ON v.candidate_id = c.id WHERE c.id = ?",
        [editor.saved_id],
    ).fetchone()
    gold = conn.execute("SELECT gold FROM problem_stats WHERE problem_id = 'demo/none'").fetchone()
    conn.close()
    assert tuple(row) == ("demo/none", "edit", None, "pass") and gold[0] == 1


async def test_an_empty_new_solution_is_refused(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open_detail(pilot, "demo/none")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=4)
        editor = app.screen
        assert isinstance(editor, CandidateEditor) and editor.saved_id is None
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert any("demo/none: the program is empty" in m for m in errors)
