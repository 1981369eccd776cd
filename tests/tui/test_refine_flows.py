"""ILF in the inspector against the real engine and the fake teacher: `f` writes feedback,
`r` refines the selected candidate and its refinements appear, verified, in its tree."""

from __future__ import annotations

from pathlib import Path

from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.feedback_editor import FeedbackEditor
from ekt_tui.screens.problem_detail import ProblemDetailScreen
from ekt_tui.widgets.refine_tree import RefineTree
from tests.fake_openai import FakeOpenAIServer, refine_parts
from tests.tui.helpers import refreshed, settle
from tests.tui.test_app_flows import _text
from tests.tui.test_sampling_flows import _project


def _fix(prompt: str, index: int) -> str:
    """The right program for the egg problem on choice 0, a wrong one otherwise."""
    parts = refine_parts(prompt)
    assert "multiply" in parts["feedback"]
    body = "return 6 * 5" if index == 0 else "return 6 - 5"
    return f"\ndef solution():\n    {body}\n[DONE]"


async def test_feedback_then_refine_streams_verified_refinements(tmp_path: Path) -> None:
    with FakeOpenAIServer(refine=_fix) as srv:
        root = _project(tmp_path / "p", srv.base_url)
        app = EktApp(root, poll=False)
        async with app.run_test(size=(140, 40)) as pilot:
            await refreshed(pilot)
            for key in ("2", "down", "enter"):  # demo/mul: candidate #4 fails (returned 11)
                await pilot.press(key)
                await settle(pilot)
            await refreshed(pilot)
            screen = app.screen
            assert isinstance(screen, ProblemDetailScreen) and screen.candidate["id"] == 4
            await pilot.press("f")
            await settle(pilot)
            assert isinstance(app.screen, FeedbackEditor)
            await pilot.press(*"multiply the eggs per box by the boxes")
            await pilot.press("ctrl+s")
            await settle(pilot)
            await refreshed(pilot)
            tree = screen.query_one(RefineTree)
            assert tree.display and "human: multiply the eggs per box" in _text(tree)
            await pilot.press("r")
            await settle(pilot)
            assert app.sampler.worker is not None
            summary = await app.sampler.worker.wait()
            await refreshed(pilot)
            assert summary.samples == 2 and summary.state == "done"
            text = _text(screen.query_one(RefineTree))
            assert "refinements" in text and "✔ #" in text and "✘ #" in text
            assert "1 of 1 refined candidates fixed" in text
            assert len(srv.completion_requests) == 1
    conn = connect_sync(root / "ekt.db", readonly=True)
    rows = conn.execute(
        "SELECT c.source, c.parent_id, f.author, v.status FROM candidates c"
        " JOIN feedback f ON f.id = c.feedback_id JOIN verdicts v ON v.candidate_id = c.id"
        " ORDER BY c.sample_index"
    ).fetchall()
    conn.close()
    assert [tuple(r) for r in rows] == [
        ("refine", 4, "human", "pass"),
        ("refine", 4, "human", "fail"),
    ]
