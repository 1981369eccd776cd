"""The SFT set: gold policies, prompt/completion split, dev slice, preview, hash, bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.errors import TrainError
from core.project import Project
from core.train import build_sft, preview_sft, write_sft
from core.train.sft import read_sft, split_prompt
from tests.core.train.conftest import make_gold_project


async def test_policies_and_completion_only_split(gold_project: Path) -> None:
    async with await Project.open(gold_project) as p:
        every = await build_sft(p.store, policy="all-distinct")
        first = await build_sft(p.store, policy="first")
        capped = await build_sft(p.store, policy="max-per-problem", k=1)
    assert len(every.examples) == 12  # 8 problems, the 4 odd ones with two distinct programs
    assert len(first.examples) == 8 == len(capped.examples)
    ex = first.examples[0]
    assert ex.problem_id == "toy/1"
    assert ex.prompt.endswith("def solution():") and "# Question: Tom has 1 apples" in ex.prompt
    assert ex.completion == "\n    apples = 1\n    return apples + 2\n"  # the code after the prompt


def test_split_prompt_when_the_code_does_not_continue_the_prompt() -> None:
    problem = {"id": "x", "kind": "answer", "question": "What is 1 + 1?"}
    prompt, completion = split_prompt(problem, "def other():\n    return 2\n")
    assert not prompt.endswith("def solution():") and completion.startswith("def other():")


async def test_dev_slice_is_held_out_and_seeded(gold_project: Path) -> None:
    async with await Project.open(gold_project) as p:
        a = await build_sft(p.store, policy="first", dev=3, seed=1)
        b = await build_sft(p.store, policy="first", dev=3, seed=1)
        with pytest.raises(TrainError, match="--dev 8"):
            await build_sft(p.store, dev=8)
    assert a.dev_ids == b.dev_ids and len(a.dev_ids) == 3
    assert all(pid.startswith("toy/") and pid != "toy/t1" for pid in a.dev_ids)  # train split
    assert not {e.problem_id for e in a.examples} & set(a.dev_ids)
    assert len(a.examples) == 8 - 3


async def test_preview_counts_examples_and_tokens(gold_project: Path, tiny_model: Path) -> None:
    async with await Project.open(gold_project) as p:
        estimate = await preview_sft(p.store, policy="first")
        exact = await preview_sft(p.store, policy="all-distinct", model=str(tiny_model))
    assert (estimate.examples, estimate.problems, estimate.exact) == (8, 8, False)
    assert estimate.prompt_tokens > estimate.completion_tokens > 0
    assert (exact.examples, exact.problems, exact.exact) == (12, 8, True)


async def test_no_gold_and_bad_policy_are_one_line_errors(tmp_path: Path) -> None:
    root = make_gold_project(tmp_path / "empty", with_gold=False)
    async with await Project.open(root) as p:
        with pytest.raises(TrainError, match="no gold yet"):
            await build_sft(p.store)
        with pytest.raises(TrainError, match="unknown gold policy 'best'"):
            await build_sft(p.store, policy="best")


async def test_written_set_and_its_hash(gold_project: Path, tmp_path: Path) -> None:
    async with await Project.open(gold_project) as p:
        sft = await build_sft(p.store, policy="first")
    path = tmp_path / "out" / "sft.jsonl"
    digest = write_sft(path, sft.examples)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert write_sft(tmp_path / "again.jsonl", sft.examples) == digest  # deterministic
    rows = read_sft(path)
    assert [r["problem"] for r in rows] == [e.problem_id for e in sft.examples]
    assert set(rows[0]) == {"problem", "candidate_id", "prompt", "completion"}
