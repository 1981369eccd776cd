"""Evaluation → its samples per problem → the shared inspector, limited to that evaluation."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from core import ImportOptions, Project, import_dataset, init_project
from core.candidates import NewCandidate, insert_candidates
from core.project import ASSETS
from core.verify.service import verify_pending
from ekt_tui.screens.eval_samples import EvalSamplesScreen
from ekt_tui.screens.evaluation import EvaluationScreen
from ekt_tui.screens.problem_detail import ProblemDetailScreen
from ekt_tui.widgets.candidate_list import CandidateList
from tests.tui.helpers import make_app, refreshed, settle

RIGHT = "def solution():\n    return {answer}\n"
WRONG = "def solution():\n    return -1\n"


async def _seed(root: Path) -> list[str]:
    init_project(root)
    project = await Project.open(root)
    try:
        src = ASSETS / "samples" / "math-test.jsonl"
        await import_dataset(project.store, src, ImportOptions(format="gsm8k", limit=2))
        problems = await project.store.fetchall("SELECT id, answer FROM problems ORDER BY seq")
        now = time.time()
        eval_id = await project.store.execute(
            "INSERT INTO evals(name, model, method, split, status, results, created_at,"
            " updated_at) VALUES ('student-eval', 'tiny', 'ekt-sft', 'test', 'done', '{}', ?, ?)",
            (now, now),
        )
        first, second = problems
        items = [
            NewCandidate(first["id"], "student", RIGHT.format(answer=first["answer"]),
                         eval_id=eval_id, sample_index=0),
            NewCandidate(first["id"], "student", WRONG, eval_id=eval_id, sample_index=1),
            NewCandidate(second["id"], "student", WRONG, eval_id=eval_id, sample_index=0),
            NewCandidate(first["id"], "teacher", WRONG),  # not the evaluation's: hidden
        ]  # fmt: skip
        await insert_candidates(project.store, items)
        await verify_pending(project, workers=1)
        return [first["id"], second["id"]]
    finally:
        await project.close()


async def test_drill_from_an_evaluation_into_its_samples(tmp_path: Path) -> None:
    root = tmp_path / "p"
    first, second = await _seed(root)
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, EvaluationScreen)
        await pilot.press("enter")
        await refreshed(pilot)
        screen = app.screen
        assert isinstance(screen, EvalSamplesScreen)
        assert [(r.problem_id, r.samples, r.passed) for r in screen.rows] == [
            (first, 2, 1),
            (second, 1, 0),
        ]
        await pilot.press("enter")
        await refreshed(pilot)
        detail = app.screen
        assert isinstance(detail, ProblemDetailScreen)
        assert detail.eval_id is not None and "evaluation" in detail.sub_title
        clist = detail.query_one(CandidateList)
        assert clist.total == 2  # the teacher candidate of the same problem is not shown
        assert detail.candidate is not None and detail.candidate["source"] == "student"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, EvalSamplesScreen)
        await pilot.press("escape", "2")
        await settle(pilot)
    await asyncio.sleep(0)
