"""The discriminator: a teacher judges gold programs against criteria (seed 003's generator/
discriminator loop), so gold that passes for the wrong reason can be kept out of SFT.

The judge prompt is a versioned prompt (`judge`, seeded from assets/prompts/judge.txt) with
`{{question}}` and `{{program}}`. The reply is one JSON object `{"score": 1-10, "reason": …}`,
plain or in a fenced block; a reply that does not parse is stored as it came (parsed = 0,
score NULL), never guessed. Judgements are appended per candidate (writes live here); the
latest one counts (core.queries.judgements).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from core.config import TeacherSection, format_validation_error
from core.errors import ConfigError, PromptError
from core.project import Project
from core.prompts import PromptVersion, list_prompts, parse_template, render, resolve_prompt
from core.prompts.versions import default_template
from core.queries.judgements import JudgeTarget, judge_targets, judged_candidate_ids
from core.queries.runs import find_run_id
from core.store import Store
from core.teacher import TeacherFailure, TeacherRequest, make_teacher
from core.tokens import count_tokens

JUDGE_PROMPT = "judge"
REQUIRED = ("question", "program")
MAX_TOKENS = 256
CONCURRENCY = 4

_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)
_OBJECT = re.compile(r"\{[^{}]*\}", re.S)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A parsed reply (score 1-10 and reason), or parsed=False with score None."""

    score: int | None
    reason: str
    parsed: bool


UNPARSED = Verdict(None, "", False)


def parse_judgement(text: str) -> Verdict:
    """`{"score": 1-10, "reason": "…"}` in a ```json fence or as the first object in the text;
    anything else — no object, bad JSON, a score that is not an integer 1..10 — is unparsed."""
    for blob in [m.group(1) for m in _FENCE.finditer(text)] + _OBJECT.findall(text):
        try:
            obj = json.loads(blob)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or "score" not in obj:
            continue
        score = obj["score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or score != int(score):
            return UNPARSED
        if not 1 <= int(score) <= 10:
            return UNPARSED
        reason = obj.get("reason", "")
        return Verdict(int(score), reason if isinstance(reason, str) else str(reason), True)
    return UNPARSED


def check_judge_template(prompt: PromptVersion) -> None:
    """A judge prompt needs {{question}} and {{program}}: one line naming what is missing."""
    tpl = parse_template(prompt.template)
    missing = [p for p in REQUIRED if p not in tpl.placeholders]
    if missing:
        names = ", ".join("{{" + m + "}}" for m in missing)
        raise PromptError(f"judge prompt {prompt.label} lacks {names}")


@dataclass
class JudgeOptions:
    run: str | None = None
    problems: list[str] | None = None
    limit: int | None = None
    prompt: str | None = None  # a prompt spec (default: the latest `judge` version)
    teacher: dict[str, Any] = field(default_factory=dict)  # [teacher] overrides
    budget_usd: float | None = None
    again: bool = False  # also candidates this prompt version judged already


@dataclass
class JudgeReport:
    prompt: str
    teacher: str
    planned: int
    judged: int = 0
    unparsed: int = 0
    failed: int = 0
    skipped: int = 0  # already judged by this prompt version
    cost_usd: float = 0.0
    budget_exhausted: bool = False
    scores: dict[int, int] = field(default_factory=dict)  # score → count
    dry_run: bool = False
    prompt_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _teacher_section(project: Project, overrides: dict[str, Any]) -> TeacherSection:
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return TeacherSection.model_validate({**project.config.teacher.model_dump(), **given})
    except ValidationError as exc:
        raise ConfigError(format_validation_error("options", exc, "teacher")) from None


async def _plan(
    project: Project, options: JudgeOptions, write: bool
) -> tuple[PromptVersion, list[JudgeTarget], int]:
    store = project.store
    if options.limit is not None and options.limit < 1:
        raise ConfigError(f"--limit {options.limit}: expected N >= 1")
    run_id = None
    if options.run:
        run_id = await find_run_id(store, options.run)
        if run_id is None:
            raise ConfigError(f"no sampling run {options.run!r}")
    if not options.prompt and not write and not await list_prompts(store, JUDGE_PROMPT):
        # a dry run must not seed the built-in judge prompt: show what it would be
        template = default_template(JUDGE_PROMPT)
        prompt = PromptVersion(0, JUDGE_PROMPT, 1, template, "", None, time.time())
    else:
        prompt = await resolve_prompt(store, options.prompt, JUDGE_PROMPT)
    check_judge_template(prompt)
    targets = await judge_targets(store, run_id=run_id, problem_ids=options.problems)
    skipped = 0
    if not options.again:
        done = await judged_candidate_ids(store, prompt.id)
        skipped = sum(t.candidate_id in done for t in targets)
        targets = [t for t in targets if t.candidate_id not in done]
    if options.limit is not None:
        targets = targets[: options.limit]
    return prompt, targets, skipped


async def record_judgement(
    store: Store, candidate_id: int, prompt_id: int | None, teacher: str, raw: str
) -> Verdict:
    """Parse and append one judgement (unparsable replies too: raw kept, score NULL)."""
    v = parse_judgement(raw)
    await store.execute(
        "INSERT INTO judgements(candidate_id, prompt_id, teacher, score, reason, raw, parsed,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [candidate_id, prompt_id, teacher, v.score, v.reason, raw, int(v.parsed), time.time()],
    )
    return v


async def judge(
    project: Project,
    options: JudgeOptions,
    *,
    dry_run: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> JudgeReport:
    """Ask the teacher about each selected gold candidate, stopping at the budget (retries are
    the teacher backend's). A dry run renders and counts only: nothing is sent or judged."""
    section = _teacher_section(project, options.teacher)
    prompt, targets, skipped = await _plan(project, options, write=not dry_run)
    rendered = [render(prompt.template, {**t.problem, "program": t.code}).text for t in targets]
    local = section.model if section.backend == "local" else None
    report = JudgeReport(prompt.label, f"{section.backend}:{section.model}", len(targets))
    report.skipped, report.dry_run = skipped, dry_run
    report.prompt_tokens = sum(count_tokens(text, local).n for text in rendered)
    if dry_run or not targets:
        return report
    teacher = make_teacher(section)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(target: JudgeTarget, text: str) -> None:
        async with gate:
            if options.budget_usd is not None and report.cost_usd >= options.budget_usd:
                report.budget_exhausted = True
                return
            try:
                result = await teacher.complete(TeacherRequest(text, 1, [], MAX_TOKENS, 0.0, 1.0))
            except TeacherFailure:
                report.failed += 1
                return
            report.cost_usd += (
                result.prompt_tokens * section.price_prompt
                + result.completion_tokens * section.price_completion
            ) / 1e6
            raw = result.choices[0].text if result.choices else ""
            v = await record_judgement(
                project.store, target.candidate_id, prompt.id, teacher.description, raw
            )
            report.judged += 1
            if v.score is None:
                report.unparsed += 1
            else:
                report.scores[v.score] = report.scores.get(v.score, 0) + 1
            if on_progress is not None:
                on_progress(report.judged + report.failed, len(targets))

    try:
        await asyncio.gather(*(one(t, text) for t, text in zip(targets, rendered, strict=True)))
    finally:
        await teacher.aclose()
    return report


__all__ = [
    "JUDGE_PROMPT", "UNPARSED", "JudgeOptions", "JudgeReport", "Verdict",
    "check_judge_template", "judge", "parse_judgement", "record_judgement",
]  # fmt: skip
