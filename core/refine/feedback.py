"""Language feedback on a candidate: written by a human, built from its verdict (execution), or
written by the teacher through a versioned `critique` prompt.

The rule that matters: the expected answer of an answer-kind problem (GSM8K) never enters
feedback. A refinement told "the answer is 18" would learn to `return 18` — a hard-coded
program that passes. Execution feedback is built from the verdict's structured fields (what the
program returned, the exception, the failing assert), never from its `detail` (which says
"expected …"), and every feedback text for such a problem goes through `hide_answer`, a
teacher's critique included.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from core.errors import ConfigError
from core.project import Project
from core.prompts import PromptVersion, parse_template, render
from core.prompts.completion import cut_at_stop
from core.queries.candidates import get_candidate
from core.queries.feedback import FeedbackRow, feedback_by_id, latest_feedback
from core.queries.problems import get_problem

AUTHORS = ("human", "execution", "teacher")
HIDDEN = "<hidden>"
MAX_FEEDBACK = 4000


def _answer_forms(answer: str) -> list[str]:
    """The ways an expected answer may be spelled in a message: as given, and as a number."""
    forms = {answer.strip()}
    text = answer.strip().replace(",", "").lstrip("$")
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        forms.add(text)
        if value == int(value):
            forms.update({str(int(value)), f"{int(value)}.0", f"{int(value):,}"})
        else:
            forms.add(repr(value))
    return sorted((f for f in forms if f), key=len, reverse=True)


def hide_answer(text: str, problem: dict[str, Any]) -> str:
    """`text` with every spelling of an answer-kind problem's expected answer replaced."""
    answer = problem.get("answer")
    if problem.get("kind") != "answer" or answer is None or not str(answer).strip():
        return text
    for form in _answer_forms(str(answer)):
        text = re.sub(rf"(?<![\w.]){re.escape(form)}(?![\w]|\.\d)", HIDDEN, text)
    return text


def _first_failing(detail: str) -> str:
    for marker in ("first failing: ", "check failed at "):
        if marker in detail:
            return detail.split(marker, 1)[1].strip()
    return ""


def execution_feedback(candidate: dict[str, Any], problem: dict[str, Any]) -> str:
    """What the verdict says went wrong, in words; "" for a candidate without a failing verdict.

    `candidate` has the verdict's columns (`status`, `returned`, `error_type`, … as from
    `refine_targets`, or `v_`-prefixed as from `get_candidate`)."""

    def v(key: str) -> Any:
        return candidate.get(key, candidate.get(f"v_{key}"))

    status, kind = v("status"), problem.get("kind")
    if status is None or status == "pass":
        return ""
    if status == "fail" and kind == "answer":
        returned = v("returned")
        text = f"The program runs, but solution() returned {returned}, which is not the answer."
        if returned in (None, "", "None"):
            text = "The program runs, but solution() returned None: it must return the answer."
    elif status == "fail" and kind == "asserts":
        failed = _first_failing(v("detail") or "")
        text = f"{v('passed')} of {v('total')} tests pass. This test fails: {failed}"
    elif status == "fail":
        failed = _first_failing(v("detail") or "")
        text = f"The check fails at: {failed}" if failed else "The check fails."
    elif status in ("error", "syntax"):
        etype, msg, trace = v("error_type"), v("error_message") or "", v("trace")
        what = "does not compile" if status == "syntax" else "raises an exception"
        text = f"The program {what}: {etype + ': ' if etype else ''}{msg}".rstrip(": ")
        if trace:
            text += f" ({trace})"
        failed = _first_failing(v("detail") or "") or (v("detail") or "").rpartition(" in ")[2]
        if failed and kind != "answer" and failed.startswith("assert"):
            text += f" in {failed}"
    elif status == "timeout":
        text = "The program does not finish within the time limit (an endless loop?)."
    elif status == "memory":
        text = "The program runs out of memory."
    elif status == "output-limit":
        text = "The program prints far too much output."
    else:
        text = f"The program fails to run ({status})."
    return hide_answer(text, problem)[:MAX_FEEDBACK]


async def add_feedback(
    project: Project, candidate_id: int, text: str, author: str = "human",
    prompt_id: int | None = None,
) -> FeedbackRow:  # fmt: skip
    """Store one feedback; refuses an unknown candidate, an empty text or an unknown author."""
    if author not in AUTHORS:
        raise ConfigError(f"feedback author {author!r}: expected {' | '.join(AUTHORS)}")
    text = text.strip()
    if not text:
        raise ConfigError("feedback is empty: write what is wrong with the program")
    candidate = await get_candidate(project.store, candidate_id)
    if candidate is None:
        raise ConfigError(f"no candidate {candidate_id}")
    if author != "human":
        problem = await get_problem(project.store, candidate["problem_id"])
        text = hide_answer(text, problem or {})
    now = time.time()
    async with project.store.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO feedback(candidate_id, author, text, prompt_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (candidate_id, author, text[:MAX_FEEDBACK], prompt_id, now),
        )
        new_id = cur.lastrowid if cur.rowcount else None
    if new_id is None:  # execution / teacher feedback already there: the stored one counts
        found = await latest_feedback(project.store, [candidate_id], author, prompt_id)
        return found[candidate_id]
    row = await feedback_by_id(project.store, int(new_id))
    assert row is not None
    return row


async def add_execution_feedback(project: Project, texts: dict[int, str]) -> dict[int, FeedbackRow]:
    """Execution feedback for many candidates in one transaction ({candidate id: text}, texts
    from `execution_feedback`); a candidate that has one keeps it. Returns the stored rows."""
    now = time.time()
    rows = [(cid, "execution", text[:MAX_FEEDBACK], None, now) for cid, text in texts.items()
            if text.strip()]  # fmt: skip
    async with project.store.transaction() as conn:
        await conn.executemany(
            "INSERT INTO feedback(candidate_id, author, text, prompt_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )
    return await latest_feedback(project.store, list(texts), "execution")


def check_critique_template(prompt: PromptVersion) -> None:
    names = parse_template(prompt.template).placeholders
    _require(prompt, names, ("program", "result"), "critique")


def _require(
    prompt: PromptVersion, names: tuple[str, ...], need: tuple[str, ...], what: str
) -> None:
    missing = [n for n in need if n not in names]
    if missing:
        marks = ", ".join("{{" + n + "}}" for n in missing)
        raise ConfigError(f"{what} prompt {prompt.label} has no {marks}: it cannot be used")
    if "answer" in names:
        raise ConfigError(
            f"{what} prompt {prompt.label} uses {{{{answer}}}}: the expected answer must never"
            " reach a refinement"
        )


def prompt_values(problem: dict[str, Any], **extra: str) -> dict[str, Any]:
    """A problem's fields for a refine / critique prompt: answer-kind problems get a sentence
    in place of tests (they have none, and the answer itself is never shown)."""
    values = dict(problem)
    values["answer"] = None
    if problem.get("kind") == "answer":
        values["tests"] = "solution() must return the answer to the question."
    elif problem.get("tests") is None:
        values["tests"] = ""
    return {**values, **extra}


async def critique(
    project: Project,
    targets: list[dict[str, Any]],
    problems: dict[str, dict[str, Any]],
    prompt: PromptVersion,
    teacher: Any,
    *,
    max_tokens: int,
    concurrency: int,
) -> dict[int, FeedbackRow]:
    """Teacher feedback for each target that has none from this critique prompt yet: the
    teacher explains the bug given the question, the program and its execution feedback."""
    from core.teacher import TeacherFailure, TeacherRequest

    check_critique_template(prompt)
    ids = [t["id"] for t in targets]
    have = await latest_feedback(project.store, ids, "teacher", prompt.id)
    tpl = parse_template(prompt.template)
    slots = asyncio.Semaphore(concurrency)

    async def one(t: dict[str, Any]) -> None:
        problem = problems[t["problem_id"]]
        result = execution_feedback(t, problem)
        rendered = render(tpl, prompt_values(problem, program=t["code"], result=result))
        stops = list(rendered.stop)
        req = TeacherRequest(rendered.text, 1, stops, max_tokens, 0.0, 1.0)
        async with slots:
            try:
                answer = await teacher.complete(req)
            except TeacherFailure:
                return  # no critique: that candidate has no teacher feedback (refine skips it)
        text = cut_at_stop(answer.choices[0].text, stops).strip() if answer.choices else ""
        if text:
            have[t["id"]] = await add_feedback(project, t["id"], text, "teacher", prompt.id)

    await asyncio.gather(*(one(t) for t in targets if t["id"] not in have))
    return have
