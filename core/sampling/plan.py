"""Which requests a sampling call has to send: the run it belongs to, the problems, the prompt
version per problem kind, and the samples still missing.

A sample is identified by (run, problem, sample index). A request asks for the samples
[first_index, first_index + n) of one problem; a request recorded as done covers its range even
when the endpoint returned fewer choices, so a completed request is never sent again. Planning
writes nothing (a dry run is exactly this plan).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from core.config import SamplingSection, TeacherSection
from core.errors import ConfigError
from core.project import Project
from core.prompts import (
    PromptVersion,
    RenderedPrompt,
    get_prompt,
    list_prompts,
    parse_template,
    prompt_name_for_kind,
    render,
    resolve_prompt,
)
from core.prompts.versions import default_template
from core.queries.problems import (
    existing_problem_ids,
    problem_count,
    problem_splits,
    problems_to_sample,
)
from core.queries.runs import run_by_name, run_coverage
from core.sampling.options import (
    IDENTITY_SAMPLING,
    IDENTITY_TEACHER,
    SampleOptions,
    check_options,
    effective_sections,
)
from core.tokens import count_tokens


@dataclass
class Work:
    """One request to send: samples [first_index, first_index + n) of one problem."""

    problem_id: str
    rendered: RenderedPrompt
    first_index: int
    n: int
    prompt_tokens: int
    request_id: int | None = None  # an existing row (a request that never completed)
    # a derived run's item (core/refine): the candidate it starts from and the feedback used
    source: str = "teacher"
    parent_id: int | None = None
    feedback_id: int | None = None


@dataclass
class Plan:
    name: str
    run_id: int | None
    teacher: TeacherSection
    sampling: SamplingSection
    prompts: dict[str, PromptVersion]
    problems: list[str]
    work: list[Work]
    done_samples: int
    prompt_exact: bool
    stored_cost_usd: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.run_id is not None

    def teacher_identity(self) -> dict[str, Any]:
        return {k: getattr(self.teacher, k) for k in IDENTITY_TEACHER}

    def description(self) -> str:
        t = self.teacher
        if t.backend == "local":
            return f"local:{t.model}"
        return f"openai:{t.model}@{t.base_url or 'https://api.openai.com/v1'}"


def request_bound(w: Work, s: SamplingSection, t: TeacherSection, exact: bool) -> float:
    """The most a request can cost: its prompt (+30% when the count is an estimate) and n full
    completions."""
    prompt = w.prompt_tokens if exact else int(w.prompt_tokens * 1.3) + 1
    return (prompt * t.price_prompt + w.n * s.max_tokens * t.price_completion) / 1e6


def _conflicts(
    options: SampleOptions, stored_teacher: dict[str, Any], stored_sampling: dict[str, Any]
) -> list[str]:
    out = []
    for key in IDENTITY_TEACHER:
        if key in options.teacher and options.teacher[key] != stored_teacher.get(
            key, options.teacher[key]
        ):
            out.append(f"{key} {stored_teacher[key]!r}")
    for key in IDENTITY_SAMPLING:
        value = getattr(options, key, None)
        if value is not None and key in stored_sampling and value != stored_sampling[key]:
            out.append(f"{key} {stored_sampling[key]!r}")
    return out


async def _problems(project: Project, options: SampleOptions) -> list[dict[str, Any]]:
    store = project.store
    wanted: list[str] | None = None
    if options.problems is not None:
        wanted = list(dict.fromkeys(p.strip() for p in options.problems if p.strip()))
    order: list[str] | None = None
    if options.selection:
        from core.select import selection_problems

        order = await selection_problems(store, options.selection)
        keep = None if wanted is None else set(wanted)
        wanted = [p for p in order if keep is None or p in keep]
    rows = await problems_to_sample(
        store,
        split=options.split,
        unsolved_only=bool(options.unsolved_only),
        ids=wanted,
        limit=None if order is not None else options.limit,
    )
    if order is not None:  # the most diverse first: the budget goes further
        rank = {p: i for i, p in enumerate(order)}
        rows.sort(key=lambda r: rank[r["id"]])
        rows = rows[: options.limit] if options.limit is not None else rows
        return rows
    if wanted:
        known = await existing_problem_ids(store, wanted)
        missing = [p for p in wanted if p not in known]
        if missing:
            raise ConfigError(f"no such problem: {', '.join(missing[:5])}")
    if not rows and not await problem_count(store):
        raise ConfigError(f"{project.db_path}: no problems yet (run `ekt import` first)")
    if not rows and options.split is not None:
        splits = await problem_splits(store)
        if options.split not in splits:
            have = ", ".join(repr(s) for s in sorted(splits))
            raise ConfigError(f"no problems in split {options.split!r} (splits here: {have})")
    return rows


async def _prompt(
    project: Project, spec: str, kind: str, stored: int | None, write: bool
) -> PromptVersion:
    if stored is not None and not spec:
        return await get_prompt(project.store, stored)
    name = prompt_name_for_kind(kind)
    if not spec and not write and not await list_prompts(project.store, name):
        # a dry run must not seed the built-in prompt: show what it would be
        return PromptVersion(0, name, 1, default_template(name), "", None, time.time())
    return await resolve_prompt(project.store, spec or None, name)


def default_run_name(teacher: TeacherSection, sampling: SamplingSection, prompts: Any) -> str:
    """Derived from the run's identity, so re-running the same command continues the run."""
    ident = {
        **{k: getattr(teacher, k) for k in IDENTITY_TEACHER},
        **{k: getattr(sampling, k) for k in IDENTITY_SAMPLING},
        "prompts": {k: p.label for k, p in sorted(prompts.items())},
    }
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:6]
    model = re.sub(r"[^A-Za-z0-9._-]+", "-", teacher.model.rstrip("/").rsplit("/", 1)[-1])
    labels = "+".join(p.label for _, p in sorted(prompts.items()))
    return f"{model}-{labels}-{digest}"


def _missing(
    n: int, have: set[int], reqs: dict[int, tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """Contiguous (first_index, count) ranges of [0, n) with no sample and no done request; a
    range starts a new request wherever an existing row's first_index sits inside it."""
    covered = set(have)
    for first, (_, k, status) in reqs.items():
        if status == "done":
            covered.update(range(first, first + k))
    out: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if i in covered:
            i += 1
            continue
        j = i + 1
        while j < n and j not in covered and j not in reqs:
            j += 1
        out.append((i, j - i))
        i = j
    return out


def _without_exemplars(
    problems: list[dict[str, Any]], prompts: dict[str, PromptVersion]
) -> list[dict[str, Any]]:
    """The leakage guard: a problem that is an exemplar of its kind's prompt is not sampled
    (`ekt prompt evolve` puts gold problems into a prompt)."""
    from core.prompts import find_leaks

    out = problems
    for kind, prompt in prompts.items():
        pairs = [(p["id"], p["question"]) for p in out if p["kind"] == kind]
        leaked = {leak.problem_id for leak in find_leaks(prompt.template, pairs)}
        if leaked:
            out = [p for p in out if p["id"] not in leaked]
    return out


async def build_plan(project: Project, options: SampleOptions, *, write: bool = True) -> Plan:
    """Resolve everything a call needs; raises a one-line EktError for bad input."""
    check_options(options)
    stored = await run_by_name(project.store, options.run) if options.run else None
    st_teacher = stored.teacher.get("config", {}) if stored else {}
    st_params = stored.params if stored else {}
    st_sampling = {k: st_params[k] for k in IDENTITY_SAMPLING if k in st_params}
    if stored:
        clash = _conflicts(options, st_teacher, st_sampling)
        if clash:
            raise ConfigError(
                f"run {options.run!r} was made with {', '.join(clash)}: omit those options"
                " to continue it, or name a new --run"
            )
    teacher, sampling = effective_sections(
        project.config,
        options,
        stored_teacher={k: v for k, v in st_teacher.items() if k in IDENTITY_TEACHER},
        stored_sampling=st_sampling,
    )
    problems = await _problems(project, options)
    st_prompts = {k: p.id for k, p in stored.prompts.items()} if stored else {}
    spec = options.prompt if options.prompt is not None else ("" if stored else sampling.prompt)
    prompts: dict[str, PromptVersion] = {}
    for kind in sorted({p["kind"] for p in problems}):
        prompts[kind] = await _prompt(project, spec or "", kind, st_prompts.get(kind), write)
        if stored and kind in st_prompts and prompts[kind].id != st_prompts[kind]:
            raise ConfigError(
                f"run {options.run!r} samples {kind} problems with prompt #{st_prompts[kind]},"
                f" not {prompts[kind].label}: omit --prompt or name a new --run"
            )
    problems = _without_exemplars(problems, prompts)
    name = options.run or default_run_name(teacher, sampling, prompts)
    if stored is None and not options.run:
        stored = await run_by_name(project.store, name)
        st_params = stored.params if stored else {}
    run_id = stored.id if stored else None
    if run_id is not None:
        coverage = await run_coverage(project.store, run_id)
        have, requests, spent = coverage.samples, coverage.requests, coverage.spent_usd
    else:
        have, requests, spent = {}, {}, 0.0
    templates = {k: parse_template(p.template) for k, p in prompts.items()}
    work: list[Work] = []
    done = 0
    exact = True
    for problem in problems:
        pid = problem["id"]
        got = have.get(pid, set())
        done += len([i for i in got if i < sampling.n])
        ranges = _missing(sampling.n, got, requests.get(pid, {}))
        if not ranges:
            continue
        rendered = render(templates[problem["kind"]], problem)
        count = count_tokens(rendered.text, teacher.model if teacher.backend == "local" else None)
        exact = exact and count.exact
        for first, k in ranges:
            existing = requests.get(pid, {}).get(first)
            work.append(Work(pid, rendered, first, k, count.n, existing[0] if existing else None))
    params = {
        **{k: getattr(sampling, k) for k in IDENTITY_SAMPLING},
        "n": max(sampling.n, int(st_params.get("n", 0))),
    }
    return Plan(
        name, run_id, teacher, sampling, prompts, [p["id"] for p in problems], work, done,
        exact, spent, params,
    )  # fmt: skip
