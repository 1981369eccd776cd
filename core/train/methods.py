"""Training methods: what a student's SFT set is made of, one registry entry per method.

The seeds' comparison needs the baselines next to EKT, built from the same store:
- `ekt` — the verified gold (today's SFT set); with rounds, the student's own verified programs
  from each round join the teacher's gold.
- `kd` — knowledge distillation: every teacher sample, whatever its verdict (samples that do
  not parse are left out only with `kd_drop_syntax`).
- `expert-iteration` — the student learns its own verified programs round after round: round 1
  trains on the project's gold (for the seeds' baseline, what the student itself sampled
  few-shot), then each round samples the student on the training problems, verifies, and adds
  its passing programs.
A method is a `Method(name, label, build, rounds)` passed to `register`; `build` returns the
`SftSet` for a round (`RoundContext`: which round, the round evaluations so far) and `label` is
what the lineage (and so the evaluation table) calls the method. Another method (e.g. CodePLAN's
multi-task set) registers itself the same way and adds its name to [student] `method`.
"""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.candidates import code_hash
from core.config import StudentSection
from core.errors import TrainError
from core.gold import GoldExample, pick_dev, select_gold
from core.queries.methods import (
    SampleRow,
    eval_candidate_ids,
    eval_gold_samples,
    teacher_samples,
)
from core.store import Store
from core.train.sft import (
    SftPreview,
    SftSet,
    build_sft,
    check_policy,
    summarize_sft,
    to_examples,
)


@dataclass(frozen=True, slots=True)
class RoundContext:
    """Where a training run stands in a chain of rounds (round 1 of 1: a plain run)."""

    round: int = 1
    rounds: int = 1
    chain: str | None = None  # the chain's base name; runs are CHAIN-r1, CHAIN-r2, ...
    previous: dict[str, Any] | None = None  # the previous round's run: id, name, checkpoint
    self_evals: tuple[int, ...] = ()  # the student's sampling evaluations of earlier rounds
    init_model: Path | None = None  # continue from this checkpoint instead of the base model
    evals: tuple[dict[str, Any], ...] = field(default=())  # id, name, passing programs each


Builder = Callable[[Store, StudentSection, RoundContext], Awaitable[SftSet]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str  # the `--method` value
    label: str  # lineage `method`: the evaluation table's label
    build: Builder
    rounds: bool  # whether more than one round means something for this method
    summary: str = ""


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method to the registry (its name must also be a [student] `method` choice)."""
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise TrainError(
            f"unknown training method {name!r} (expected one of {', '.join(METHODS)})"
        ) from None


def _example(row: SampleRow) -> GoldExample:
    return GoldExample(row.problem_id, row.candidate_id, row.code, row.source,
                       row.status or "unverified")  # fmt: skip


def parses(code: str) -> bool:
    """True when the program is valid Python (KD's optional syntax filter)."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


async def with_own_programs(store: Store, sft: SftSet, eval_ids: Sequence[int]) -> SftSet:
    """`sft` plus the distinct passing programs of the student's round evaluations (never of a
    dev problem, never one the set already holds)."""
    if not eval_ids:
        return sft
    held = set(sft.dev_ids)
    seen = {(g.problem_id, code_hash(g.code)) for g in sft.gold}
    added: list[GoldExample] = []
    for row in await eval_gold_samples(store, eval_ids):
        key = (row.problem_id, row.code_hash)
        if row.problem_id in held or key in seen:
            continue
        seen.add(key)
        added.append(_example(row))
    if not added:
        return sft
    gold = [*sft.gold, *added]
    examples = [*sft.examples, *await to_examples(store, added)]
    return SftSet(examples, sft.dev_ids, gold, sft.policy, sft.k)


async def _gold_set(store: Store, section: StudentSection, ctx: RoundContext) -> SftSet:
    """The gold, less any evaluation's samples (a student sampling the train split is not a
    teacher), plus this chain's own verified programs. A hand-approved one stays."""
    policy = section.gold_policy or "all-distinct"
    diverse = policy == "diverse"
    k = section.diverse_k if diverse else (section.max_per_problem or 4)
    check_policy(policy, k)
    gold = await select_gold(
        store, policy, k, sources=section.gold_sources.split(","),
        embedder=section.model if diverse else None, min_judge_score=section.min_judge_score,
    )  # fmt: skip
    from_evals = await eval_candidate_ids(store, [g.candidate_id for g in gold])
    gold = [g for g in gold if g.candidate_id not in from_evals or g.status == "override"]
    sft = await build_sft(store, policy=policy, k=k, dev=section.dev, seed=section.seed,
                          gold=gold)  # fmt: skip
    return await with_own_programs(store, sft, ctx.self_evals)


async def _kd_set(store: Store, section: StudentSection, ctx: RoundContext) -> SftSet:
    rows = await teacher_samples(store)
    if not rows:
        raise TrainError("no teacher samples yet: sample the teacher first (`ekt sample`)")
    if section.kd_drop_syntax:
        rows = [r for r in rows if r.status != "syntax" and parses(r.code)]
        if not rows:
            raise TrainError("--kd-drop-syntax: every teacher sample has a syntax error")
    dev_ids = await pick_dev(store, list(dict.fromkeys(r.problem_id for r in rows)),
                             section.dev, section.seed)  # fmt: skip
    held = set(dev_ids)
    gold = [_example(r) for r in rows if r.problem_id not in held]
    return SftSet(await to_examples(store, gold), dev_ids, gold, "all-samples", 0)


EKT = register(Method("ekt", "ekt-sft", _gold_set, rounds=True,
                      summary="verified gold (+ the student's verified programs per round)"))
KD = register(Method("kd", "kd", _kd_set, rounds=False,
                     summary="every teacher sample, unfiltered by verdicts"))
EXPERT_ITERATION = register(Method("expert-iteration", "expert-iteration", _gold_set, rounds=True,
                                   summary="the student's own verified programs, round by round"))


async def build_method_sft(
    store: Store, section: StudentSection, ctx: RoundContext | None = None
) -> SftSet:
    """The SFT set of `section.method` for a round; more rounds than a method has is an error."""
    method = get_method(section.method)
    if section.rounds > 1 and not method.rounds:
        raise TrainError(f"--rounds {section.rounds}: method {method.name} trains in one round")
    return await method.build(store, section, ctx or RoundContext(rounds=section.rounds))


def method_lineage(
    section: StudentSection, sft: SftSet, ctx: RoundContext | None = None
) -> dict[str, Any]:
    """What the lineage adds for the method: its label, the round and the rounds before it."""
    method = get_method(section.method)
    ctx = ctx or RoundContext(rounds=section.rounds)
    own = sum(g.source == "student" for g in sft.gold)
    label = method.label
    if method.name == "ekt" and any(g.source == "refine" for g in sft.gold):
        label = "ekt+ilf"  # refinements (ILF) are in the SFT set
    out: dict[str, Any] = {
        "method": label,
        "round": ctx.round,
        "rounds": ctx.rounds,
        "chain": ctx.chain,
        "previous_run": ctx.previous,
        "self_evals": list(ctx.evals),
        "own_programs": own if ctx.self_evals else 0,
        "init_model": str(ctx.init_model) if ctx.init_model else None,
    }
    if method.name == "kd":
        out["kd_drop_syntax"] = section.kd_drop_syntax
        out["gold_policy"] = "all-samples"
        out["max_per_problem"] = None
    return out


async def preview_method(
    store: Store, section: StudentSection, ctx: RoundContext | None = None
) -> SftPreview:
    """The SFT set a run would train on, counted without training (`ekt train --preview`)."""
    sft = await build_method_sft(store, section, ctx)
    return await summarize_sft(sft, section.model, section.method)
