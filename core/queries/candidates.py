"""Reads of candidates: a problem's candidates (windowed) with their verdicts and gold, one
candidate in full, filtered listings for `ekt candidates`, and the id look-ups that writers do
inside their own transaction (those take the transaction's connection, `conn`).

`gold` is always computed by the one gold rule (`core.store.schema.CANDIDATE_GOLD`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.store.db import Store
from core.store.schema import CANDIDATE_GOLD, gold_rule

BAD_STATUSES = ("error", "timeout", "memory", "syntax", "crashed", "output-limit")


@dataclass(frozen=True, slots=True)
class CandidateRow:
    id: int
    source: str
    sample_index: int | None
    parent_id: int | None
    status: str | None  # None: not verified yet
    detail: str
    gold: bool
    gold_override: int | None
    duration_s: float | None
    flags: tuple[str, ...] = ()  # verdict flags: "spurious", "untrusted-harness"


def verdict_flags(text: str | None) -> tuple[str, ...]:
    """A verdict's stored flags (a JSON list) as a tuple; anything malformed reads as none."""
    if not text or text == "[]":
        return ()
    try:
        flags = json.loads(text)
    except ValueError:
        return ()
    return tuple(f for f in flags if isinstance(f, str)) if isinstance(flags, list) else ()


_CAND_SQL = f"""
SELECT c.id, c.source, c.sample_index, c.parent_id, v.status, coalesce(v.detail, ''),
  {CANDIDATE_GOLD}, c.gold_override, v.duration_s, v.flags
FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id
WHERE c.problem_id = ? {{eval_filter}} ORDER BY c.id LIMIT ? OFFSET ?
"""


async def list_candidates(
    store: Store, problem_id: str, *, offset: int = 0, limit: int = 100, eval_id: int | None = None
) -> list[CandidateRow]:
    """A window of the problem's candidates; with `eval_id`, only that evaluation's samples."""
    if eval_id is None:
        rows = await store.fetchall(_CAND_SQL.format(eval_filter=""), [problem_id, limit, offset])
    else:
        sql = _CAND_SQL.format(eval_filter="AND c.eval_id = ?")
        rows = await store.fetchall(sql, [problem_id, eval_id, limit, offset])
    return [CandidateRow(*(r[:6]), bool(r[6]), r[7], r[8], verdict_flags(r[9])) for r in rows]


async def count_candidates(store: Store, problem_id: str, eval_id: int | None = None) -> int:
    if eval_id is None:
        sql, params = "SELECT count(*) FROM candidates WHERE problem_id = ?", [problem_id]
    else:
        sql = "SELECT count(*) FROM candidates WHERE problem_id = ? AND eval_id = ?"
        params = [problem_id, eval_id]
    return int(await store.scalar(sql, params))


_FULL_SQL = (
    "SELECT c.*, v.status AS v_status, v.detail AS v_detail, v.passed AS v_passed,"
    " v.total AS v_total, v.returned AS v_returned, v.expected AS v_expected,"
    " v.error_type AS v_error_type, v.error_message AS v_error_message, v.trace AS v_trace,"
    " v.output AS v_output, v.duration_s AS v_duration_s, v.flags AS v_flags,"
    f" {CANDIDATE_GOLD} AS gold"
    " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE c.id = ?"
)


async def get_candidate(store: Store, candidate_id: int) -> dict[str, Any] | None:
    """The candidate's columns plus its verdict's (prefixed `v_`) and `gold` (0/1), or None."""
    row = await store.fetchone(_FULL_SQL, [candidate_id])
    return None if row is None else {**dict(row), "v_flags": verdict_flags(row["v_flags"])}


async def candidate_summary(store: Store, candidate_id: int) -> dict[str, Any] | None:
    """The candidate's columns, its verdict's status, detail and duration (prefixed `v_`) and
    `gold` (bool), or None: what `ekt candidates show` prints."""
    row = await store.fetchone(
        "SELECT c.*, v.status AS v_status, v.detail AS v_detail, v.duration_s AS v_duration_s,"
        f" {CANDIDATE_GOLD} AS gold"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE c.id = ?",
        (candidate_id,),
    )
    return None if row is None else {**dict(row), "gold": bool(row["gold"])}


async def candidate_gold(store: Store, candidate_id: int) -> bool | None:
    """Whether the candidate is gold by the gold rule (None: no such candidate)."""
    value = await store.scalar(
        f"SELECT {CANDIDATE_GOLD} FROM candidates c LEFT JOIN verdicts v"
        " ON v.candidate_id = c.id WHERE c.id = ?",
        [candidate_id],
    )
    return None if value is None else bool(value)


_VERDICT_GOLD = gold_rule("v.status", "NULL", "v.flags")


async def verdict_gold(store: Store, candidate_id: int) -> bool | None:
    """Whether the candidate's verdict alone (no human override) makes it gold by the gold rule
    (None: no such candidate): what an override is measured against."""
    value = await store.scalar(
        f"SELECT {_VERDICT_GOLD} FROM candidates c LEFT JOIN verdicts v"
        " ON v.candidate_id = c.id WHERE c.id = ?",
        [candidate_id],
    )
    return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class CandidateListing:
    """One line of `ekt candidates list`."""

    id: int
    problem_id: str
    source: str
    parent_id: int | None
    gold_override: int | None
    v_status: str | None
    v_detail: str | None
    gold: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "problem_id": self.problem_id, "source": self.source,
            "parent_id": self.parent_id, "gold_override": self.gold_override,
            "v_status": self.v_status, "v_detail": self.v_detail, "gold": self.gold,
        }  # fmt: skip


async def find_candidates(
    store: Store,
    *,
    problem_id: str | None = None,
    run_ref: str | None = None,
    status: str | None = None,
    source: str | None = None,
    gold_only: bool = False,
    limit: int = 50,
) -> list[CandidateListing]:
    """Newest first, filtered by problem, run (name or id), verdict status ('pending': none
    yet), source and gold."""
    where: list[str] = ["1"]
    params: list[Any] = []
    if problem_id:
        where.append("c.problem_id = ?")
        params.append(problem_id)
    if run_ref:
        where.append("c.run_id = (SELECT id FROM runs WHERE name = ? OR CAST(id AS TEXT) = ?)")
        params += [run_ref, run_ref]
    if status == "pending":
        where.append("v.status IS NULL")
    elif status:
        where.append("v.status = ?")
        params.append(status)
    if source:
        where.append("c.source = ?")
        params.append(source)
    if gold_only:
        where.append(f"{CANDIDATE_GOLD} = 1")
    rows = await store.fetchall(
        "SELECT c.id, c.problem_id, c.source, c.parent_id, c.gold_override,"
        f" v.status, v.detail, {CANDIDATE_GOLD} FROM candidates c"
        " LEFT JOIN verdicts v ON v.candidate_id = c.id"
        f" WHERE {' AND '.join(where)} ORDER BY c.id DESC LIMIT ?",
        (*params, limit),
    )
    return [CandidateListing(*r[:7], bool(r[7])) for r in rows]


async def candidate_origin(store: Store, candidate_id: int) -> tuple[str, int | None] | None:
    """(problem id, run id) of a candidate, or None."""
    row = await store.fetchone(
        "SELECT problem_id, run_id FROM candidates WHERE id = ?", (candidate_id,)
    )
    return None if row is None else (row[0], row[1])


async def candidate_runs(store: Store, ids: Sequence[int]) -> dict[int, int | None]:
    """{candidate id: run id} of the given candidates."""
    out: dict[int, int | None] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        rows = await store.fetchall(
            f"SELECT id, run_id FROM candidates WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        out.update({r[0]: r[1] for r in rows})
    return out


async def unverified_candidate_ids(store: Store, run_id: int) -> list[int]:
    """The run's candidates that have no verdict yet (stored before a kill, say)."""
    rows = await store.fetchall(
        "SELECT c.id FROM candidates c LEFT JOIN verdicts v ON v.candidate_id ="
        " c.id WHERE c.run_id = ? AND v.candidate_id IS NULL",
        (run_id,),
    )
    return [r[0] for r in rows]


async def count_unverified(store: Store, run_id: int | None = None) -> int:
    """Candidates without a verdict (of one run, or of the whole project)."""
    return int(
        await store.scalar(
            "SELECT count(*) FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
            " WHERE v.candidate_id IS NULL" + (" AND c.run_id = ?" if run_id else ""),
            (run_id,) if run_id else (),
        )
    )


async def run_has_candidates(store: Store, run_id: int) -> bool:
    return bool(await store.scalar("SELECT 1 FROM candidates WHERE run_id = ? LIMIT 1", (run_id,)))


async def sample_ids(
    conn: Any, run_id: int, problem_id: str, first: int, last: int
) -> dict[int, int]:
    """Inside the caller's transaction: {sample index: candidate id} for samples first..last."""
    async with conn.execute(
        "SELECT sample_index, id FROM candidates WHERE run_id = ? AND"
        " problem_id = ? AND sample_index BETWEEN ? AND ?",
        (run_id, problem_id, first, last),
    ) as cur:
        return dict(await cur.fetchall())


async def keyed_candidate_ids(
    conn: Any, col: str, owner: int, problems: Iterable[str]
) -> dict[tuple[str, int], int]:
    """Inside the caller's transaction: {(problem id, sample index): id} of the candidates of
    one run (`col` 'run_id') or evaluation ('eval_id'), one query per 500 problems."""
    if col not in ("run_id", "eval_id"):
        raise ValueError(col)
    plist = sorted(problems)
    found: dict[tuple[str, int], int] = {}
    for start in range(0, len(plist), 500):
        chunk = plist[start : start + 500]
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT id, problem_id, sample_index FROM candidates"
            f" WHERE {col} = ? AND problem_id IN ({marks})",
            (owner, *chunk),
        ) as cur:
            for row in await cur.fetchall():
                found[(row[1], row[2])] = row[0]
    return found
