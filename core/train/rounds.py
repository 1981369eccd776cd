"""Training in rounds (expert iteration, EKT with `--rounds`): train, let the student sample the
training problems, verify, train again on the set plus its own passing programs.

Every round is an ordinary training run (`CHAIN-r1`, `CHAIN-r2`, ...) whose lineage names the
round, the previous round's run and the student's sampling evaluations behind its extra
programs; the sampling goes through `ekt eval`'s path (`core.evaluate.run_eval`: the generation
subprocess and the verifier), so its samples are stored candidates with verdicts like any other.
The loop runs in the caller's process and waits for each trainer subprocess.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import TrainError
from core.project import Project
from core.queries.training import problem_splits_of
from core.train.follow import follow
from core.train.methods import RoundContext, get_method
from core.train.options import TrainOptions, resolve_options
from core.train.runs import _next_name, find_run, launch, run_checkpoints

GeneratorFactory = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


def _noop(_event: dict[str, Any]) -> None:
    return None


async def final_checkpoint(project: Project, run_id: int) -> Path:
    """The last checkpoint a finished run saved (the weights the next round starts from)."""
    ckpts = await run_checkpoints(project.store, run_id)
    if not ckpts:
        raise TrainError(f"training run {run_id} saved no checkpoint; cannot sample the student")
    return Path(ckpts[-1]["path"])


async def sample_student(
    project: Project,
    checkpoint: Path,
    *,
    name: str,
    n: int,
    seed: int,
    problem_ids: list[str],
    generator: GeneratorFactory | None = None,
) -> dict[str, Any]:
    """Sample the checkpoint zero-shot on the splits of the training problems, n per problem,
    and verify; returns {"id", "name", "passing"} of the evaluation (one per split)."""
    from core.evaluate import EvalOptions, run_eval

    splits = await problem_splits_of(project.store, problem_ids) if problem_ids else []
    if not splits:
        raise TrainError("no training problems to sample the student on")
    cfg = project.config.eval
    out: list[dict[str, Any]] = []
    for split in sorted(splits):
        summary = await run_eval(
            project,
            EvalOptions(model=str(checkpoint), split=split, n=n, k=[1], zero_shot=True,
                        temperature=cfg.temperature, max_tokens=cfg.max_tokens, seed=seed,
                        name=name if len(splits) == 1 else f"{name}-{split}"),
            generator=generator() if generator else None,
        )  # fmt: skip
        passing = int((summary.results.get("statuses") or {}).get("pass", 0))
        out.append({"id": summary.eval_id, "name": summary.name, "split": split,
                    "passing": passing})  # fmt: skip
    return {"evals": out}


async def run_rounds(
    project: Project,
    options: TrainOptions,
    *,
    on_event: Callable[[dict[str, Any]], None] = _noop,
    on_round: Callable[[str, dict[str, Any]], None] | None = None,
    generator: GeneratorFactory | None = None,
    poll_s: float = 0.5,
) -> list[int]:
    """Train `[student] rounds` rounds of the method; returns the run ids, round order.

    `on_round(what, info)` hears "launched" (a round's run started), "sampling" and "sampled"
    (the student's evaluation on the training problems); `generator` replaces the student's
    generation backend (tests script its programs)."""
    store = project.store
    section = resolve_options(project.config, options)
    method = get_method(section.method)
    if section.rounds > 1 and not method.rounds:
        raise TrainError(f"--rounds {section.rounds}: method {method.name} trains in one round")
    chain = (options.name or "").strip() or await _next_name(store)
    ctx = RoundContext(rounds=section.rounds, chain=chain)
    run_ids: list[int] = []
    for r in range(1, section.rounds + 1):
        name = chain if section.rounds == 1 else f"{chain}-r{r}"
        run_id = await launch(project, TrainOptions(name=name, **options.overrides),
                              round_ctx=ctx)  # fmt: skip
        run_ids.append(run_id)
        if on_round:
            on_round("launched", {"round": r, "rounds": section.rounds, "run_id": run_id,
                                  "name": name})  # fmt: skip
        final = await follow(store, run_id, on_event, poll_s=poll_s)
        if final["status"] != "done":
            raise TrainError(
                f"round {r} ({name}) ended {final['status']}"
                + (f": {final['error']}" if final.get("error") else "")
            )
        if r == section.rounds:
            break
        checkpoint = await final_checkpoint(project, run_id)
        run = await find_run(store, run_id)
        trained = _sft_problems(run)
        if on_round:
            on_round("sampling", {"round": r, "checkpoint": str(checkpoint),
                                  "problems": len(trained)})  # fmt: skip
        sampled = await sample_student(
            project, checkpoint, name=f"{name}-self", n=section.round_samples,
            seed=section.seed + r, problem_ids=trained, generator=generator,
        )  # fmt: skip
        if on_round:
            on_round("sampled", {"round": r, **sampled})
        evals = tuple(sampled["evals"])
        ctx = replace(
            ctx,
            round=r + 1,
            previous={"id": run_id, "name": name, "checkpoint": str(checkpoint)},
            self_evals=ctx.self_evals + tuple(e["id"] for e in evals),
            evals=ctx.evals + tuple({**e, "round": r} for e in evals),
            init_model=None if section.ei_restart else checkpoint,
        )
    return run_ids


def _sft_problems(run: dict[str, Any]) -> list[str]:
    """The problems a run's SFT set covers (from its sft.jsonl), dev problems included."""
    from core.train.sft import read_sft

    rows = read_sft(Path(run["output_dir"]) / "sft.jsonl")
    dev = list(run["lineage"].get("dev_problems") or [])
    return sorted({str(r["problem"]) for r in rows} | set(dev))
