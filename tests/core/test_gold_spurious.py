"""A pass flagged `spurious` is not gold by the one gold rule, unless a person overrides it or the
project allows spurious passes (`[gold] allow_spurious`): the view, the per-problem counts kept
by the triggers and the read queries all agree, including after the setting changes."""

from __future__ import annotations

import json
from pathlib import Path

from core.gold import set_gold
from core.project import Project, init_project
from core.queries import candidate_gold, find_candidates, problem_summary
from core.store import connect_sync

T0 = 1_780_000_000.0


def _seed(root: Path) -> None:
    conn = connect_sync(root / "ekt.db")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, imported_at)"
        " VALUES ('g/1', 1, 'gsm8k', 'train', 'answer', 'Tom has 3 apples and buys 4.', '7', ?)",
        (T0,),
    )
    for i, flags in enumerate((["spurious"], [])):
        cur = conn.execute(
            "INSERT INTO candidates(problem_id, source, sample_index, code, code_hash, created_at)"
            " VALUES ('g/1', 'teacher', ?, ?, ?, ?)",
            (i, f"code {i}", f"h{i}", T0),
        )
        conn.execute(
            "INSERT INTO verdicts(candidate_id, status, detail, flags, created_at)"
            " VALUES (?, 'pass', 'ok', ?, ?)",
            (cur.lastrowid, json.dumps(flags), T0),
        )
    conn.execute("COMMIT")
    conn.close()


async def _gold(project: Project) -> tuple[list[int], int]:
    ids = sorted(c.id for c in await find_candidates(project.store, gold_only=True))
    [row] = await problem_summary(project.store)
    return ids, row.gold


async def test_spurious_pass_is_not_gold_unless_allowed_or_overridden(tmp_path: Path) -> None:
    init_project(tmp_path, name="spurious")
    _seed(tmp_path)
    async with await Project.open(tmp_path) as project:
        assert await _gold(project) == ([2], 1)
        assert await candidate_gold(project.store, 1) is False
        assert await set_gold(project, 1, True) is True  # a hand override still wins
        assert await _gold(project) == ([1, 2], 2)
        await set_gold(project, 1, None)
        assert await _gold(project) == ([2], 1)

    toml = tmp_path / "ekt.toml"
    toml.write_text(toml.read_text().replace("allow_spurious = false", "allow_spurious = true"))
    async with await Project.open(tmp_path) as project:
        assert await _gold(project) == ([1, 2], 2)  # counts recomputed with the setting

    toml.write_text(toml.read_text().replace("allow_spurious = true", "allow_spurious = false"))
    async with await Project.open(tmp_path) as project:
        assert await _gold(project) == ([2], 1)


async def test_a_verdict_that_becomes_spurious_leaves_gold_counts_right(tmp_path: Path) -> None:
    init_project(tmp_path, name="spurious")
    _seed(tmp_path)
    async with await Project.open(tmp_path) as project:
        await project.store.execute(
            "UPDATE verdicts SET flags = '[\"spurious\"]' WHERE candidate_id = 2"
        )
        assert await _gold(project) == ([], 0)


async def test_status_counts_spurious_passes(tmp_path: Path) -> None:
    from core.status import project_status

    init_project(tmp_path, name="spurious")
    _seed(tmp_path)
    async with await Project.open(tmp_path) as project:
        status = await project_status(project)
    assert status["spurious"] == 1 and status["untrusted_harness"] == 0
    assert status["gold_problems"] == 1
