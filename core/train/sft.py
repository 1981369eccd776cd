"""The SFT set: gold programs as (zero-shot prompt → completion) pairs, plus a held-out dev slice.

The student sees each problem in the zero-shot format (`render_zero_shot`, no exemplars) and
learns the gold code that follows it; the loss covers only the completion. When the prompt ends
with the code's first line (`def solution():`), the completion is the rest of the program.
The dev slice is N problems of the gold problems' split(s), drawn with the training seed; their
gold never enters the SFT set, so dev pass@1 measures generalisation. The file's SHA-256 is the
set's identity in every checkpoint's lineage.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import TrainError
from core.gold import POLICIES, GoldExample, pick_dev, select_gold
from core.prompts import render_zero_shot
from core.queries.problems import problems_by_ids
from core.store import Store
from core.tokens import count_tokens


@dataclass(frozen=True, slots=True)
class SftExample:
    problem_id: str
    candidate_id: int
    prompt: str
    completion: str
    task: str = "code"  # what the example teaches (a multi-task method adds others)

    def row(self) -> dict[str, Any]:
        row = {
            "problem": self.problem_id,
            "candidate_id": self.candidate_id,
            "prompt": self.prompt,
            "completion": self.completion,
        }
        if self.task != "code":  # a plain code set's file (and hash) stays as it always was
            row["task"] = self.task
        return row


@dataclass(frozen=True, slots=True)
class SftSet:
    examples: list[SftExample]
    dev_ids: list[str]
    gold: list[GoldExample]  # the gold behind `examples`, for lineage
    policy: str
    k: int


@dataclass(frozen=True, slots=True)
class SftPreview:
    """What a gold policy yields, for the launch form: examples, problems, tokens."""

    examples: int
    problems: int
    dev: int
    prompt_tokens: int
    completion_tokens: int
    exact: bool  # token counts from the model's tokenizer (else an estimate)
    tasks: dict[str, int] = field(default_factory=dict)  # examples per task ("code": N)
    method: str = "ekt"

    def summary(self) -> dict[str, Any]:
        """`ekt train --preview --json`: {"examples", "tokens", "tasks", ...}."""
        return {
            "examples": self.examples,
            "tokens": self.prompt_tokens + self.completion_tokens,
            "tasks": dict(self.tasks),
            "method": self.method,
            "problems": self.problems,
            "dev": self.dev,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "exact": self.exact,
        }


def split_prompt(problem: Any, code: str) -> tuple[str, str]:
    """(prompt, completion) for a gold program: the zero-shot prompt continues into the code."""
    rendered = render_zero_shot(problem)
    prefix = rendered.code_prefix
    if prefix and code.startswith(prefix):
        return rendered.text, code[len(prefix) :]
    if prefix and rendered.text.endswith(prefix):  # an edit that changed the first line
        return rendered.text[: -len(prefix)], code
    return rendered.text, code


def check_policy(policy: str, k: int) -> None:
    if policy not in POLICIES:
        raise TrainError(f"unknown gold policy {policy!r} (expected one of {', '.join(POLICIES)})")
    if policy == "max-per-problem" and k < 1:
        raise TrainError(f"--max-per-problem {k}: expected K >= 1")
    if policy == "diverse" and k < 1:
        raise TrainError(f"--gold-policy diverse needs --k K (K >= 1), got {k}")


async def build_sft(
    store: Store,
    *,
    policy: str = "all-distinct",
    k: int = 4,
    dev: int = 0,
    seed: int = 0,
    sources: Sequence[str] | None = None,
    gold: Sequence[GoldExample] | None = None,
    embedder: str | None = None,
    min_judge_score: int = 0,
) -> SftSet:
    """Gold → SFT examples (problem import order); no gold at all is a one-line TrainError.

    `sources`: only gold of these candidate sources ([student] gold_sources); `gold`: the
    policy's pick already made (and filtered) by a method; else selected here."""
    check_policy(policy, k)
    gold = list(gold) if gold is not None else await select_gold(
        store, policy, k, sources=sources, embedder=embedder, min_judge_score=min_judge_score
    )
    if not gold:
        raise TrainError(
            "no gold yet: sample the teacher and verify (`ekt sample`, `ekt verify`) first"
        )
    dev_ids = await pick_dev(store, [g.problem_id for g in gold], dev, seed)
    held = set(dev_ids)
    kept = [g for g in gold if g.problem_id not in held]
    return SftSet(await to_examples(store, kept), dev_ids, kept, policy, k)


async def to_examples(store: Store, gold: Sequence[GoldExample]) -> list[SftExample]:
    """Programs → zero-shot (prompt, completion) examples, in the order given."""
    problems = await problems_by_ids(store, sorted({g.problem_id for g in gold}))
    examples = []
    for g in gold:
        prompt, completion = split_prompt(problems[g.problem_id], g.code)
        examples.append(SftExample(g.problem_id, g.candidate_id, prompt, completion))
    return examples


async def preview_sft(
    store: Store,
    *,
    policy: str = "all-distinct",
    k: int = 4,
    dev: int = 0,
    seed: int = 0,
    model: str | None = None,
) -> SftPreview:
    """Counts for the launch form; tokens are exact when the student's tokenizer is on disk."""
    sft = await build_sft(store, policy=policy, k=k, dev=dev, seed=seed)
    return await summarize_sft(sft, model)


async def summarize_sft(sft: SftSet, model: str | None, method: str = "ekt") -> SftPreview:
    """Examples, problems, tokens and examples per task of a built set."""

    def count() -> tuple[int, int, bool]:  # CPU-bound on 7k examples: off the event loop
        prompt_tokens = completion_tokens = 0
        exact = True
        for ex in sft.examples:
            p, c = count_tokens(ex.prompt, model), count_tokens(ex.completion, model)
            prompt_tokens += p.n
            completion_tokens += c.n
            exact = exact and p.exact and c.exact
        return prompt_tokens, completion_tokens, exact

    prompt_tokens, completion_tokens, exact = await asyncio.to_thread(count)
    return SftPreview(
        examples=len(sft.examples),
        problems=len({e.problem_id for e in sft.examples}),
        dev=len(sft.dev_ids),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        exact=exact,
        tasks=dict(Counter(e.task for e in sft.examples)),
        method=method,
    )


def write_sft(path: Path, examples: Sequence[SftExample]) -> str:
    """Write the set as JSON lines (whole or not at all); returns the SHA-256 of the file."""
    data = "".join(json.dumps(e.row(), ensure_ascii=False, sort_keys=True) + "\n" for e in examples)
    raw = data.encode("utf-8")
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(raw)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TrainError(f"{path}: cannot write the SFT set: {exc.strerror or exc}") from None
    return hashlib.sha256(raw).hexdigest()


def read_sft(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TrainError(f"{path}: cannot read the SFT set: {exc.strerror or exc}") from None
    return [json.loads(line) for line in lines if line.strip()]
