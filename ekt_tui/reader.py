"""What the TUI reads beyond `core`'s listing queries: the candidates of one problem (windowed),
one candidate with its verdict, prompt-version yields, try-on-5 picks and results (runs: runs.py).

Every query runs on the TUI's own read-only connection, so `PRAGMA data_version` on that same
connection tells the app when anyone (the in-process engine, a headless `ekt sample`) committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import PromptVersion, Store, list_prompts

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


_CAND_SQL = """
SELECT c.id, c.source, c.sample_index, c.parent_id, v.status, coalesce(v.detail, ''),
  (c.gold_override = 1 OR (c.gold_override IS NOT 0 AND v.status = 'pass')), c.gold_override,
  v.duration_s
FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id
WHERE c.problem_id = ? {eval_filter} ORDER BY c.id LIMIT ? OFFSET ?
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
    return [CandidateRow(*(r[:6]), bool(r[6]), r[7], r[8]) for r in rows]


async def count_candidates(store: Store, problem_id: str, eval_id: int | None = None) -> int:
    if eval_id is None:
        sql, params = "SELECT count(*) FROM candidates WHERE problem_id = ?", [problem_id]
    else:
        sql = "SELECT count(*) FROM candidates WHERE problem_id = ? AND eval_id = ?"
        params = [problem_id, eval_id]
    return int(await store.scalar(sql, params))


@dataclass(frozen=True, slots=True)
class EvalProblemRow:
    """One problem of an evaluation: its samples and how many passed."""

    problem_id: str
    samples: int
    passed: int
    first_detail: str  # one failing verdict's detail (the smallest), as an example


async def eval_problems(store: Store, eval_id: int) -> list[EvalProblemRow]:
    """The problems an evaluation sampled, in import order (a split: ≤ a few thousand rows)."""
    rows = await store.fetchall(
        "SELECT c.problem_id, count(*), coalesce(sum(v.status = 'pass'), 0),"
        " coalesce(min(CASE WHEN v.status != 'pass' THEN v.detail END), '')"
        " FROM candidates c JOIN problems p ON p.id = c.problem_id"
        " LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.eval_id = ? GROUP BY c.problem_id ORDER BY min(p.seq)",
        [eval_id],
    )
    return [EvalProblemRow(r[0], int(r[1]), int(r[2]), r[3] or "") for r in rows]


async def get_problem(store: Store, problem_id: str) -> dict[str, Any] | None:
    row = await store.fetchone("SELECT * FROM problems WHERE id = ?", [problem_id])
    return None if row is None else dict(row)


async def get_candidate(store: Store, candidate_id: int) -> dict[str, Any] | None:
    """The candidate's columns plus its verdict's (prefixed `v_`), or None."""
    row = await store.fetchone(
        "SELECT c.*, v.status AS v_status, v.detail AS v_detail, v.passed AS v_passed,"
        " v.total AS v_total, v.returned AS v_returned, v.expected AS v_expected,"
        " v.error_type AS v_error_type, v.error_message AS v_error_message, v.trace AS v_trace,"
        " v.output AS v_output, v.duration_s AS v_duration_s"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE c.id = ?",
        [candidate_id],
    )
    return None if row is None else dict(row)


@dataclass(frozen=True, slots=True)
class PromptYield:
    """A prompt version and what the runs that used it produced."""

    version: PromptVersion
    runs: int
    candidates: int
    passed: int
    problems: int
    gold_problems: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.candidates if self.candidates else None

    @property
    def gold_coverage(self) -> float | None:
        return self.gold_problems / self.problems if self.problems else None


# Which prompt version sampled which run's problems: a run of several kinds records
# {kind: prompt id} in params.prompts (runs.prompt_id is then NULL); older runs only prompt_id.
_RUN_PROMPTS = """
WITH rp AS (
  SELECT r.id AS run_id, CAST(j.value AS INTEGER) AS prompt_id, j.key AS kind
  FROM runs r, json_each(r.params, '$.prompts') j
  UNION
  SELECT r.id, r.prompt_id, NULL FROM runs r
  WHERE r.prompt_id IS NOT NULL AND json_type(r.params, '$.prompts') IS NULL
)
"""
# A candidate counts for the version that sampled its problem's kind.
_OF_KIND = (
    " LEFT JOIN problems pb ON pb.id = {t}.problem_id"
    " WHERE {t}.problem_id IS NULL OR rp.kind IS NULL OR pb.kind = rp.kind"
)


async def prompt_yields(store: Store, name: str) -> list[PromptYield]:
    """Each version of `name` (newest first) with what the runs that used it produced: only
    the candidates of the problems that version sampled (a run of several kinds has several)."""
    versions = await list_prompts(store, name)
    stats = {
        r[0]: r[1:]
        for r in await store.fetchall(
            _RUN_PROMPTS + "SELECT rp.prompt_id, count(DISTINCT rp.run_id), count(c.id),"
            " coalesce(sum(v.status = 'pass'), 0), count(DISTINCT c.problem_id)"
            " FROM rp JOIN prompts p ON p.id = rp.prompt_id AND p.name = ?"
            " LEFT JOIN candidates c ON c.run_id = rp.run_id AND c.source = 'teacher'"
            " LEFT JOIN verdicts v ON v.candidate_id = c.id"
            + _OF_KIND.format(t="c")
            + " GROUP BY rp.prompt_id",
            [name],
        )
    }
    gold = {
        r[0]: r[1]
        for r in await store.fetchall(
            _RUN_PROMPTS + "SELECT rp.prompt_id, count(DISTINCT g.problem_id) FROM rp"
            " JOIN prompts p ON p.id = rp.prompt_id AND p.name = ?"
            " JOIN gold_candidates g ON g.run_id = rp.run_id"
            + _OF_KIND.format(t="g")
            + " GROUP BY rp.prompt_id",
            [name],
        )
    }
    out = []
    for v in reversed(versions):
        runs, cands, passed, problems = stats.get(v.id, (0, 0, 0, 0))
        out.append(PromptYield(v, runs, cands, passed, problems, int(gold.get(v.id, 0))))
    return out


async def prompt_names(store: Store) -> list[str]:
    """Prompt names worth offering: those stored plus the ones the problems' kinds need."""
    names = {r[0] for r in await store.fetchall("SELECT DISTINCT name FROM prompts")}
    kinds = {r[0] for r in await store.fetchall("SELECT DISTINCT kind FROM problems")}
    builtin = {"answer": "gsm8k", "asserts": "mbpp", "check": "humaneval"}
    names |= {builtin[k] for k in kinds if k in builtin}
    return sorted(names) or ["gsm8k"]


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


async def run_results(store: Store, run_name: str) -> list[tuple[str, list[str | None]]]:
    """Per problem of the run named `run_name`: its candidates' verdict statuses (None =
    pending), in problem then sample order."""
    out: dict[str, list[str | None]] = {}
    for pid, status in await store.fetchall(
        "SELECT c.problem_id, v.status FROM runs r JOIN candidates c ON c.run_id = r.id"
        " LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE r.name = ?"
        " ORDER BY c.problem_id, c.sample_index, c.id",
        [run_name],
    ):
        out.setdefault(pid, []).append(status)
    return list(out.items())
