"""`refine()`: a refine run — failing candidates plus feedback in, refinements out.

The plan is built here and sent by the sampling engine (`core.sampling.engine.execute`), so a
refine run has what a sampling run has: budget, retries, events, verification as samples
arrive, group commit, kill -9 safety and `estimate` for a dry run.

Sample identity (run, parent candidate, feedback, index) maps onto the engine's
(run, problem, sample index) key: the feedback fixes the parent (and so the problem), and its
refinements take the sample indices [feedback_id × STRIDE, feedback_id × STRIDE + n). A rerun
therefore plans only the refinements still missing, and a request recorded as done is never sent
again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import SamplingSection, TeacherSection
from core.errors import ConfigError, TeacherError
from core.project import Project
from core.prompts import PromptVersion, list_prompts, parse_template, render, resolve_prompt
from core.prompts.versions import default_template
from core.queries.feedback import FeedbackRow, latest_feedback, refine_targets
from core.queries.problems import existing_problem_ids, problems_by_ids
from core.queries.runs import run_by_name, run_coverage
from core.refine.feedback import (
    _require,
    add_execution_feedback,
    check_critique_template,
    critique,
    execution_feedback,
    prompt_values,
)
from core.sampling.engine import estimate, execute
from core.sampling.options import (
    IDENTITY_SAMPLING,
    IDENTITY_TEACHER,
    DryRunPlan,
    RunControl,
    RunSummary,
    SampleOptions,
    effective_sections,
)
from core.sampling.plan import Plan, Work, _missing
from core.tokens import count_tokens

STRIDE = 1024  # > the largest n ([sampling] n ≤ 1024): one feedback's block of sample indices
FEEDBACK_KINDS = ("human", "execution", "teacher")


@dataclass
class RefineOptions:
    """What to refine and how; teacher / sampling are per-call overrides like SampleOptions'."""

    feedback: str = "execution"  # human | execution | teacher
    candidates: list[int] | None = None  # exactly these (the TUI's `r`)
    problems: list[str] | None = None
    unsolved_only: bool = False
    limit: int | None = None  # at most this many candidates
    refinements: bool = False  # also failing refinements (the next round of a chain)
    run: str | None = None
    prompt: str | None = None  # refine prompt spec (NAME, NAME@N, #ID); default: refine
    critique_prompt: str | None = None  # for --feedback teacher; default: critique
    teacher: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)


@dataclass
class RefinePlan:
    plan: Plan
    candidates: int  # failing candidates selected
    skipped: list[str]  # why some were left out (no feedback of the kind asked)
    critiques_needed: int = 0  # dry run of --feedback teacher: critiques not written yet


@dataclass
class RefineEstimate:
    estimate: DryRunPlan
    candidates: int
    skipped: list[str]
    critiques_needed: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.estimate.to_dict(), **{k: v for k, v in asdict(self).items()
                                                if k != "estimate"}}  # fmt: skip


async def _prompt(project: Project, spec: str | None, name: str, write: bool) -> PromptVersion:
    if not spec and not write and not await list_prompts(project.store, name):
        return PromptVersion(0, name, 1, default_template(name), "", None, time.time())
    return await resolve_prompt(project.store, spec, name)


def run_name(teacher: TeacherSection, sampling: SamplingSection, prompt: PromptVersion,
             feedback: str) -> str:  # fmt: skip
    """Derived from the refine run's identity, so the same command continues the same run."""
    ident = {
        **{k: getattr(teacher, k) for k in IDENTITY_TEACHER},
        **{k: getattr(sampling, k) for k in IDENTITY_SAMPLING},
        "prompt": prompt.label, "feedback": feedback,
    }  # fmt: skip
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:6]
    model = re.sub(r"[^A-Za-z0-9._-]+", "-", teacher.model.rstrip("/").rsplit("/", 1)[-1])
    return f"refine-{feedback}-{model}-{prompt.label}-{digest}"


async def _targets(project: Project, o: RefineOptions) -> list[dict[str, Any]]:
    store = project.store
    problems = None
    if o.problems is not None:
        problems = list(dict.fromkeys(p.strip() for p in o.problems if p.strip()))
        known = await existing_problem_ids(store, problems)
        missing = [p for p in problems if p not in known]
        if missing:
            raise ConfigError(f"no such problem: {', '.join(missing[:5])}")
    if o.candidates is not None:
        wanted = list(dict.fromkeys(o.candidates))
        rows = await refine_targets(store, candidate_ids=wanted)
        found = {r["id"]: r for r in rows}
        unknown = [str(c) for c in wanted if c not in found]
        if unknown:
            raise ConfigError(f"no candidate {', '.join(unknown)}")
        for c in wanted:
            r = found[c]
            if r["status"] == "pass" or r["gold"]:
                raise ConfigError(f"candidate {c} already passes: nothing to refine")
            if r["status"] is None:
                raise ConfigError(f"candidate {c} is not verified yet: run `ekt verify` first")
        return [found[c] for c in wanted]
    rows = await refine_targets(
        store,
        problem_ids=problems,
        unsolved_only=o.unsolved_only,
        limit=o.limit,
        refinements=o.refinements,
    )
    if not rows:
        raise ConfigError("no failing verified candidates to refine (sample and verify first)")
    return rows


async def build_refine_plan(
    project: Project, o: RefineOptions, *, write: bool = True, teacher: Any = None
) -> RefinePlan:
    """Everything a refine call needs; raises a one-line EktError before writing anything for
    bad input (teacher feedback, when asked for and missing, is written here: it is the input)."""
    if o.feedback not in FEEDBACK_KINDS:
        raise ConfigError(f"feedback {o.feedback!r}: expected {' | '.join(FEEDBACK_KINDS)}")
    if o.limit is not None and o.limit < 1:
        raise ConfigError(f"limit {o.limit}: expected a positive number of candidates")
    opts = SampleOptions(teacher=o.teacher, sampling=o.sampling)
    stored = await run_by_name(project.store, o.run) if o.run else None
    st_teacher = stored.teacher.get("config", {}) if stored else {}
    st_params = stored.params if stored else {}
    if stored and st_params.get("method") != "refine":
        raise ConfigError(f"run {o.run!r} is a sampling run, not a refine run: name a new --run")
    tsec, ssec = effective_sections(
        project.config, opts,
        stored_teacher={k: v for k, v in st_teacher.items() if k in IDENTITY_TEACHER},
        stored_sampling={k: st_params[k] for k in IDENTITY_SAMPLING if k in st_params},
    )  # fmt: skip
    targets = await _targets(project, o)  # before any write: bad input writes nothing
    stored_prompt = stored.prompts.get("refine") if stored else None
    spec = o.prompt or (f"#{stored_prompt.id}" if stored_prompt else None)
    prompt = await _prompt(project, spec, "refine", write)
    names = parse_template(prompt.template).placeholders
    _require(prompt, names, ("program", "feedback"), "refine")
    problems = await problems_by_ids(project.store, sorted({t["problem_id"] for t in targets}))
    ids = [t["id"] for t in targets]
    skipped: list[str] = []
    critiques_needed = 0
    feedback: dict[int, FeedbackRow] = {}
    if o.feedback == "human":
        feedback = await latest_feedback(project.store, ids, "human")
    elif o.feedback == "execution":
        feedback = await latest_feedback(project.store, ids, "execution")
        texts = {t["id"]: execution_feedback(t, problems[t["problem_id"]])
                 for t in targets if t["id"] not in feedback}  # fmt: skip
        texts = {cid: text for cid, text in texts.items() if text}
        if texts and write:
            feedback.update(await add_execution_feedback(project, texts))
        elif texts:
            now = time.time()
            feedback.update({cid: FeedbackRow(0, cid, "execution", text, None, now)
                             for cid, text in texts.items()})  # fmt: skip
    else:
        cprompt = await _prompt(project, o.critique_prompt, "critique", write)
        check_critique_template(cprompt)
        feedback = await latest_feedback(project.store, ids, "teacher", cprompt.id or None)
        todo = [t for t in targets if t["id"] not in feedback]
        if todo and write:
            if teacher is None:
                raise TeacherError("teacher feedback needs a teacher")
            feedback = await critique(
                project, targets, problems, cprompt, teacher,
                max_tokens=ssec.max_tokens, concurrency=ssec.concurrency,
            )  # fmt: skip
        else:
            critiques_needed = len(todo)
    for t in targets:
        if t["id"] not in feedback and not (o.feedback == "teacher" and not write):
            skipped.append(f"candidate {t['id']}: no {o.feedback} feedback")
    chosen = [t for t in targets if t["id"] in feedback]
    if not chosen and not critiques_needed:
        hint = {"human": " (add some with `ekt feedback add ID TEXT`)"}.get(o.feedback, "")
        raise ConfigError(f"no selected candidate has {o.feedback} feedback{hint}")
    name = o.run or run_name(tsec, ssec, prompt, o.feedback)
    if stored is None and not o.run:
        stored = await run_by_name(project.store, name)
        st_params = stored.params if stored else {}
        if stored and st_params.get("method") != "refine":
            raise ConfigError(f"run {name!r} is a sampling run, not a refine run")
    run_id = stored.id if stored else None
    cov = await run_coverage(project.store, run_id) if run_id is not None else None
    tpl = parse_template(prompt.template)
    work: list[Work] = []
    done, exact = 0, True
    for t in chosen:
        fb, pid = feedback[t["id"]], t["problem_id"]
        base = fb.id * STRIDE
        have = {i - base for i in (cov.samples.get(pid, set()) if cov else set())
                if base <= i < base + STRIDE}  # fmt: skip
        reqs = {first - base: r for first, r in (cov.requests.get(pid, {}) if cov else {}).items()
                if base <= first < base + STRIDE}  # fmt: skip
        done += len([i for i in have if i < ssec.n])
        ranges = _missing(ssec.n, have, reqs)
        if not ranges:
            continue
        values = prompt_values(problems[pid], program=t["code"], feedback=fb.text)
        rendered = render(tpl, values)
        count = count_tokens(rendered.text, tsec.model if tsec.backend == "local" else None)
        exact = exact and count.exact
        for first, k in ranges:
            existing = reqs.get(first)
            work.append(Work(
                pid, rendered, base + first, k, count.n, existing[0] if existing else None,
                "refine", t["id"], fb.id or None,
            ))  # fmt: skip
    params = {
        **{k: getattr(ssec, k) for k in IDENTITY_SAMPLING},
        "n": max(ssec.n, int(st_params.get("n", 0))),
        "method": "refine", "feedback": o.feedback,
    }  # fmt: skip
    plan = Plan(
        name, run_id, tsec, ssec, {"refine": prompt}, sorted({t["problem_id"] for t in chosen}),
        work, done, exact, cov.spent_usd if cov else 0.0, params,
    )  # fmt: skip
    return RefinePlan(plan, len(chosen), skipped, critiques_needed)


async def refine(
    project: Project, options: RefineOptions, *, control: RunControl | None = None
) -> RunSummary:
    """Create or continue a refine run and send its missing refinements (verified as they
    arrive when [sampling] verify is on)."""
    critic = None
    if options.feedback == "teacher":  # the critic is the run's teacher
        from core.teacher import make_teacher

        tsec, _ = effective_sections(project.config, SampleOptions(teacher=options.teacher))
        critic = make_teacher(tsec)
        start = getattr(critic, "start", None)
        if start is not None:
            await start()
    try:
        built = await build_refine_plan(project, options, write=True, teacher=critic)
    finally:
        if critic is not None:
            await critic.aclose()
    summary = await execute(project, built.plan, control=control)
    if built.skipped:
        note = f"{len(built.skipped)} candidates skipped ({built.skipped[0]}…)"
        summary.message = f"{summary.message}; {note}" if summary.message else note
    return summary


async def refine_dry_run(project: Project, options: RefineOptions) -> RefineEstimate:
    """What `refine()` would send: nothing is sent and nothing is written."""
    built = await build_refine_plan(project, options, write=False)
    return RefineEstimate(
        estimate(built.plan), built.candidates, built.skipped, built.critiques_needed
    )
