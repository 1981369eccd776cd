"""Reads of sampling runs: identity (teacher label, prompt versions per problem kind), progress
(requests, tokens, cost, rates) and outcomes (verdicts, gold coverage).

A run's identity is stored once: the teacher document in `runs.teacher`, the sampling parameters
in `runs.params`, the prompt version per problem kind in `run_prompts`. `teacher_label` and
`RunIdentity.prompt_label` are the only places that turn them into text.

`run_core` is cheap and read on every dashboard refresh; `run_outcomes` joins the run's
candidates — 150k rows on a GSM8K run, ~0.3 s — so the dashboard reads it in the background.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.queries.prompts import PromptVersion
from core.store.db import Store

RATE_WINDOW = 60


def teacher_label(teacher: str | dict[str, Any] | None) -> str:
    """THE label of a run's teacher, from its stored document (`{"description", "config"}`,
    as core.sampling writes it, or a flat `{"backend", "model", "base_url"}`)."""
    if isinstance(teacher, str) or teacher is None:
        try:
            teacher = json.loads(teacher or "{}")
        except ValueError:
            return "?"
    if isinstance(teacher, str):
        return teacher
    if not isinstance(teacher, dict):
        return "?"
    if teacher.get("description"):
        return str(teacher["description"])
    backend, model = teacher.get("backend", "?"), teacher.get("model", "?")
    url = teacher.get("base_url") or ""
    return f"{backend}:{model}" + (f" @ {url}" if url else "")


def teacher_model(teacher: dict[str, Any]) -> str:
    """The model named in a run's teacher document (`{"description", "config": {...}}`, or flat)."""
    config = teacher.get("config") if isinstance(teacher.get("config"), dict) else teacher
    return str(config.get("model") or "")


def json_object(raw: str | None) -> dict[str, Any]:
    """A stored JSON column as a dict; anything missing, malformed or not an object is {}."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """What a run is: its teacher, sampling parameters and a prompt version per problem kind."""

    id: int
    name: str
    status: str
    teacher: dict[str, Any]
    params: dict[str, Any]
    prompts: dict[str, PromptVersion]  # problem kind → version
    budget_usd: float | None
    created_at: float

    @property
    def teacher_label(self) -> str:
        return teacher_label(self.teacher)

    @property
    def prompt_labels(self) -> list[str]:
        """Distinct version labels, in problem-kind order."""
        return list(dict.fromkeys(p.label for _, p in sorted(self.prompts.items())))

    @property
    def prompt_label(self) -> str:
        return ", ".join(self.prompt_labels) or "—"


_RUN_COLS = "r.id, r.name, r.status, r.teacher, r.params, r.budget_usd, r.created_at"
_PROMPT_COLS = (
    "rp.run_id, rp.kind, p.id, p.name, p.version, p.template, p.note, p.parent_id, p.created_at"
)


async def run_prompt_versions(
    store: Store, run_ids: list[int]
) -> dict[int, dict[str, PromptVersion]]:
    """{run id: {problem kind: prompt version}} for the given runs."""
    out: dict[int, dict[str, PromptVersion]] = {r: {} for r in run_ids}
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        for r in await store.fetchall(
            f"SELECT {_PROMPT_COLS} FROM run_prompts rp JOIN prompts p ON p.id = rp.prompt_id"
            f" WHERE rp.run_id IN ({','.join('?' * len(chunk))}) ORDER BY rp.run_id, rp.kind",
            chunk,
        ):
            out[r[0]][r[1]] = PromptVersion(*r[2:])
    return out


async def _identities(store: Store, where: str, params: list[Any]) -> list[RunIdentity]:
    rows = await store.fetchall(f"SELECT {_RUN_COLS} FROM runs r {where} ORDER BY r.id", params)
    prompts = await run_prompt_versions(store, [r[0] for r in rows])
    return [
        RunIdentity(
            r[0], r[1], r[2], json_object(r[3]), json_object(r[4]), prompts[r[0]], r[5],
            float(r[6]),
        )
        for r in rows
    ]


async def run_identity(store: Store, run_id: int) -> RunIdentity | None:
    found = await _identities(store, "WHERE r.id = ?", [run_id])
    return found[0] if found else None


async def run_by_name(store: Store, name: str) -> RunIdentity | None:
    found = await _identities(store, "WHERE r.name = ?", [name])
    return found[0] if found else None


async def runs_by_id(store: Store, run_ids: list[int]) -> list[RunIdentity]:
    out: list[RunIdentity] = []
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        out += await _identities(store, f"WHERE r.id IN ({','.join('?' * len(chunk))})", chunk)
    return sorted(out, key=lambda r: r.id)


async def all_runs(store: Store) -> list[RunIdentity]:
    return await _identities(store, "", [])


async def list_runs(store: Store) -> list[tuple[int, str, str]]:
    """(id, name, status) of every run, newest first."""
    rows = await store.fetchall("SELECT id, name, status FROM runs ORDER BY id DESC")
    return [(r[0], r[1], r[2]) for r in rows]


async def find_run_id(store: Store, ref: str) -> int | None:
    """The id of the run named `ref`, or whose id `ref` is."""
    row = await store.fetchone(
        "SELECT id FROM runs WHERE name = ? OR (? GLOB '[0-9]*' AND id = CAST(? AS INTEGER))",
        (ref, ref, ref),
    )
    return None if row is None else int(row[0])


@dataclass(frozen=True, slots=True)
class RunOutcomes:
    """What the run's candidates came to."""

    candidates: int = 0
    pending: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    gold_problems: int = 0
    verify_rate: list[int] = field(default_factory=lambda: [0] * RATE_WINDOW)


@dataclass(frozen=True, slots=True)
class RunStats:
    """One sampling run as the dashboard shows it (`outcomes` None until first read)."""

    id: int
    name: str
    status: str
    teacher: str
    prompt: str
    samples_per_problem: int
    problems_total: int
    problems_sampled: int
    requests: int = 0
    requests_done: int = 0
    requests_failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    budget_usd: float | None = None
    created_at: float = 0.0
    first_request_at: float | None = None
    request_rate: list[int] = field(default_factory=lambda: [0] * RATE_WINDOW)
    outcomes: RunOutcomes | None = None
    failures: dict[str, int] = field(default_factory=dict)  # failed requests by error class

    @property
    def gold_coverage(self) -> float | None:
        if self.outcomes is None:
            return None
        return self.outcomes.gold_problems / self.problems_total if self.problems_total else 0.0

    def eta_s(self, now: float) -> float | None:
        """Remaining time at the average pace so far (None before there is a pace)."""
        if self.first_request_at is None or not self.problems_sampled:
            return None
        left = self.problems_total - self.problems_sampled
        if left <= 0:
            return 0.0
        elapsed = max(now - self.first_request_at, 1e-6)
        return elapsed / self.problems_sampled * left


def _per_second(rows: list[tuple[int, int]], since: int) -> list[int]:
    out = [0] * RATE_WINDOW
    for sec, k in rows:
        if sec is not None and 0 <= sec - since < RATE_WINDOW:
            out[sec - since] = k
    return out


@dataclass(frozen=True, slots=True)
class RequestTotals:
    requests: int
    tokens_prompt: int
    tokens_completion: int
    cost_usd: float


async def request_totals(store: Store, run_id: int | None = None) -> RequestTotals:
    """Requests, tokens and cost of one run, or of the whole project."""
    where, params = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("", [])
    row = await store.fetchone(
        "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
        f" coalesce(sum(cost_usd), 0.0) FROM requests {where}",
        params,
    )
    assert row is not None
    return RequestTotals(int(row[0]), int(row[1]), int(row[2]), float(row[3]))


async def run_problem_count(store: Store, run_id: int) -> int:
    """Problems the run planned (each has request rows from the start)."""
    return int(
        await store.scalar(
            "SELECT count(DISTINCT problem_id) FROM requests WHERE run_id = ?", [run_id]
        )
    )


async def run_core(store: Store, run_id: int, now: float) -> RunStats | None:
    """The run row and its requests (progress, tokens, cost, requests/s)."""
    run = await run_identity(store, run_id)
    if run is None:
        return None
    # Every planned request has a row from the start (pending until it finishes): the run's
    # problems are those with a request; a problem is sampled when all of its requests are done.
    req = await store.fetchone(
        "SELECT count(*), coalesce(sum(status = 'done'), 0), coalesce(sum(status = 'failed'), 0),"
        " count(DISTINCT problem_id), coalesce(sum(prompt_tokens), 0),"
        " coalesce(sum(completion_tokens), 0), coalesce(sum(cost_usd), 0.0), min(started_at)"
        " FROM requests WHERE run_id = ?",
        [run_id],
    )
    sampled = await store.scalar(
        "SELECT count(*) FROM (SELECT 1 FROM requests WHERE run_id = ? GROUP BY problem_id"
        " HAVING sum(status != 'done') = 0)",
        [run_id],
    )
    since = int(now) - RATE_WINDOW + 1
    finished = await store.fetchall(
        "SELECT CAST(finished_at AS INTEGER) s, count(*) FROM requests"
        " WHERE run_id = ? AND finished_at >= ? GROUP BY s",
        [run_id, since],
    )
    assert req is not None
    params = run.params
    return RunStats(
        id=run.id,
        name=run.name,
        status=run.status,
        teacher=run.teacher_label,
        prompt=run.prompt_label,
        samples_per_problem=int(params.get("n") or 0),
        problems_total=int(req[3]),
        problems_sampled=int(sampled or 0),
        requests=int(req[0]),
        requests_done=int(req[1]),
        requests_failed=int(req[2]),
        tokens_in=int(req[4]),
        tokens_out=int(req[5]),
        cost_usd=float(req[6]),
        budget_usd=run.budget_usd if run.budget_usd is not None else params.get("budget_usd"),
        created_at=run.created_at,
        first_request_at=req[7],
        request_rate=_per_second([(r[0], r[1]) for r in finished], since),
        failures=await run_failures(store, run_id) if req[2] else {},
    )


async def run_failures(store: Store, run_id: int) -> dict[str, int]:
    """The run's failed requests by error class (why samples are missing)."""
    rows = await store.fetchall(
        "SELECT coalesce(error_class, 'error'), count(*) FROM requests"
        " WHERE run_id = ? AND status = 'failed' GROUP BY 1 ORDER BY 2 DESC, 1",
        [run_id],
    )
    return {str(r[0]): int(r[1]) for r in rows}


async def run_gold_problems(store: Store, run_id: int) -> int:
    """Problems with at least one gold candidate from this run."""
    return int(
        await store.scalar(
            "SELECT count(DISTINCT problem_id) FROM gold_candidates WHERE run_id = ?", [run_id]
        )
    )


async def run_outcomes(store: Store, run_id: int, now: float) -> RunOutcomes:
    """Verdict counts, gold problems and verifications/s of the run's candidates."""
    verdicts: dict[str, int] = {}
    pending = candidates = 0
    for status, k in await store.fetchall(
        "SELECT v.status, count(*) FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.run_id = ? GROUP BY v.status",
        [run_id],
    ):
        candidates += k
        if status is None:
            pending = k
        else:
            verdicts[status] = k
    since = int(now) - RATE_WINDOW + 1
    verified = await store.fetchall(
        "SELECT CAST(v.created_at AS INTEGER) s, count(*) FROM verdicts v"
        " JOIN candidates c ON c.id = v.candidate_id"
        " WHERE c.run_id = ? AND v.created_at >= ? GROUP BY s",
        [run_id, since],
    )
    return RunOutcomes(
        candidates=candidates,
        pending=pending,
        verdicts=verdicts,
        gold_problems=await run_gold_problems(store, run_id),
        verify_rate=_per_second([(r[0], r[1]) for r in verified], since),
    )


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


@dataclass(frozen=True, slots=True)
class RunCoverage:
    """What a run already has: sample indices per problem, request rows per problem
    ({first_index: (request id, n, status)}) and the money spent."""

    samples: dict[str, set[int]]
    requests: dict[str, dict[int, tuple[int, int, str]]]
    spent_usd: float


async def run_coverage(store: Store, run_id: int) -> RunCoverage:
    have: dict[str, set[int]] = {}
    for pid, idx in await store.fetchall(
        "SELECT problem_id, sample_index FROM candidates WHERE run_id = ?"
        " AND source IN ('teacher', 'refine') AND sample_index IS NOT NULL",
        (run_id,),
    ):
        have.setdefault(pid, set()).add(idx)
    requests: dict[str, dict[int, tuple[int, int, str]]] = {}
    spent = 0.0
    for rid, pid, first, n, status, cost in await store.fetchall(
        "SELECT id, problem_id, first_index, n, status, cost_usd FROM requests WHERE run_id = ?",
        (run_id,),
    ):
        requests.setdefault(pid, {})[first] = (rid, n, status)
        spent += cost or 0.0
    return RunCoverage(have, requests, spent)


async def request_ids(conn: Any, run_id: int) -> dict[tuple[str, int], int]:
    """Inside the caller's write transaction: {(problem id, first index): request id}."""
    async with conn.execute(
        "SELECT id, problem_id, first_index FROM requests WHERE run_id = ?", (run_id,)
    ) as cur:
        return {(pid, first): rid for rid, pid, first in await cur.fetchall()}
