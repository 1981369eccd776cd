"""`ekt select` end to end on the tiny model → `ekt sample --selection` order and the `diverse`
gold policy; bad input is one line, non-zero, and writes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from core.cli import cli
from core.gold import select_gold
from core.project import Project
from core.sampling import SampleOptions
from core.sampling.plan import build_plan
from core.store import Store, connect_sync


def ekt(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-p", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def _count(root: Path, table: str) -> int:
    conn = connect_sync(root / "ekt.db")
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_select_then_sample_in_selection_order(gold_project: Path, tiny_model: Path) -> None:
    args = ["select", "--k", "4", "--embedder", str(tiny_model), "--name", "div4", "--json"]
    code, out, err = ekt(gold_project, *args)
    assert code == 0, err
    data = json.loads(out)
    assert data["name"] == "div4" and len(data["ids"]) == 4 and len(set(data["ids"])) == 4
    assert 0 <= data["radius"] <= data["random_radius"] + 1e-6
    all_ids = [f"toy/{i}" for i in range(1, 9)] + ["toy/t1"]
    assert set(data["ids"]) <= set(all_ids)
    assert _count(gold_project, "embeddings") == 9  # every question embedded once

    code, out, err = ekt(gold_project, "select", "--k", "4", "--embedder", str(tiny_model))
    assert code == 0, err
    assert "4 of 9 by question" in out and "radius" in out and "vs random" in out
    assert _count(gold_project, "embeddings") == 9  # the cache served the second selection

    code, out, _ = ekt(gold_project, "select", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["div4", "question-all-k4"]

    async def plan() -> list[str]:
        async with await Project.open(gold_project) as project:
            p = await build_plan(project, SampleOptions(selection="div4", limit=3), write=False)
            return p.problems

    assert asyncio.run(plan()) == data["ids"][:3]


def test_select_from_gold_by_code_and_split(gold_project: Path, tiny_model: Path) -> None:
    code, out, err = ekt(
        gold_project, "select", "--k", "2", "--by", "code", "--from", "gold", "--split", "train",
        "--embedder", str(tiny_model), "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert len(data["ids"]) == 2 and all(i.isdigit() for i in data["ids"])
    code, out, err = ekt(
        gold_project, "select", "--k", "3", "--from", "gold", "--split", "train",
        "--embedder", str(tiny_model), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert all(p.startswith("toy/") and p != "toy/t1" for p in json.loads(out)["ids"])


def test_bad_input_is_one_line_and_writes_nothing(gold_project: Path, tiny_model: Path) -> None:
    for args, needle in [
        (["--k", "0"], "--k 0"),
        (["--k", "10"], "--k 10"),
        (["--k", "2", "--embedder", "no-such-model"], "unknown model"),
        (["--k", "2", "--by", "code", "--from", "unsolved"], "unsolved"),
    ]:
        emb = [] if "--embedder" in args else ["--embedder", str(tiny_model)]
        code, out, err = ekt(gold_project, "select", *args, *emb)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and err.startswith("ekt: error:") and needle in err, err
    assert _count(gold_project, "embeddings") == 0 and _count(gold_project, "selections") == 0
    code, _, err = ekt(gold_project, "sample", "--dry-run", "--selection", "nope")
    assert code == 1 and "no selection named 'nope'" in err


def test_diverse_gold_policy_picks_k_distinct_programs(
    gold_project: Path, tiny_model: Path
) -> None:
    async def go() -> tuple[list, list]:
        async with await Store.open(gold_project / "ekt.db") as store:
            every = await select_gold(store, "all-distinct")
            picked = await select_gold(store, "diverse", 5, embedder=str(tiny_model))
            return every, picked

    every, picked = asyncio.run(go())
    assert len(every) == 12 and len(picked) == 5
    ids = [g.candidate_id for g in picked]
    assert ids == sorted(ids, key=[g.candidate_id for g in every].index)  # original order kept
    assert len(set(ids)) == 5 and set(ids) <= {g.candidate_id for g in every}


def test_train_diverse_needs_k(gold_project: Path, tiny_model: Path) -> None:
    code, _, err = ekt(
        gold_project, "train", "--student", str(tiny_model), "--gold-policy", "diverse"
    )
    assert code == 1 and "diverse needs --k K" in err and err.count("\n") == 1
    assert _count(gold_project, "train_runs") == 0
