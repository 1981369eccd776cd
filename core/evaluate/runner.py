"""`ekt eval`: generate on a split, store every sample as a candidate, verify, compute pass@k.

Everything that can be wrong with the request (model, split, k, prompt, name) is checked before
the `evals` row is created, so bad input leaves nothing half-written. Generation runs in a
subprocess (`core.generate` for a local model, the configured teacher backend for `--teacher`)
and is fed to the verifier problem batch by problem batch, so sandboxing overlaps generation.
A run interrupted half-way can be resumed with the same `--name`: samples are idempotent by
(eval, problem, sample index) and problems that already have n samples are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.candidates import NewCandidate, insert_candidates
from core.errors import EktError, EvalError
from core.evaluate.generators import Generator, local_generator, teacher_generator
from core.evaluate.labels import Lineage, checkpoint_lineage, teacher_label
from core.evaluate.passk import parse_ks
from core.evaluate.results import recompute_results
from core.project import Project
from core.prompts import (
    PromptVersion,
    RenderedPrompt,
    current_prompt,
    prompt_name_for_kind,
    render,
    render_zero_shot,
    resolve_prompt,
)
from core.prompts.completion import completion_to_code
from core.queries.evals import (
    eval_by_name,
    eval_done_problems,
    eval_name_taken,
    split_problems,
    unverified_eval_candidates,
)
from core.queries.problems import problem_splits

Progress = Callable[["EvalProgress"], None]


@dataclass
class EvalOptions:
    model: str | None = None  # a model spec; None with teacher=True
    teacher: bool = False
    split: str = "test"
    n: int = 20
    temperature: float = 0.6
    top_p: float = 0.95
    k: str | Sequence[int] = (1, 10, 20)
    limit: int | None = None
    zero_shot: bool | None = None  # None: zero-shot for `ekt train` checkpoints, else few-shot
    prompt: str | None = None
    name: str | None = None
    max_tokens: int = 320
    seed: int = 0
    batch_problems: int = 8


@dataclass(frozen=True, slots=True)
class EvalProgress:
    eval_id: int
    problems_done: int
    problems: int
    samples: int


@dataclass
class EvalPlan:
    """A validated request: what will be evaluated, how it is labelled, with which prompts."""

    options: EvalOptions
    ks: list[int]
    problems: list[Any]
    model_label: str
    method: str
    teacher: str
    prompts: dict[str, PromptVersion | None]  # per problem kind; None: zero-shot
    model_path: Path | None = None
    lineage: Lineage | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, problem: Any) -> RenderedPrompt:
        version = self.prompts[problem["kind"]]
        return render_zero_shot(problem) if version is None else render(version.template, problem)

    @property
    def prompt_id(self) -> int | None:
        ids = [v.id for v in self.prompts.values() if v is not None]
        return ids[0] if ids else None


@dataclass(frozen=True, slots=True)
class EvalSummary:
    eval_id: int
    name: str
    model: str
    method: str
    teacher: str
    results: dict[str, Any]


def _check_options(o: EvalOptions) -> list[int]:
    if o.teacher and o.model:
        raise EvalError("give either --model or --teacher, not both")
    if not o.teacher and not (o.model or "").strip():
        raise EvalError("nothing to evaluate: give --model PATH|HUB_ID|GGUF or --teacher")
    if o.zero_shot and o.prompt:
        raise EvalError("--zero-shot and --prompt exclude each other")
    if o.n < 1:
        raise EvalError(f"--n {o.n}: need at least one sample per problem")
    if not 0 <= o.temperature <= 2:
        raise EvalError(f"--temperature {o.temperature}: expected a value in [0, 2]")
    if o.limit is not None and o.limit < 1:
        raise EvalError(f"--limit {o.limit}: expected a positive number of problems")
    if o.max_tokens < 1:
        raise EvalError(f"--max-tokens {o.max_tokens}: expected a positive number")
    try:
        return parse_ks(o.k, o.n)
    except ValueError as exc:
        raise EvalError(str(exc)) from None


async def _problems(project: Project, split: str, limit: int | None) -> list[Any]:
    rows = await split_problems(project.store, split, limit)
    if not rows:
        splits = await problem_splits(project.store)
        have = ", ".join(repr(s) for s in sorted(splits)) or "none: run `ekt import` first"
        raise EvalError(f"no problems in split {split!r} (splits here: {have})")
    return rows


async def plan_eval(project: Project, options: EvalOptions) -> EvalPlan:
    """Validate everything and label the evaluation; writes nothing but default prompt seeds."""
    from core.models import ensure_local_model, resolve_model

    ks = _check_options(options)
    problems = await _problems(project, options.split, options.limit)
    lineage: Lineage | None = None
    model_path: Path | None = None
    if options.teacher:
        label, method, teacher = teacher_label(project.config.teacher.model), "teacher", ""
    else:
        ref = resolve_model(options.model or "")  # unknown spec: one-line ModelError
        if ref.kind == "folder" and ref.path is not None:
            lineage = await checkpoint_lineage(project.store, ref.path)
        label = lineage.model if lineage else ref.name
        method = lineage.method if lineage else ""
        teacher = lineage.teacher if lineage else ""
    zero_shot = options.zero_shot
    if zero_shot is None:
        zero_shot = lineage is not None and not options.prompt
    prompts: dict[str, PromptVersion | None] = {}
    for kind in sorted({p["kind"] for p in problems}):
        if zero_shot:
            prompts[kind] = None
        elif options.prompt:
            prompts[kind] = await resolve_prompt(
                project.store, options.prompt, prompt_name_for_kind(kind)
            )
        else:
            prompts[kind] = await current_prompt(project.store, prompt_name_for_kind(kind))
    if not method:
        method = "zero-shot" if zero_shot else "few-shot"
    if not options.teacher:  # last: a GGUF is converted (once) here, a hub id downloaded
        model_path = await asyncio.to_thread(ensure_local_model, options.model or "")
    plan = EvalPlan(options, ks, problems, label, method, teacher, prompts, model_path, lineage)
    plan.params = {
        "spec": "teacher" if options.teacher else options.model,
        "model_path": str(model_path) if model_path else None,
        "teacher_config": project.config.teacher.model_dump() if options.teacher else None,
        "n": options.n,
        "k": ks,
        "temperature": options.temperature,
        "top_p": options.top_p,
        "max_tokens": options.max_tokens,
        "seed": options.seed,
        "limit": options.limit,
        "zero_shot": zero_shot,
        "prompts": {k: (v.label if v else "zero-shot") for k, v in prompts.items()},
        "lineage": None if lineage is None else {"checkpoint_id": lineage.checkpoint_id,
                                                 "prompt_id": lineage.prompt_id},
        "problem_ids": [p["id"] for p in problems],
    }  # fmt: skip
    return plan


async def _create_or_resume(project: Project, plan: EvalPlan) -> tuple[int, str]:
    store, now = project.store, time.time()
    name = plan.options.name
    if name:
        found = await eval_by_name(store, name)
        row = (
            None
            if found is None
            else {"id": found.id, "status": found.status, "model": found.model}
        )
        if row is not None:
            if row["status"] == "done":
                raise EvalError(f"evaluation {name!r} already exists and is done (pick a --name)")
            if row["model"] != plan.model_label:
                raise EvalError(
                    f"evaluation {name!r} exists for model {row['model']!r}, not resumable"
                    f" with {plan.model_label!r}"
                )
            await store.execute(
                "UPDATE evals SET status = 'running', updated_at = ? WHERE id = ?", (now, row["id"])
            )
            return int(row["id"]), name
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        base = f"{plan.model_label}-{plan.method}-{plan.options.split}-{stamp}"
        name, i = base, 1
        while await eval_name_taken(store, name):
            i += 1
            name = f"{base}-{i}"
    eval_id = await store.execute(
        "INSERT INTO evals(name, model, method, teacher, prompt_id, split, params, status,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?, 'running', ?, ?)",
        (
            name, plan.model_label, plan.method, plan.teacher, plan.prompt_id,
            plan.options.split, json.dumps(plan.params), now, now,
        ),
    )  # fmt: skip
    return eval_id, name


async def _done_problems(project: Project, eval_id: int, n: int) -> set[str]:
    return await eval_done_problems(project.store, eval_id, n)


def _make_generator(project: Project, plan: EvalPlan) -> Generator:
    o = plan.options
    if o.teacher:
        return teacher_generator(project, temperature=o.temperature, top_p=o.top_p,
                                 max_tokens=o.max_tokens, seed=o.seed)  # fmt: skip
    assert plan.model_path is not None
    return local_generator(plan.model_path, temperature=o.temperature, top_p=o.top_p,
                           max_tokens=o.max_tokens, seed=o.seed)  # fmt: skip


async def run_eval(
    project: Project,
    options: EvalOptions,
    *,
    on_progress: Progress | None = None,
    on_start: Callable[[int, str], None] | None = None,
    generator: contextlib.AbstractAsyncContextManager[Generator] | None = None,
) -> EvalSummary:
    """Plan, generate, verify, and store pass@k; returns the stored results.

    `on_start(eval_id, name)` is called once the row exists (before the model loads: the TUI
    can cancel it from then on); a cancelled run is marked 'cancelled', resumable by name.
    `generator` replaces the model/teacher backend (tests script completions through it)."""
    from core.verify.service import VerifierService

    plan = await plan_eval(project, options)
    eval_id, name = await _create_or_resume(project, plan)
    if on_start:
        on_start(eval_id, name)
    source = "teacher" if options.teacher else "student"
    try:
        done = await _done_problems(project, eval_id, options.n)
        todo = [p for p in plan.problems if p["id"] not in done]
        finished, samples = len(plan.problems) - len(todo), 0
        gen_cm = generator or _make_generator(project, plan)
        async with VerifierService(project) as vs, gen_cm as gen:
            # already-stored but unverified samples of a resumed run
            vs.submit(await unverified_eval_candidates(project.store, eval_id))
            for start in range(0, len(todo), max(1, options.batch_problems)):
                batch = todo[start : start + options.batch_problems]
                rendered = [plan.render(p) for p in batch]
                completions = await gen.generate(rendered, options.n)
                items = [
                    NewCandidate(
                        problem_id=p["id"], source=source, code=completion_to_code(r, text),
                        raw=text, eval_id=eval_id, sample_index=i,
                    )
                    for p, r, texts in zip(batch, rendered, completions, strict=True)
                    for i, text in enumerate(texts)
                ]  # fmt: skip
                vs.submit(await insert_candidates(project.store, items))
                finished += len(batch)
                samples += len(items)
                if on_progress:
                    on_progress(EvalProgress(eval_id, finished, len(plan.problems), samples))
            await vs.drain()
        results = await recompute_results(project.store, eval_id)
        await project.store.execute(
            "UPDATE evals SET status = 'done', updated_at = ? WHERE id = ?", (time.time(), eval_id)
        )
    except BaseException as exc:
        message = str(exc) if isinstance(exc, EktError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, asyncio.CancelledError):
            await _mark_failed(project, eval_id, "cancelled", status="cancelled")
        else:
            await _mark_failed(project, eval_id, message or type(exc).__name__)
        raise
    return EvalSummary(eval_id, name, plan.model_label, plan.method, plan.teacher, results)


async def _mark_failed(
    project: Project, eval_id: int, message: str, *, status: str = "failed"
) -> None:
    """Record why a run stopped; its samples stay for a resume with the same --name."""
    # the store itself may be what failed; the original error matters more
    with contextlib.suppress(Exception):
        await project.store.execute(
            "UPDATE evals SET status = ?, results = json_set(results, '$.error', ?),"
            " updated_at = ? WHERE id = ?",
            (status, message, time.time(), eval_id),
        )
