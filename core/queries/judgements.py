"""Reads behind the judge: each candidate's latest judgement, and the gold a judge run covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.store.db import Store


@dataclass(frozen=True, slots=True)
class Judgement:
    """The judge's answer about one candidate; `score` None: the reply did not parse (`raw`
    keeps it as it came)."""

    candidate_id: int
    score: int | None
    reason: str
    raw: str
    parsed: bool
    teacher: str
    prompt_id: int | None
    created_at: float


async def latest_judgements(store: Store, candidate_ids: Sequence[int]) -> dict[int, Judgement]:
    """{candidate id: its most recent judgement} for the judged ones among `candidate_ids`."""
    out: dict[int, Judgement] = {}
    ids = list(candidate_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (
            "SELECT candidate_id, score, reason, raw, parsed, teacher, prompt_id, created_at"
            f" FROM judgements WHERE id IN (SELECT max(id) FROM judgements"
            f" WHERE candidate_id IN ({marks}) GROUP BY candidate_id)"
        )
        for r in await store.fetchall(sql, chunk):
            out[r[0]] = Judgement(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7])
    return out


async def judged_candidate_ids(store: Store, prompt_id: int | None = None) -> set[int]:
    """Candidates with any judgement (by the given judge prompt version)."""
    if prompt_id is None:
        rows = await store.fetchall("SELECT DISTINCT candidate_id FROM judgements")
    else:
        rows = await store.fetchall(
            "SELECT DISTINCT candidate_id FROM judgements WHERE prompt_id = ?", [prompt_id]
        )
    return {r[0] for r in rows}


async def problem_judge_scores(store: Store, problem_ids: Sequence[str]) -> dict[str, int]:
    """{problem id: the best latest judge score among its candidates} (judged problems only)."""
    out: dict[str, int] = {}
    ids = list(problem_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (
            "SELECT c.problem_id, max(j.score) FROM judgements j JOIN candidates c"
            " ON c.id = j.candidate_id WHERE j.id IN (SELECT max(id) FROM judgements"
            " GROUP BY candidate_id) AND j.score IS NOT NULL"
            f" AND c.problem_id IN ({marks}) GROUP BY c.problem_id"
        )
        out.update({r[0]: r[1] for r in await store.fetchall(sql, chunk)})
    return out


async def judged_below(store: Store, candidate_ids: Sequence[int], score: int) -> set[int]:
    """The candidates whose latest parsed judgement scored below `score` (unjudged and
    unparsable ones are not among them: there is no score to hold against them)."""
    latest = await latest_judgements(store, candidate_ids)
    return {c for c, j in latest.items() if j.score is not None and j.score < score}


@dataclass(frozen=True, slots=True)
class JudgeTarget:
    """A gold candidate a judge may be asked about (with its problem's question)."""

    candidate_id: int
    problem_id: str
    code: str
    problem: dict


async def judge_targets(
    store: Store, *, run_id: int | None = None, problem_ids: Sequence[str] | None = None
) -> list[JudgeTarget]:
    """Gold candidates (of one run, of some problems) in problem import order, then id."""
    where, params = ["1"], []
    if run_id is not None:
        where.append("g.run_id = ?")
        params.append(run_id)
    if problem_ids is not None:
        where.append(f"g.problem_id IN ({','.join('?' * len(problem_ids))})")
        params.extend(problem_ids)
    sql = (
        "SELECT g.id AS cid, g.code AS ccode, p.* FROM gold_candidates g"
        f" JOIN problems p ON p.id = g.problem_id WHERE {' AND '.join(where)}"
        " ORDER BY p.seq, g.id"
    )
    out = []
    for r in await store.fetchall(sql, params):
        row = dict(r)
        cid, code = row.pop("cid"), row.pop("ccode")
        out.append(JudgeTarget(cid, row["id"], code, row))
    return out


async def has_judgements(store: Store) -> bool:
    """Whether anything was judged yet (the problem list shows its judge column then)."""
    return await store.scalar("SELECT 1 FROM judgements LIMIT 1") is not None
