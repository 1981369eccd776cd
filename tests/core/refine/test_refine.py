"""Refine runs end to end against the fake teacher: stored, verified, gold, idempotent."""

from __future__ import annotations

from typing import Any

from core.project import Project
from core.refine import RefineOptions, refine
from tests.core.refine.conftest import sent, teacher
from tests.fake_openai import FakeOpenAIServer


def opts(srv: FakeOpenAIServer, **kw: Any) -> RefineOptions:
    kw.setdefault("sampling", {"n": 2, "verify": True})
    return RefineOptions(teacher=teacher(srv), **kw)


async def test_refine_run_stores_verifies_and_makes_gold(
    failing: Project, server: FakeOpenAIServer
) -> None:
    store = failing.store
    parents = await store.fetchall(
        "SELECT c.id, c.problem_id FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE v.status != 'pass' ORDER BY c.id"
    )
    assert len(parents) == 6
    summary = await refine(failing, opts(server))
    assert summary.state == "done" and summary.samples == 12 and summary.requests_done == 6
    rows = await store.fetchall(
        "SELECT c.parent_id, c.feedback_id, c.source, v.status, f.author, f.candidate_id"
        " FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
        " JOIN feedback f ON f.id = c.feedback_id WHERE c.run_id = ?",
        (summary.run_id,),
    )
    assert len(rows) == 12
    assert all(r["source"] == "refine" and r["author"] == "execution" for r in rows)
    assert all(r["parent_id"] == r["candidate_id"] for r in rows)
    # the fake fixes two of the three problems on even choices: 2 problems × 2 parents × 1
    assert sum(r["status"] == "pass" for r in rows) == 4
    gold = await store.fetchall("SELECT source FROM gold_candidates")
    assert [g["source"] for g in gold] == ["refine"] * 4
    server.clear()
    again = await refine(failing, opts(server))
    assert sent(server) == [] and again.samples == 0 and again.run_id == summary.run_id


async def test_growing_n_sends_only_the_missing_refinements(
    failing: Project, server: FakeOpenAIServer
) -> None:
    first = await refine(failing, opts(server, sampling={"n": 1, "verify": False}, limit=2))
    server.clear()
    grown = await refine(
        failing, opts(server, sampling={"n": 3, "verify": False}, limit=2, run=first.name)
    )
    assert sorted(b["n"] for b in sent(server)) == [2, 2] and grown.samples == 4


async def test_gold_sources_choose_what_enters_the_sft_set_and_label_the_method(
    failing: Project, server: FakeOpenAIServer
) -> None:
    import pytest

    from core.config import VerifierSection
    from core.errors import TrainError
    from core.train.lineage import gold_lineage
    from core.train.sft import build_sft

    await refine(failing, opts(server))
    sft = await build_sft(failing.store, sources=["teacher", "edit", "refine"])
    # 4 passing refinements, 2 distinct programs (all-distinct policy)
    assert len(sft.examples) == 2 and {g.source for g in sft.gold} == {"refine"}
    with pytest.raises(TrainError, match="no gold yet"):
        await build_sft(failing.store, sources=["teacher", "edit"])
    lineage = await gold_lineage(
        failing.store, sft.gold, policy=sft.policy, k=sft.k, sft_hash="h",
        verifier=VerifierSection(), base_model="tiny", dev_ids=[],
        gold_sources=["teacher", "edit", "refine"],
    )  # fmt: skip
    assert lineage["method"] == "ekt+ilf" and lineage["sources"] == {"refine": 2}
    assert lineage["gold_sources"] == ["teacher", "edit", "refine"]
    assert [r["sampling"]["method"] for r in lineage["runs"]] == ["refine"]
