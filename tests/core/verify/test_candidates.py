"""core.candidates: normalised hashes, idempotent inserts, hand edits, gold overrides."""

from __future__ import annotations

import pytest

from core.candidates import (
    NewCandidate,
    add_edit,
    code_hash,
    insert_candidates,
    normalise_code,
    set_gold_override,
)
from core.errors import StoreError
from core.project import Project


def test_hash_ignores_comments_blank_lines_and_trailing_spaces() -> None:
    a = "def solution():\n    x = 1\n    return x\n"
    b = "# PAL\ndef solution():   \n\n    x = 1  # one\n    return x\n\n"
    assert code_hash(a) == code_hash(b)
    assert normalise_code(b) == a.rstrip("\n")


def test_hash_keeps_strings_and_indentation() -> None:
    assert code_hash("s = '# not a comment'\n") != code_hash("s = ''\n")
    assert code_hash("if x:\n    y\nz\n") != code_hash("if x:\n    y\n    z\n")


def test_hash_of_untokenizable_code_still_works() -> None:
    assert code_hash("def f(:\n  '''unterminated") != code_hash("x")


async def test_insert_is_idempotent_on_run_problem_sample(project: Project) -> None:
    items = [
        NewCandidate("g1", "teacher", "def solution():\n    return 18\n", run_id=1, sample_index=i)
        for i in range(3)
    ]
    first = await insert_candidates(project.store, items)
    again = await insert_candidates(project.store, [*items, items[0]])
    assert len(set(first)) == 3
    assert again == [*first, first[0]]
    assert await project.store.scalar("SELECT count(*) FROM candidates") == 3
    assert await project.store.scalar("SELECT n FROM problem_stats WHERE problem_id='g1'") == 3


async def test_unkeyed_inserts_get_their_own_ids(project: Project) -> None:
    ids = await insert_candidates(
        project.store, [NewCandidate("g1", "student", "x"), NewCandidate("g1", "student", "x")]
    )
    assert len(set(ids)) == 2


async def test_insert_rejects_bad_rows_whole(project: Project) -> None:
    with pytest.raises(StoreError, match="unknown source"):
        await insert_candidates(project.store, [NewCandidate("g1", "oracle", "x")])
    good = NewCandidate("g1", "teacher", "x", run_id=1, sample_index=0)
    with pytest.raises(StoreError, match="cannot insert candidates"):
        await insert_candidates(
            project.store, [good, NewCandidate("nope", "teacher", "x", run_id=1, sample_index=0)]
        )
    assert await project.store.scalar("SELECT count(*) FROM candidates") == 0


async def test_add_edit_and_gold_override(project: Project) -> None:
    (cid,) = await insert_candidates(
        project.store, [NewCandidate("g1", "teacher", "bad", run_id=1, sample_index=0)]
    )
    edit = await add_edit(project.store, cid, "def solution():\n    return 18\n")
    row = await project.store.fetchone("SELECT * FROM candidates WHERE id = ?", (edit,))
    assert (row["source"], row["parent_id"], row["run_id"]) == ("edit", cid, 1)
    assert row["code_hash"] == code_hash("def solution():\n    return 18\n")

    await set_gold_override(project.store, cid, True)
    gold = "SELECT count(*) FROM gold_candidates"
    assert await project.store.scalar(gold) == 1
    await set_gold_override(project.store, cid, None)
    assert await project.store.scalar(gold) == 0
    with pytest.raises(StoreError, match="candidate 999: no such candidate"):
        await set_gold_override(project.store, 999, True)
    with pytest.raises(StoreError, match="candidate 999: no such candidate"):
        await add_edit(project.store, 999, "x")
