"""A sampling run's numbers for the dashboard, in two parts by cost.

`run_core` (the run row and its requests: progress, tokens, cost, request rate) is cheap and read
on every refresh. `run_outcomes` (verdict counts, gold coverage, verification rate) joins the
run's candidates — 150k rows on a GSM8K run, ~0.3 s — so the dashboard reads it in the
background at most every OUTCOME_COST_FACTOR × its last duration (`OutcomeThrottle`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from core import Store

RATE_WINDOW = 60
OUTCOME_COST_FACTOR = 10.0
OUTCOME_MIN_INTERVAL = 1.0


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


async def list_runs(store: Store) -> list[tuple[int, str, str]]:
    rows = await store.fetchall("SELECT id, name, status FROM runs ORDER BY id DESC")
    return [(r[0], r[1], r[2]) for r in rows]


def _teacher_label(raw: str) -> str:
    try:
        t = json.loads(raw or "{}")
    except ValueError:
        return "?"
    if isinstance(t, str):
        return t
    if t.get("description"):  # what core.sampling stores: {"description", "config"}
        return str(t["description"])
    backend, model = t.get("backend", "?"), t.get("model", "?")
    url = t.get("base_url") or ""
    return f"{backend}:{model}" + (f" @ {url}" if url else "")


def _per_second(rows: list[tuple[int, int]], since: int) -> list[int]:
    out = [0] * RATE_WINDOW
    for sec, k in rows:
        if sec is not None and 0 <= sec - since < RATE_WINDOW:
            out[sec - since] = k
    return out


async def run_core(store: Store, run_id: int, now: float) -> RunStats | None:
    """The run row and its requests (progress, tokens, cost, requests/s)."""
    run = await store.fetchone(
        "SELECT r.id, r.name, r.status, r.teacher, r.params, r.budget_usd, r.created_at,"
        " p.name, p.version FROM runs r LEFT JOIN prompts p ON p.id = r.prompt_id WHERE r.id = ?",
        [run_id],
    )
    if run is None:
        return None
    try:
        params = json.loads(run[4] or "{}")
    except ValueError:
        params = {}
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
    labels = params.get("prompt_labels") or {}
    prompt = ", ".join(labels.values()) if labels else (f"{run[7]}@v{run[8]}" if run[7] else "—")
    return RunStats(
        id=run[0],
        name=run[1],
        status=run[2],
        teacher=_teacher_label(run[3]),
        prompt=prompt,
        samples_per_problem=int(params.get("n") or 0),
        problems_total=int(req[3]),
        problems_sampled=int(sampled or 0),
        requests=int(req[0]),
        requests_done=int(req[1]),
        requests_failed=int(req[2]),
        tokens_in=int(req[4]),
        tokens_out=int(req[5]),
        cost_usd=float(req[6]),
        budget_usd=run[5] if run[5] is not None else params.get("budget_usd"),
        created_at=float(run[6]),
        first_request_at=req[7],
        request_rate=_per_second([(r[0], r[1]) for r in finished], since),
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
    gold = await store.scalar(
        "SELECT count(DISTINCT problem_id) FROM gold_candidates WHERE run_id = ?", [run_id]
    )
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
        gold_problems=int(gold or 0),
        verify_rate=_per_second([(r[0], r[1]) for r in verified], since),
    )


class OutcomeThrottle:
    """Keeps the latest RunOutcomes per run and says when reading them again is worth it:
    their cost stays under 1/OUTCOME_COST_FACTOR of the time, whatever the store's size."""

    def __init__(self) -> None:
        self.latest: dict[int, RunOutcomes] = {}
        self._next: dict[int, float] = {}

    def expire(self, run_id: int) -> None:
        """Read again at the next refresh (the run changed state: show its final numbers)."""
        if self._next.get(run_id) != float("inf"):
            self._next[run_id] = 0.0

    def wait_s(self, run_id: int) -> float:
        """Seconds until the next read is due (0: now; inf: one is running)."""
        return max(self._next.get(run_id, 0.0) - time.monotonic(), 0.0)

    async def read(self, store: Store, run_id: int, now: float) -> RunOutcomes:
        started = time.monotonic()
        self._next[run_id] = float("inf")  # one read at a time
        try:
            outcomes = await run_outcomes(store, run_id, now)
        except BaseException:
            self._next[run_id] = 0.0
            raise
        cost = time.monotonic() - started
        self._next[run_id] = time.monotonic() + max(
            OUTCOME_MIN_INTERVAL, OUTCOME_COST_FACTOR * cost
        )
        self.latest[run_id] = outcomes
        return outcomes
