"""Training methods: the KD and expert-iteration SFT sets, `--preview --json`, and rounds of a
tiny model whose lineage links each round to the one before (the student's sampling scripted)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.candidates import code_hash
from core.cli import cli
from core.config import StudentSection
from core.errors import TrainError
from core.project import Project
from core.prompts import RenderedPrompt
from core.store import connect_sync
from core.train import TrainOptions, resolve_options, run_checkpoints
from core.train.methods import METHODS, RoundContext, build_method_sft, get_method, parses
from core.train.rounds import run_rounds
from tests.core.train.conftest import T0, gold_code


def add_teacher_samples(root: Path) -> None:
    """Beside the passing gold: a failing, an unverified and a syntax-error teacher sample."""
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute("BEGIN")
        rows = [("toy/1", "def solution():\n    return 0\n", "fail"),
                ("toy/2", "def solution():\n    return 7\n", None),
                ("toy/3", "def solution(:\n    return\n", "syntax")]  # fmt: skip
        for i, (pid, code, status) in enumerate(rows):
            cur = conn.execute(
                "INSERT INTO candidates(problem_id, source, run_id, sample_index, code, code_hash,"
                " created_at) VALUES (?, 'teacher', 1, ?, ?, ?, ?)",
                (pid, 10 + i, code, code_hash(code), T0 + 100 + i),
            )
            if status:
                conn.execute(
                    "INSERT INTO verdicts(candidate_id, status, created_at) VALUES (?, ?, ?)",
                    (cur.lastrowid, status, T0),
                )
        conn.execute("COMMIT")
    finally:
        conn.close()


def add_student_eval(root: Path, programs: dict[str, list[tuple[str, str]]]) -> int:
    """An evaluation of the student on the train split: {problem: [(code, verdict)]}."""
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute("BEGIN")
        eval_id = conn.execute(
            "INSERT INTO evals(name, model, method, teacher, split, status, params, created_at,"
            " updated_at) VALUES ('self-1', 'sft-1@step2', 'expert-iteration', '', 'train',"
            " 'done', '{}', ?, ?)",
            (T0, T0),
        ).lastrowid
        for pid, items in programs.items():
            for i, (code, status) in enumerate(items):
                cur = conn.execute(
                    "INSERT INTO candidates(problem_id, source, eval_id, sample_index, code,"
                    " code_hash, created_at) VALUES (?, 'student', ?, ?, ?, ?, ?)",
                    (pid, eval_id, i, code, code_hash(code), T0 + 200 + i),
                )
                conn.execute(
                    "INSERT INTO verdicts(candidate_id, status, created_at) VALUES (?, ?, ?)",
                    (cur.lastrowid, status, T0),
                )
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert eval_id is not None
    return int(eval_id)


def section(**kw: object) -> StudentSection:
    return StudentSection(**{"gold_policy": "all-distinct", "max_per_problem": 4, **kw})


async def test_registry_names_every_method_choice() -> None:
    choices = StudentSection.model_fields["method"].annotation.__args__  # type: ignore[union-attr]
    assert set(choices) <= set(METHODS)
    assert get_method("kd").label == "kd" and get_method("ekt").label == "ekt-sft"
    with pytest.raises(TrainError, match="unknown training method 'nope'"):
        get_method("nope")
    assert parses("x = 1\n") and not parses("def f(:\n")


async def test_kd_trains_on_every_teacher_sample(gold_project: Path) -> None:
    add_teacher_samples(gold_project)
    async with await Project.open(gold_project) as p:
        ekt = await build_method_sft(p.store, section())
        kd = await build_method_sft(p.store, section(method="kd"))
        dropped = await build_method_sft(p.store, section(method="kd", kd_drop_syntax=True))
    assert len(ekt.examples) == 12  # the gold only
    assert len(kd.examples) == 15  # gold + failing + unverified + syntax error
    statuses = sorted({g.status for g in kd.gold})
    assert statuses == ["fail", "pass", "syntax", "unverified"]
    assert len(dropped.examples) == 14 and "syntax" not in {g.status for g in dropped.gold}
    assert kd.policy == "all-samples"


async def test_kd_has_no_rounds_and_needs_samples(tmp_path: Path) -> None:
    from tests.core.train.conftest import make_gold_project

    root = make_gold_project(tmp_path / "empty", with_gold=False)
    async with await Project.open(root) as p:
        with pytest.raises(TrainError, match="no teacher samples yet"):
            await build_method_sft(p.store, section(method="kd"))
        with pytest.raises(TrainError, match="method kd trains in one round"):
            await build_method_sft(p.store, section(method="kd", rounds=2))


async def test_expert_iteration_adds_the_students_own_passing_programs(gold_project: Path) -> None:
    own = "def solution():\n    return 4 + 2 - 0\n"
    eval_id = add_student_eval(gold_project, {
        "toy/4": [(own, "pass"), (own, "pass"), ("def solution():\n    return 1\n", "fail")],
        "toy/2": [(gold_code(2), "pass")],  # the teacher's gold already holds it
    })  # fmt: skip
    async with await Project.open(gold_project) as p:
        base = await build_method_sft(p.store, section(method="expert-iteration"))
        ctx = RoundContext(round=2, rounds=2, self_evals=(eval_id,))
        grown = await build_method_sft(p.store, section(method="expert-iteration"), ctx)
        held = await build_method_sft(p.store, section(method="expert-iteration", dev=4), ctx)
    added = [g for g in grown.gold if g.source == "student"]
    assert len(grown.examples) == len(base.examples) + 1  # one distinct new program
    assert [(g.problem_id, g.code) for g in added] == [("toy/4", own)]
    assert grown.examples[-1].completion == "\n    return 4 + 2 - 0\n"
    assert not [g for g in held.gold if g.problem_id in set(held.dev_ids)]


def ekt(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-p", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_preview_json_for_every_method(gold_project: Path, tiny_model: Path) -> None:
    add_teacher_samples(gold_project)
    seen = {}
    for method in ("ekt", "kd", "expert-iteration"):
        code, out, err = ekt(gold_project, "train", "--preview", "--json", "--method", method,
                             "--student", str(tiny_model))  # fmt: skip
        assert code == 0, err
        info = json.loads(out)
        assert info["tasks"] == {"code": info["examples"]} and info["tokens"] > 0
        assert info["exact"] and info["method"] == method
        seen[method] = info["examples"]
    assert seen == {"ekt": 12, "kd": 15, "expert-iteration": 12}
    code, out, _ = ekt(gold_project, "train", "--preview", "--method", "kd", "--kd-drop-syntax")
    assert code == 0 and out.startswith("kd: 14 examples (code 14) on 8 problems")
    assert not (gold_project / "checkpoints").exists()  # nothing trained, nothing written


class SelfSampler:
    """The student's round sampling, scripted: a right, new program for every toy problem."""

    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, prompts: Sequence[RenderedPrompt], n: int) -> list[list[str]]:
        self.calls += 1
        out = []
        for p in prompts:
            i = int(p.text.split("Tom has ")[1].split()[0]) if "Tom has " in p.text else 3
            out.append([f"\n    base = {i}\n    return base + 2\n"] * n)
        return out


async def test_expert_iteration_rounds_link_their_lineage(gold_project: Path, tiny_model: Path,
                                                         ) -> None:  # fmt: skip
    sampler = SelfSampler()

    @contextlib.asynccontextmanager
    async def gen() -> AsyncIterator[SelfSampler]:
        yield sampler

    options = TrainOptions(name="ei", student=str(tiny_model), method="expert-iteration",
                           rounds=2, round_samples=2, max_steps=2, batch_size=4, max_length=64,
                           lr=1e-3)  # fmt: skip
    heard: list[str] = []
    async with await Project.open(gold_project) as p:
        assert resolve_options(p.config, options).rounds == 2
        ids = await run_rounds(p, options, generator=gen, poll_s=0.1,
                               on_round=lambda what, info: heard.append(what))  # fmt: skip
        first = (await run_checkpoints(p.store, ids[0]))[-1]
        second = (await run_checkpoints(p.store, ids[1]))[-1]
        rows = await p.store.fetchall("SELECT name, split, method FROM evals")
    assert heard == ["launched", "sampling", "sampled", "launched"] and sampler.calls >= 1
    assert [tuple(r) for r in rows] == [("ei-r1-self", "train", "expert-iteration")]
    a, b = first["lineage"], second["lineage"]
    assert (a["method"], a["round"], a["rounds"], a["chain"]) == ("expert-iteration", 1, 2, "ei")
    assert a["previous_run"] is None and a["own_programs"] == 0
    assert (b["round"], b["train_run"]) == (2, "ei-r2")
    assert b["previous_run"]["id"] == ids[0] and b["previous_run"]["name"] == "ei-r1"
    assert b["previous_run"]["checkpoint"] == first["path"]
    assert b["init_model"] == first["path"]  # continuing (no --ei-restart)
    assert [e["name"] for e in b["self_evals"]] == ["ei-r1-self"]
    assert b["self_evals"][0]["passing"] == 16  # 8 train problems x 2 samples, all right
    assert b["own_programs"] == 8  # one distinct new program per problem
    assert b["sft_examples"] == a["sft_examples"] + 8
    sft = Path(second["path"]).parent / "sft.jsonl"
    assert sum("base = " in line for line in sft.read_text().splitlines()) == 8


async def test_a_single_launch_refuses_rounds(gold_project: Path) -> None:
    """Rounds need the loop (`ekt train --rounds`); the TUI's one-run launch says so."""
    from core.train import launch

    async with await Project.open(gold_project) as p:
        with pytest.raises(TrainError, match="--rounds 2: rounds train one after another"):
            await launch(p, TrainOptions(rounds=2, method="expert-iteration"))
        assert await p.store.scalar("SELECT count(*) FROM train_runs") == 0
