"""Reads of problems: the windowed, filtered, sorted problem list with live counts, single
problems, and the problem sets that sampling, prompts and training pick from.

Every list query is windowed (LIMIT/OFFSET over indexed tables): a widget asks for the rows it
shows, never for 150k. Per-problem counts come from the trigger-maintained `problem_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.store.db import Store

_BAD = "(s.error + s.timeout + s.memory + s.syntax + s.crashed + s.output_limit)"


class ProblemFilter(StrEnum):
    ALL = "all"
    SOLVED = "solved"
    UNSOLVED = "unsolved"
    PENDING = "pending"
    UNSAMPLED = "unsampled"
    ERRORS = "errors"


_FILTER_SQL = {
    ProblemFilter.ALL: "1",
    ProblemFilter.SOLVED: "s.gold > 0",
    ProblemFilter.UNSOLVED: "s.gold = 0 AND s.n > 0 AND s.pending = 0",
    ProblemFilter.PENDING: "s.pending > 0",
    ProblemFilter.UNSAMPLED: "s.n = 0",
    ProblemFilter.ERRORS: f"{_BAD} > 0",
}


class ProblemSort(StrEnum):
    ID = "id"
    PASS_RATE = "pass-rate"
    PASS_RATE_DESC = "pass-rate-desc"
    JUDGE_DESC = "judge-desc"


_SORT_SQL = {
    ProblemSort.ID: "p.seq",
    ProblemSort.PASS_RATE: "(CAST(s.pass AS REAL) / MAX(s.n, 1)), p.seq",
    ProblemSort.PASS_RATE_DESC: "(CAST(s.pass AS REAL) / MAX(s.n, 1)) DESC, p.seq",
    # the best latest judge score among the problem's candidates (ekt judge); unjudged last
    ProblemSort.JUDGE_DESC: "coalesce((SELECT max(j.score) FROM judgements j JOIN candidates c"
    " ON c.id = j.candidate_id WHERE c.problem_id = p.id AND j.id IN (SELECT max(id) FROM"
    " judgements GROUP BY candidate_id)), 0) DESC, p.seq",
}


@dataclass(slots=True)
class ProblemRow:
    """One line of the problem list: identity plus live counts.

    Not frozen: 7,473 frozen rows cost ~18 ms to build (object.__setattr__ per field), these ~4.
    """

    id: str
    seq: int
    dataset: str
    question: str
    n: int
    passed: int
    failed: int
    errors: int
    timeouts: int
    other: int
    pending: int
    gold: int

    @property
    def has_gold(self) -> bool:
        return self.gold > 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.n if self.n else 0.0


_ROW_SQL = """
SELECT p.id, p.seq, p.dataset, substr(p.question, 1, 200) AS question, s.n, s.pass, s.fail,
       s.error, s.timeout, (s.memory + s.syntax + s.crashed + s.output_limit) AS other,
       s.pending, s.gold
FROM problems p JOIN problem_stats s ON s.problem_id = p.id
"""


def _where(
    flt: ProblemFilter, search: str, ids: Sequence[str] | None = None
) -> tuple[str, list[Any]]:
    clauses, params = [_FILTER_SQL[ProblemFilter(flt)]], []
    if ids is not None:  # a stored selection (ekt select) shown as a filter
        clauses.append(f"p.id IN ({','.join('?' * len(ids))})" if ids else "0")
        params += list(ids)
    if search:
        clauses.append("(p.id LIKE ? ESCAPE '\\' OR p.question LIKE ? ESCAPE '\\')")
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    return " AND ".join(clauses), params


def _row(r: Any) -> ProblemRow:
    return ProblemRow(*r)  # column order matches the dataclass


async def list_problems(
    store: Store,
    *,
    flt: ProblemFilter = ProblemFilter.ALL,
    search: str = "",
    sort: ProblemSort = ProblemSort.ID,
    offset: int = 0,
    limit: int = 100,
    ids: Sequence[str] | None = None,
) -> list[ProblemRow]:
    """The window [offset, offset + limit) of the filtered, sorted problem list (of `ids`)."""
    where, params = _where(flt, search, ids)
    sql = f"{_ROW_SQL} WHERE {where} ORDER BY {_SORT_SQL[ProblemSort(sort)]} LIMIT ? OFFSET ?"
    return [_row(r) for r in await store.fetchall(sql, [*params, limit, offset])]


async def count_problems(
    store: Store,
    *,
    flt: ProblemFilter = ProblemFilter.ALL,
    search: str = "",
    ids: Sequence[str] | None = None,
) -> int:
    where, params = _where(flt, search, ids)
    sql = (
        f"SELECT count(*) FROM problems p JOIN problem_stats s ON s.problem_id = p.id WHERE {where}"
    )
    return int(await store.scalar(sql, params))


async def problem_summary(store: Store) -> list[ProblemRow]:
    """Every problem with its counts (candidates, pass, fail, error, timeout, pending, gold)."""
    return [_row(r) for r in await store.fetchall(f"{_ROW_SQL} ORDER BY p.seq")]


async def problem_count(store: Store) -> int:
    return int(await store.scalar("SELECT count(*) FROM problems"))


async def problem_splits(store: Store) -> list[str]:
    return [r[0] for r in await store.fetchall("SELECT DISTINCT split FROM problems")]


async def problem_kinds(store: Store) -> list[str]:
    return [r[0] for r in await store.fetchall("SELECT DISTINCT kind FROM problems")]


async def most_common_kind(store: Store) -> str | None:
    """The kind most problems have (None in an empty project)."""
    return await store.scalar(
        "SELECT kind FROM problems GROUP BY kind ORDER BY count(*) DESC LIMIT 1"
    )


async def get_problem(store: Store, problem_id: str) -> dict[str, Any] | None:
    """Every column of one problem, or None."""
    row = await store.fetchone("SELECT * FROM problems WHERE id = ?", [problem_id])
    return None if row is None else dict(row)


async def problems_by_ids(store: Store, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{id: every column} of the problems among `ids` that exist."""
    out: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        sql = f"SELECT * FROM problems WHERE id IN ({','.join('?' * len(chunk))})"
        out.update({r["id"]: dict(r) for r in await store.fetchall(sql, chunk)})
    return out


async def existing_problem_ids(store: Store, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    rows = await store.fetchall(
        f"SELECT id FROM problems WHERE id IN ({','.join('?' * len(ids))})", list(ids)
    )
    return {r[0] for r in rows}


async def problems_to_sample(
    store: Store,
    *,
    split: str | None = None,
    unsolved_only: bool = False,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Problems (every column) in import order: of one split, without gold, among `ids`."""
    where, params = [], []
    if split is not None:
        where.append("p.split = ?")
        params.append(split)
    if unsolved_only:
        where.append("coalesce(s.gold, 0) = 0")
    if ids is not None:
        where.append(f"p.id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    sql = "SELECT p.* FROM problems p LEFT JOIN problem_stats s ON s.problem_id = p.id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY p.seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in await store.fetchall(sql, params)]


async def first_problem_of_kind(store: Store, kinds: tuple[str, ...]) -> dict[str, Any] | None:
    marks = ",".join("?" * len(kinds))
    row = await store.fetchone(
        f"SELECT * FROM problems WHERE kind IN ({marks}) ORDER BY seq LIMIT 1", list(kinds)
    )
    return None if row is None else dict(row)


async def pick_problems(
    store: Store, kinds: tuple[str, ...], first: str | None = None, k: int = 5
) -> list[str]:
    """`k` problems to try a prompt on: `first` (the one in the preview), then unsolved ones
    of the prompt's kinds in import order (solved ones only when too few are unsolved)."""
    marks = ",".join("?" * len(kinds))
    rows = await store.fetchall(
        f"SELECT p.id FROM problems p LEFT JOIN problem_stats s ON s.problem_id = p.id"
        f" WHERE p.kind IN ({marks}) ORDER BY p.id = ? DESC, coalesce(s.gold, 0) > 0, p.seq"
        " LIMIT ?",
        [*kinds, first or "", k],
    )
    return [r[0] for r in rows]


async def problem_questions(store: Store, kind: str | None = None) -> list[tuple[str, str]]:
    """(id, question) of every problem (of one kind) in import order."""
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    rows = await store.fetchall(f"SELECT id, question FROM problems {where} ORDER BY seq", params)
    return [(r[0], r[1]) for r in rows]


async def stored_problem_contents(conn: Any, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Inside the importer's transaction: {id: (kind, question, answer, tests, setup,
    entry_point, prompt)} of the given problems that are stored (to compare with a re-import)."""
    sql = (
        "SELECT id, kind, question, answer, tests, setup, entry_point, prompt"
        f" FROM problems WHERE id IN ({','.join('?' * len(ids))})"
    )
    async with conn.execute(sql, list(ids)) as cur:
        return {r[0]: tuple(r[1:]) for r in await cur.fetchall()}


async def last_problem_seq(conn: Any) -> int:
    """Inside the importer's transaction: the highest import sequence number so far."""
    async with conn.execute("SELECT coalesce(max(seq), 0) FROM problems") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
