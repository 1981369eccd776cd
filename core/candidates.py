"""Candidate programs in the store: insert (idempotent), hand edits, gold overrides, code hashes.

`candidates.code` is always a complete program; `code_hash` identifies programs that differ only
in comments, blank lines or trailing spaces, so the verifier runs each distinct program once per
problem and shares the verdict.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import time
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from core.errors import StoreError
from core.queries.candidates import candidate_origin, keyed_candidate_ids
from core.store import Store

SOURCES = ("teacher", "student", "edit", "refine")


def normalise_code(code: str) -> str:
    """Comments, blank lines and trailing spaces removed (indentation and strings kept).

    Uses the tokenizer so `#` inside a string is not a comment; falls back to a line-based
    cleanup for code that does not tokenize (it will get a syntax verdict anyway)."""
    lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    try:
        comments = [
            tok.start
            for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
            if tok.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        comments = []
    for row, col in comments:
        lines[row - 1] = lines[row - 1][:col]
    return "\n".join(line.rstrip() for line in lines if line.strip())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class NewCandidate:
    problem_id: str
    source: str
    code: str
    raw: str | None = None
    run_id: int | None = None
    eval_id: int | None = None
    request_id: int | None = None
    sample_index: int | None = None
    parent_id: int | None = None


_COLS = (
    "problem_id, source, parent_id, run_id, eval_id, request_id, sample_index, code, raw,"
    " code_hash, created_at"
)


async def insert_candidates(store: Store, items: Sequence[NewCandidate]) -> list[int]:
    """Insert in one transaction; rows that already exist (same run/eval, problem, sample index)
    are kept as they are and their ids returned, so a resumed run can re-insert safely."""
    if not items:
        return []
    for item in items:
        if item.source not in SOURCES:
            raise StoreError(f"candidate for {item.problem_id}: unknown source {item.source!r}")
    now = time.time()
    rows = [
        (
            c.problem_id, c.source, c.parent_id, c.run_id, c.eval_id, c.request_id,
            c.sample_index, c.code, c.raw, code_hash(c.code), now,
        )
        for c in items
    ]  # fmt: skip
    keyed = [i for i, c in enumerate(items) if _key(c) is not None]
    ids: list[int | None] = [None] * len(items)
    sql = f"INSERT INTO candidates({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
    async with store.transaction() as conn:
        try:
            await conn.executemany(sql, [rows[i] for i in keyed])
            for i, c in enumerate(items):  # unkeyed rows (rare: manual adds) never conflict
                if _key(c) is None:
                    ids[i] = (await conn.execute(sql, rows[i])).lastrowid
            found = await _keyed_ids(conn, [items[i] for i in keyed])
        except sqlite3.Error as exc:  # e.g. a problem id that does not exist
            raise StoreError(f"cannot insert candidates: {exc}") from exc
    for i in keyed:
        ids[i] = found[_key(items[i])]  # type: ignore[index]
    return [int(x) for x in ids]  # type: ignore[arg-type]


def _key(c: NewCandidate) -> tuple[str, int, str, int] | None:
    if c.sample_index is None:
        return None
    if c.run_id is not None:
        return ("run_id", c.run_id, c.problem_id, c.sample_index)
    if c.eval_id is not None:
        return ("eval_id", c.eval_id, c.problem_id, c.sample_index)
    return None


async def _keyed_ids(
    conn: aiosqlite.Connection, items: Sequence[NewCandidate]
) -> dict[tuple[str, int, str, int], int]:
    """Ids of rows by their unique key: one query per (run or eval, 500 problems)."""
    groups: dict[tuple[str, int], set[str]] = {}
    for c in items:
        col, owner, problem, _ = _key(c)  # type: ignore[misc]
        groups.setdefault((col, owner), set()).add(problem)
    found: dict[tuple[str, int, str, int], int] = {}
    for (col, owner), problems in groups.items():
        for (problem, index), cid in (
            await keyed_candidate_ids(conn, col, owner, problems)
        ).items():
            found[(col, owner, problem, index)] = cid
    return found


async def add_edit(store: Store, parent_id: int, code: str) -> int:
    """A hand-edited copy of a candidate (source 'edit'): same problem and run, new id."""
    parent = await candidate_origin(store, parent_id)
    if parent is None:
        raise StoreError(f"candidate {parent_id}: no such candidate")
    problem_id, run_id = parent
    return await store.execute(
        f"INSERT INTO candidates({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            problem_id, "edit", parent_id, run_id, None, None, None,
            code, None, code_hash(code), time.time(),
        ),
    )  # fmt: skip


async def set_gold_override(store: Store, candidate_id: int, value: bool | None) -> None:
    """Force a candidate into (True) or out of (False) gold; None returns it to its verdict."""
    async with store.transaction() as conn:
        cur = await conn.execute(
            "UPDATE candidates SET gold_override = ? WHERE id = ?",
            (None if value is None else int(value), candidate_id),
        )
        if cur.rowcount == 0:
            raise StoreError(f"candidate {candidate_id}: no such candidate")
