"""Feedback of each kind, and the rule: an answer-kind problem's expected answer never enters
feedback (a refinement told the answer would hard-code it)."""

from __future__ import annotations

import re

import pytest

from core.errors import ConfigError
from core.project import Project
from core.queries.feedback import list_feedback
from core.refine import RefineOptions, add_feedback, execution_feedback, hide_answer, refine
from core.refine.feedback import HIDDEN
from tests.core.refine.conftest import CRITIQUE, sent, teacher
from tests.fake_openai import FakeOpenAIServer, refine_parts

MATH = {"id": "m1", "kind": "answer", "question": "How many?", "answer": "18"}


def test_execution_feedback_of_an_answer_problem_says_what_it_returned_not_the_answer() -> None:
    verdict = {"status": "fail", "returned": "0", "detail": "returned 0, expected 18"}
    text = execution_feedback(verdict, MATH)
    assert "returned 0" in text and "18" not in text and "expected" not in text
    # an exception whose message happens to carry the answer: hidden, every spelling of it
    crash = {"status": "error", "error_type": "ValueError", "error_message": "18 != 18.0 (1,8)",
             "trace": "line 3", "detail": "ValueError: 18 != 18.0 (line 3)"}  # fmt: skip
    text = execution_feedback(crash, MATH)
    assert "ValueError" in text and "line 3" in text
    assert not re.search(r"(?<!\d)18(?!\d)", text) and text.count(HIDDEN) == 2
    assert hide_answer("returned 1,800 or 180 or 18", {**MATH, "answer": "1800"}).count(HIDDEN) == 1


def test_execution_feedback_of_asserts_names_the_failing_assert_and_the_exception() -> None:
    problem = {"id": "p", "kind": "asserts", "tests": "[]"}
    fail = {"status": "fail", "passed": 1, "total": 3,
            "detail": "1/3 asserts passed; first failing: assert f(2) == 4"}  # fmt: skip
    assert execution_feedback(fail, problem) == (
        "1 of 3 tests pass. This test fails: assert f(2) == 4"
    )
    err = {"status": "error", "error_type": "NameError", "error_message": "name 'g' is not defined",
           "trace": "line 2", "detail": "NameError: … in assert f(1) == 1"}  # fmt: skip
    text = execution_feedback(err, problem)
    assert text.startswith("The program raises an exception: NameError: name 'g'")
    assert "line 2" in text and text.endswith("in assert f(1) == 1")
    assert execution_feedback({"status": "timeout"}, problem).startswith("The program does not")
    assert execution_feedback({"status": "pass"}, problem) == ""


async def test_human_feedback_is_stored_listed_and_validated(failing: Project) -> None:
    cid = await failing.store.scalar("SELECT min(id) FROM candidates")
    row = await add_feedback(failing, cid, "  use multiplication, not addition  ")
    assert (row.author, row.text, row.candidate_id) == (
        "human",
        "use multiplication, not addition",
        cid,
    )
    with pytest.raises(ConfigError, match="empty"):
        await add_feedback(failing, cid, "   ")
    with pytest.raises(ConfigError, match="no candidate 999999"):
        await add_feedback(failing, 999999, "x")
    assert [f.id for f in await list_feedback(failing.store, cid)] == [row.id]


async def test_execution_feedback_stored_by_a_refine_run_never_holds_the_answer(
    failing: Project, server: FakeOpenAIServer
) -> None:
    await refine(
        failing, RefineOptions(teacher=teacher(server), sampling={"n": 1, "verify": False})
    )
    rows = await failing.store.fetchall(
        "SELECT f.text, p.answer FROM feedback f JOIN candidates c ON c.id = f.candidate_id"
        " JOIN problems p ON p.id = c.problem_id"
    )
    assert len(rows) == 6
    for text, answer in rows:
        assert "returned 0" in text and not re.search(rf"(?<![\d.]){re.escape(answer)}(?!\d)", text)
    # nor does the refine prompt the teacher got (the problem's answer field is not rendered)
    answer_of = dict(await failing.store.fetchall("SELECT question, answer FROM problems"))
    for body in sent(server):
        parts = refine_parts(body["prompt"])
        answer = answer_of[parts["question"]]
        after_question = body["prompt"].rsplit("\nProgram:\n", 1)[-1]
        assert parts["feedback"].startswith("The program runs") and "expected" not in after_question
        assert not re.search(rf"(?<![\d.]){re.escape(answer)}(?!\d)", after_question)


async def test_teacher_feedback_comes_from_the_critique_prompt_once(
    failing: Project, server: FakeOpenAIServer
) -> None:
    options = RefineOptions(feedback="teacher", teacher=teacher(server), limit=2,
                            sampling={"n": 1, "verify": False})  # fmt: skip
    await refine(failing, options)
    teacher_rows = await list_feedback(failing.store, author="teacher")
    assert [f.text for f in teacher_rows] == [CRITIQUE, CRITIQUE]
    assert all(f.prompt_id for f in teacher_rows)
    prompts = [b["prompt"] for b in sent(server)]
    critiques = [p for p in prompts if p.rstrip().endswith("Explanation of the bug:")]
    assert len(critiques) == 2
    assert all("Result: The program runs, but solution() returned 0" in p for p in critiques)
    refines = [refine_parts(p) for p in prompts if p not in critiques]
    assert [r["feedback"] for r in refines] == [CRITIQUE, CRITIQUE]
    server.clear()
    await refine(failing, options)  # the critiques are stored: neither they nor refines resent
    assert sent(server) == []


async def test_a_critique_that_leaks_the_answer_is_stored_without_it(
    failing: Project, server: FakeOpenAIServer
) -> None:
    server.critique = "It should return 39, not 0.\n[END]"  # 18 + 36 - 15 for 'Lena picks 18'
    await refine(failing, RefineOptions(feedback="teacher", teacher=teacher(server), limit=1,
                                        sampling={"n": 1, "verify": False}))  # fmt: skip
    (row,) = await list_feedback(failing.store, author="teacher")
    answer = await failing.store.scalar(
        "SELECT p.answer FROM problems p JOIN candidates c ON c.problem_id = p.id WHERE c.id = ?",
        (row.candidate_id,),
    )
    assert answer == "39"
    assert row.text == f"It should return {HIDDEN}, not 0."
