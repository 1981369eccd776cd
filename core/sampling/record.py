"""Store writes of a sampling run, each one transaction so a kill -9 leaves no half state.

`begin` creates or continues the run and upserts one `pending` row per planned request;
`RequestWriter` commits each finished request (its candidates plus the request row's outcome)
atomically, grouping requests that finish together into one transaction (group commit: at 160
requests/s one transaction each would be the bottleneck). A request row that is not `done` has
no candidates from that attempt, so a resume simply sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from core.candidates import code_hash
from core.project import Project
from core.queries.candidates import sample_ids
from core.queries.runs import request_ids
from core.sampling.plan import Plan

INSERT_CANDIDATE = (
    "INSERT INTO candidates(problem_id, source, parent_id, feedback_id, run_id, request_id,"
    " sample_index, code, raw, code_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
FINISH = (
    "UPDATE requests SET status = ?, attempts = attempts + ?, prompt_tokens = ?,"
    " completion_tokens = ?, cost_usd = ?, latency_s = ?, ttft_s = ?, error_class = ?, error = ?,"
    " started_at = ?, finished_at = ? WHERE id = ?"
)


async def begin(
    project: Project, plan: Plan, teacher_doc: dict[str, Any], budget: float | None
) -> int:
    """Create (or continue) the run and record its planned requests; returns the run id and
    fills each Work's request_id."""
    now = time.time()
    async with project.store.transaction() as conn:
        if plan.run_id is None:
            cur = await conn.execute(
                "INSERT INTO runs(name, teacher, params, status, budget_usd, created_at,"
                " updated_at) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (plan.name, json.dumps(teacher_doc), json.dumps(plan.params), budget, now, now),
            )
            run_id = int(cur.lastrowid or 0)
        else:
            run_id = plan.run_id
            await conn.execute(
                "UPDATE runs SET params = ?, status = 'running', budget_usd = ?, updated_at = ?"
                " WHERE id = ?",
                (json.dumps(plan.params), budget, now, run_id),
            )
        # planning refused a prompt that differs from the one a kind already has: only new kinds
        await conn.executemany(
            "INSERT INTO run_prompts(run_id, kind, prompt_id) VALUES (?, ?, ?)"
            " ON CONFLICT(run_id, kind) DO NOTHING",
            [(run_id, kind, p.id) for kind, p in sorted(plan.prompts.items())],
        )
        await conn.executemany(
            "INSERT INTO requests(run_id, problem_id, first_index, n, status) VALUES"
            " (?, ?, ?, ?, 'pending') ON CONFLICT(run_id, problem_id, first_index)"
            " DO UPDATE SET n = excluded.n, status = 'pending'",
            [(run_id, w.problem_id, w.first_index, w.n) for w in plan.work],
        )
        ids = await request_ids(conn, run_id)
    for w in plan.work:
        w.request_id = ids[(w.problem_id, w.first_index)]
    plan.run_id = run_id
    return run_id


async def set_status(project: Project, run_id: int, status: str) -> None:
    await project.store.execute(
        "UPDATE runs SET status = ?, updated_at = ? WHERE id = ?", (status, time.time(), run_id)
    )


async def discard_run(project: Project, run_id: int) -> None:
    """Remove a run this call created and that produced nothing (bad endpoint, bad key)."""
    async with project.store.transaction() as conn:
        await conn.execute("DELETE FROM requests WHERE run_id = ?", (run_id,))
        await conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))


@dataclass
class Outcome:
    """A finished request: `codes` is empty for a failure."""

    request_id: int
    run_id: int
    problem_id: str
    first_index: int
    status: str  # done | failed
    attempts: int
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_s: float | None
    ttft_s: float | None
    error_class: str | None
    error: str | None
    started_at: float
    codes: list[tuple[str, str]]  # (code, raw) per choice, in choice order
    source: str = "teacher"  # a derived run's candidates: refine (with parent and feedback)
    parent_id: int | None = None
    feedback_id: int | None = None


class RequestWriter:
    """Group commit of finished requests; `await write(outcome)` returns the candidate ids once
    the transaction holding them has committed."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._queue: list[tuple[Outcome, asyncio.Future[list[int]]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one transaction at a time on the writer connection

    async def __aenter__(self) -> RequestWriter:
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._queue:  # whatever finished is committed before the run ends
            await self._flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def write(self, outcome: Outcome) -> list[int]:
        fut: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, fut))
        self._wake.set()
        return await asyncio.shield(fut)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        batch, self._queue = self._queue, []
        if not batch:
            return
        now = time.time()
        try:
            found: dict[tuple[int, str], dict[int, int]] = {}
            async with self.project.store.transaction() as conn:
                rows = [
                    (o.problem_id, o.source, o.parent_id, o.feedback_id, o.run_id,
                     o.request_id, o.first_index + i, code, raw, code_hash(code), now)
                    for o, _ in batch for i, (code, raw) in enumerate(o.codes)
                ]  # fmt: skip
                if rows:
                    await conn.executemany(INSERT_CANDIDATE, rows)
                await conn.executemany(
                    FINISH,
                    [
                        (o.status, o.attempts, o.prompt_tokens, o.completion_tokens, o.cost_usd,
                         o.latency_s, o.ttft_s, o.error_class, o.error, o.started_at, now,
                         o.request_id)
                        for o, _ in batch
                    ],
                )  # fmt: skip
                for o, _ in batch:
                    if not o.codes:
                        continue
                    found[(o.request_id, o.problem_id)] = await sample_ids(
                        conn, o.run_id, o.problem_id, o.first_index,
                        o.first_index + len(o.codes) - 1,
                    )  # fmt: skip
        except BaseException as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for o, fut in batch:
            got = found.get((o.request_id, o.problem_id), {})
            ids = [got[o.first_index + i] for i in range(len(o.codes)) if o.first_index + i in got]
            if not fut.done():
                fut.set_result(ids)
