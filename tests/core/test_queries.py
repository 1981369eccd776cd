"""The read model: a run's identity stored once (run_prompts, migrated from v1 stores), the
training lineage of a mixed-kind run, and the query functions whose shape is new."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from core.config import VerifierSection
from core.gold import select_gold, set_gold, toggle_gold
from core.project import Project, init_project
from core.queries import (
    candidate_gold,
    find_candidates,
    get_candidate,
    list_evals,
    prompt_yields,
    run_by_name,
    run_core,
    teacher_label,
)
from core.store import SCHEMA_VERSION, Store, connect_sync
from core.store.schema import MIGRATIONS
from core.train.lineage import gold_lineage

T0 = 1_780_000_000.0
TEACHER = {"description": "openai:big@http://x/v1", "config": {"model": "big"}}


def _problems(conn: sqlite3.Connection) -> None:
    conn.executemany(
        "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, tests,"
        " imported_at) VALUES (?, ?, ?, 'train', ?, ?, ?, ?, ?)",
        [
            ("g/1", 1, "gsm8k", "answer", "1 + 1?", "2", None, T0),
            ("g/2", 2, "gsm8k", "answer", "2 + 2?", "4", None, T0),
            ("m/1", 3, "mbpp", "asserts", "write f", None, '["assert f() == 1"]', T0),
        ],
    )
    conn.executemany(
        "INSERT INTO prompts(id, name, version, template, created_at) VALUES (?, ?, 1, ?, ?)",
        [(1, "gsm8k", "Q: {{question}}\ndef solution():", T0), (2, "mbpp", "{{question}}", T0)],
    )


def _candidates(conn: sqlite3.Connection, run_id: int) -> None:
    """g/1: a pass and a fail; m/1: a pass; g/2: a fail."""
    rows = [("g/1", 0, "pass"), ("g/1", 1, "fail"), ("m/1", 0, "pass"), ("g/2", 0, "fail")]
    for i, (pid, idx, status) in enumerate(rows):
        cur = conn.execute(
            "INSERT INTO candidates(problem_id, source, run_id, sample_index, code, code_hash,"
            " created_at) VALUES (?, 'teacher', ?, ?, ?, ?, ?)",
            (pid, run_id, idx, f"code {i}", f"h{i}", T0),
        )
        conn.execute(
            "INSERT INTO verdicts(candidate_id, status, detail, created_at) VALUES (?, ?, ?, ?)",
            (cur.lastrowid, status, f"detail {i}", T0),
        )
    conn.executemany(
        "INSERT INTO requests(run_id, problem_id, first_index, n, status, prompt_tokens,"
        " completion_tokens, cost_usd, started_at, finished_at)"
        " VALUES (?, ?, 0, 2, 'done', 10, 5, 0.001, ?, ?)",
        [(run_id, p, T0, T0 + 1) for p in ("g/1", "g/2", "m/1")],
    )


def _v1_store(path: Path) -> None:
    """A store as ekt wrote it at schema v1: runs.prompt_id for a one-prompt run,
    params.prompts + params.prompt_labels for a run of several kinds."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("BEGIN;\n" + MIGRATIONS[0] + "\nPRAGMA user_version = 1;\nCOMMIT;")
    conn.execute("BEGIN")
    _problems(conn)
    mixed = {"n": 2, "prompts": {"answer": 1, "asserts": 2},
             "prompt_labels": {"answer": "gsm8k@v1", "asserts": "mbpp@v1"}}  # fmt: skip
    conn.execute(
        "INSERT INTO runs(id, name, prompt_id, teacher, params, status, created_at, updated_at)"
        " VALUES (1, 'mixed', NULL, ?, ?, 'done', ?, ?)",
        (json.dumps(TEACHER), json.dumps(mixed), T0, T0),
    )
    conn.execute(
        "INSERT INTO runs(id, name, prompt_id, teacher, params, status, created_at, updated_at)"
        " VALUES (2, 'old', 1, ?, ?, 'done', ?, ?)",
        (json.dumps({"backend": "openai", "model": "small"}), json.dumps({"n": 1}), T0, T0),
    )
    _candidates(conn, 1)
    conn.execute(
        "INSERT INTO requests(run_id, problem_id, first_index, n, status) VALUES (2, 'g/2', 0, 1,"
        " 'done')"
    )
    conn.execute("COMMIT")
    conn.close()


async def test_a_v1_store_migrates_run_identity_into_run_prompts(tmp_path: Path) -> None:
    db = tmp_path / "ekt.db"
    _v1_store(db)
    conn = connect_sync(db)  # migrates
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
        cols = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        assert "prompt_id" not in cols
        params = {r[0]: json.loads(r[1]) for r in conn.execute("SELECT id, params FROM runs")}
        assert params == {1: {"n": 2}, 2: {"n": 1}}
        gold = sorted(r[0] for r in conn.execute("SELECT problem_id FROM gold_candidates"))
        assert gold == ["g/1", "m/1"]
    finally:
        conn.close()
    async with await Store.open(db, readonly=True) as store:
        mixed = await run_by_name(store, "mixed")
        old = await run_by_name(store, "old")
        assert mixed is not None and old is not None
        assert {k: p.label for k, p in mixed.prompts.items()} == {
            "answer": "gsm8k@v1",
            "asserts": "mbpp@v1",
        }
        assert {k: p.label for k, p in old.prompts.items()} == {"answer": "gsm8k@v1"}
        stats = await run_core(store, 1, T0 + 2)
        assert stats is not None
        assert stats.prompt == "gsm8k@v1, mbpp@v1" and stats.teacher == "openai:big@http://x/v1"
        assert (stats.problems_total, stats.problems_sampled, stats.tokens_in) == (3, 3, 30)


def test_teacher_label_is_built_in_one_place() -> None:
    assert teacher_label(json.dumps(TEACHER)) == "openai:big@http://x/v1"
    assert teacher_label({"backend": "openai", "model": "m", "base_url": "http://h"}) == (
        "openai:m @ http://h"
    )
    assert teacher_label({"backend": "local", "model": "smollm2"}) == "local:smollm2"
    assert teacher_label("not json") == "?"


@pytest.fixture
async def project(tmp_path: Path) -> Project:
    """A v2 project with one run of two kinds (gsm8k@v1 for answer, mbpp@v1 for asserts)."""
    init_project(tmp_path, name="queries")
    conn = connect_sync(tmp_path / "ekt.db")
    conn.execute("BEGIN")
    _problems(conn)
    conn.execute(
        "INSERT INTO runs(id, name, teacher, params, status, created_at, updated_at)"
        " VALUES (1, 'mixed', ?, '{\"n\": 2}', 'done', ?, ?)",
        (json.dumps(TEACHER), T0, T0),
    )
    conn.executemany(
        "INSERT INTO run_prompts(run_id, kind, prompt_id) VALUES (1, ?, ?)",
        [("answer", 1), ("asserts", 2)],
    )
    _candidates(conn, 1)
    conn.execute("COMMIT")
    conn.close()
    p = await Project.open(tmp_path)
    yield p
    await p.close()


async def test_the_lineage_of_a_mixed_kind_run_records_all_its_prompts(project: Project) -> None:
    gold = await select_gold(project.store, "all-distinct")
    assert sorted(g.problem_id for g in gold) == ["g/1", "m/1"]
    lin = await gold_lineage(
        project.store, gold, policy="all-distinct", k=4, sft_hash="x",
        verifier=VerifierSection(), base_model="tiny", dev_ids=[],
    )  # fmt: skip
    assert lin["prompts"] == ["gsm8k@v1", "mbpp@v1"]
    assert lin["prompt_ids"] == [1, 2] and lin["prompt_id"] is None
    assert lin["teacher"] == "big"
    (run,) = lin["runs"]
    assert run["prompts"] == ["gsm8k@v1", "mbpp@v1"] and run["gold"] == 2
    assert run["prompt_ids"] == {"answer": 1, "asserts": 2}


async def test_prompt_yields_count_only_the_kind_each_version_sampled(project: Project) -> None:
    (g,) = await prompt_yields(project.store, "gsm8k")
    (m,) = await prompt_yields(project.store, "mbpp")
    assert (g.runs, g.candidates, g.passed, g.problems, g.gold_problems) == (1, 3, 1, 2, 1)
    assert (m.runs, m.candidates, m.passed, m.problems, m.gold_problems) == (1, 1, 1, 1, 1)
    assert g.gold_coverage == 0.5 and m.pass_rate == 1.0


async def test_gold_follows_the_one_rule_through_overrides(project: Project) -> None:
    store = project.store
    passing = [c.id for c in await find_candidates(store, gold_only=True)]
    assert len(passing) == 2
    failing = next(c for c in await find_candidates(store, status="fail", problem_id="g/2"))
    assert failing.gold is False and failing.v_status == "fail"
    assert await set_gold(project, failing.id, True) is True
    assert await candidate_gold(store, failing.id) is True
    assert (await get_candidate(store, failing.id) or {})["gold"] == 1
    assert failing.id in [c.id for c in await find_candidates(store, gold_only=True)]
    # unmarking a hand-approved one returns it to its verdict
    assert await toggle_gold(project, failing.id) is False
    assert (await get_candidate(store, failing.id) or {})["gold_override"] is None
    # unmarking a passing one forces it out
    assert await toggle_gold(project, passing[0]) is False
    assert await candidate_gold(store, passing[0]) is False
    assert len(await find_candidates(store, gold_only=True)) == 1
    assert await candidate_gold(store, 10_000) is None


async def test_list_evals_decodes_params_and_results(project: Project) -> None:
    await project.store.execute(
        "INSERT INTO evals(name, model, method, prompt_id, split, params, status, results,"
        " created_at, updated_at) VALUES ('e1', 'm', 'few-shot', 1, 'test', '{\"k\": [1]}',"
        " 'done', '{\"problems\": 3}', ?, ?)",
        (T0, T0),
    )
    (e,) = await list_evals(project.store, done_only=True)
    assert (e.name, e.params, e.results, e.prompt_name, e.prompt_version) == (
        "e1", {"k": [1]}, {"problems": 3}, "gsm8k", 1,
    )  # fmt: skip
    assert e.as_dict()["results"] == {"problems": 3} and e.teacher == ""
