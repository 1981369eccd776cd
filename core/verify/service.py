"""VerifierService: candidates in, verdicts out (stored in batches, announced on the bus).

Usable from asyncio while candidates are still arriving: the sampler calls `submit(ids)` as it
inserts them, the TUI's edit path awaits `verify(id)` for one candidate, `ekt verify` feeds every
pending id and awaits `drain()`. Identical programs (same problem, same normalised code) run
once: within the service through a shared future, across runs through an existing verdict of a
same-hash candidate in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from core.config import VerifierSection
from core.errors import VerifyError
from core.events import CandidateVerified
from core.project import Project
from core.queries import verification as q
from core.verify.client import WorkerPool
from core.verify.spurious import flag_spurious
from core.verify.verdict import (
    Prepared,
    Verdict,
    make_job,
    make_verdict,
    prepare,
    spec_from_problem,
)

Key = tuple[str, str]  # (problem_id, code_hash)

UPSERT = """
INSERT INTO verdicts(candidate_id, status, detail, passed, total, returned, expected, error_type,
  error_message, trace, output, duration_s, flags, verifier, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(candidate_id) DO UPDATE SET
  status = excluded.status, detail = excluded.detail, passed = excluded.passed,
  total = excluded.total, returned = excluded.returned, expected = excluded.expected,
  error_type = excluded.error_type, error_message = excluded.error_message,
  trace = excluded.trace, output = excluded.output, duration_s = excluded.duration_s,
  flags = excluded.flags, verifier = excluded.verifier, created_at = excluded.created_at
"""


def effective_config(
    base: VerifierSection,
    *,
    workers: int | None = None,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
) -> VerifierSection:
    """The project's [verifier] with command-line overrides, validated like the file."""
    update = {"workers": workers, "timeout_s": timeout_s, "memory_mb": memory_mb}
    cfg = base.model_copy()
    for name, value in update.items():
        if value is not None:
            setattr(cfg, name, value)  # validate_assignment: a bad value is a ConfigError-ish
    return cfg


class VerifierService:
    """`async with VerifierService(project) as vs: vs.submit(ids); await vs.drain()`."""

    def __init__(
        self,
        project: Project,
        *,
        workers: int | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        batch_size: int = 256,
        flush_s: float = 0.25,
    ) -> None:
        self.project = project
        self.store = project.store
        self.config = effective_config(
            project.config.verifier, workers=workers, timeout_s=timeout_s, memory_mb=memory_mb
        )
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.pool = WorkerPool(self.config.workers)
        self.counts: Counter[str] = Counter()
        self._incoming: list[int] = []
        self._wakeup = asyncio.Event()
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._specs: dict[str, Prepared | str] = {}
        self._known: dict[Key, Verdict] = {}
        self._inflight: dict[Key, list[tuple[int, str]]] = {}
        self._waiters: dict[int, list[asyncio.Future[Verdict]]] = {}
        self._fresh: set[int] = set()  # ids asked for by verify(): run again, never reuse
        self._buffer: list[tuple[int, str, Verdict]] = []
        self._slots = asyncio.Semaphore(self.config.workers * 4)
        self._jobs: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._flush_now = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._meta = json.dumps(
            {"timeout_s": self.config.timeout_s, "memory_mb": self.config.memory_mb}
        )

    async def __aenter__(self) -> VerifierService:
        await self.pool.start()
        self._tasks = [asyncio.create_task(self._feed()), asyncio.create_task(self._flusher())]
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        try:
            if exc_type is None:
                await self.drain()
        finally:
            await self.close()

    async def close(self) -> None:
        tasks = [*self._tasks, *self._jobs]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: closing must never hang on a task that ignores its cancel
            await asyncio.wait(tasks, timeout=5)
        await self.pool.close()
        with contextlib.suppress(Exception):
            await self._flush()

    @property
    def isolation(self) -> dict[str, Any]:
        return self.pool.isolation

    # -- input -----------------------------------------------------------------------------------
    def submit(self, candidate_ids: Iterable[int]) -> None:
        """Queue candidates (non-blocking); verdicts arrive on the bus as they are stored."""
        ids = list(candidate_ids)
        if not ids:
            return
        self._incoming.extend(ids)
        self._outstanding += len(ids)
        self._idle.clear()
        self._wakeup.set()

    async def verify(self, candidate_id: int) -> Verdict:
        """Run one candidate now and return its stored verdict (the TUI's edit path).

        Always executes the program (an existing verdict, its own or a same-program one, is
        replaced, e.g. after the limits changed) and stores the result in place."""
        fut: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(candidate_id, []).append(fut)
        self._fresh.add(candidate_id)
        self.submit([candidate_id])
        return await fut

    async def drain(self) -> None:
        """Wait until everything submitted so far has a stored verdict."""
        await self._idle.wait()
        if self._error is not None:
            raise self._error

    # -- pipeline --------------------------------------------------------------------------------
    async def _feed(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._incoming:
                    chunk, self._incoming = self._incoming[:500], self._incoming[500:]
                    await self._dispatch(chunk)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self._error = self._error or exc
        for futs in self._waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.set_exception(exc)
        self._waiters.clear()
        self._idle.set()

    async def _dispatch(self, ids: list[int]) -> None:
        rows = await q.candidates_by_id(self.store, ids)
        by_id = {r["id"]: r for r in rows}
        await self._load_specs({r["problem_id"] for r in rows})
        await self._load_known(rows)
        seen: set[int] = set()
        for cid in ids:
            row = by_id.get(cid)
            if cid in seen:  # the same id twice in one chunk: one verdict serves both
                self._settle()
                continue
            seen.add(cid)
            if row is None:
                self._done(cid, None)
                continue
            key = (row["problem_id"], row["code_hash"])
            fresh = cid in self._fresh
            self._fresh.discard(cid)
            if key in self._known and not fresh:
                self.counts["reused"] += 1
                self._buffer.append((cid, row["problem_id"], self._known[key]))
            elif key in self._inflight:
                self.counts["reused"] += 1
                self._inflight[key].append((cid, row["problem_id"]))
            else:
                self._inflight[key] = [(cid, row["problem_id"])]
                await self._slots.acquire()
                task = asyncio.create_task(self._run(key, row["code"]))
                self._jobs.add(task)
                task.add_done_callback(self._jobs.discard)
        self._kick()

    async def _load_specs(self, problem_ids: set[str]) -> None:
        """Specs of new problems, with their expected sides evaluated outside any candidate."""
        todo = sorted(p for p in problem_ids if p not in self._specs)
        specs = {}
        for row in await q.problems_by_id(self.store, todo):
            try:
                specs[row["id"]] = spec_from_problem(row)
            except VerifyError as exc:
                self._specs[row["id"]] = str(exc)
        ready = await asyncio.gather(
            *(prepare(spec, self.pool.run, self.config) for spec in specs.values())
        )
        self._specs.update(zip(specs, ready, strict=True))

    async def _load_known(self, rows: list[Any]) -> None:
        """Verdicts already stored for a same-hash candidate of the same problem."""
        keys = {(r["problem_id"], r["code_hash"]) for r in rows} - self._known.keys()
        if not keys:
            return
        problems = sorted({k[0] for k in keys})
        hashes = sorted({k[1] for k in keys})
        for row in await q.verdicts_of_programs(self.store, problems, hashes):
            key = (row["problem_id"], row["code_hash"])
            if key in keys:
                fields = {k: row[k] for k in row.keys() if k not in ("problem_id", "code_hash")}  # noqa: SIM118
                fields["output"] = fields["output"] or ""
                fields["duration_s"] = fields["duration_s"] or 0.0
                fields["flags"] = tuple(_flags(fields["flags"]))
                self._known[key] = Verdict(**fields)

    async def _run(self, key: Key, code: str) -> None:
        try:
            spec = self._specs.get(key[0])
            if spec is None:
                verdict = Verdict("error", f"problem {key[0]}: no such problem")
            elif isinstance(spec, str):
                verdict = Verdict("error", spec, error_type="ProblemError")
            else:
                report = await self.pool.run(make_job(code, spec.spec, self.config, spec))
                verdict = make_verdict(report, spec.spec, self.config.tolerance, spec)
                verdict = await flag_spurious(verdict, code, spec.spec, self.pool.run, self.config)
            self.counts["executed"] += 1
            self._known[key] = verdict
            for cid, problem_id in self._inflight.pop(key, []):
                self._buffer.append((cid, problem_id, verdict))
            self._kick()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._slots.release()

    def _kick(self) -> None:
        """Flush now rather than on the timer: a full batch, someone awaiting one of these
        verdicts, or nothing else left to wait for."""
        if (
            len(self._buffer) >= self.batch_size
            or (self._waiters and any(cid in self._waiters for cid, _, _ in self._buffer))
            or (not self._inflight and not self._incoming)
        ):
            self._flush_now.set()

    async def _flusher(self) -> None:
        """Flush when kicked or every flush_s. A timer sets the event rather than wait_for:
        on Python 3.11 a cancel that meets wait_for's own timeout can be lost, and close()
        would then wait for this task forever."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                timer = loop.call_later(self.flush_s, self._flush_now.set)
                try:
                    await self._flush_now.wait()
                finally:
                    timer.cancel()
                self._flush_now.clear()
                await self._flush()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)

    async def _flush(self) -> None:
        async with self._flush_lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        now = time.time()
        rows = [
            (
                cid, v.status, v.detail, v.passed, v.total, v.returned, v.expected, v.error_type,
                v.error_message, v.trace, v.output, v.duration_s, json.dumps(list(v.flags)),
                self._meta, now,
            )
            for cid, _, v in batch
        ]  # fmt: skip
        await self.store.executemany(UPSERT, rows)
        for cid, problem_id, v in batch:
            self.counts[v.status] += 1
            self.project.bus.publish(
                CandidateVerified(cid, problem_id, v.status, v.detail, v.duration_s)
            )
            self._done(cid, v)

    def _done(self, candidate_id: int, verdict: Verdict | None) -> None:
        self.counts["verified" if verdict is not None else "missing"] += 1
        for fut in self._waiters.pop(candidate_id, []):
            if fut.done():
                continue
            if verdict is None:
                fut.set_exception(VerifyError(f"candidate {candidate_id}: no such candidate"))
            else:
                fut.set_result(verdict)
        self._settle()

    def _settle(self) -> None:
        """One submitted id is accounted for; idle once none is left."""
        self._outstanding -= 1
        if self._outstanding <= 0 and not self._buffer:
            self._outstanding = 0
            self._idle.set()


async def verify_pending(
    project: Project,
    *,
    run_id: int | None = None,
    workers: int | None = None,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
) -> dict[str, Any]:
    """Verify every candidate without a verdict (of one run, or all); returns counts."""
    ids = await q.pending_candidate_ids(project.store, run_id)
    started = time.perf_counter()
    async with VerifierService(
        project, workers=workers, timeout_s=timeout_s, memory_mb=memory_mb
    ) as vs:
        vs.submit(ids)
        await vs.drain()
        isolation = vs.isolation
    elapsed = time.perf_counter() - started
    counts = dict(vs.counts)
    return {
        "pending": len(ids),
        "verified": counts.pop("verified", 0),
        "executed": counts.pop("executed", 0),
        "reused": counts.pop("reused", 0),
        "missing": counts.pop("missing", 0),
        "by_status": counts,
        "elapsed_s": round(elapsed, 3),
        "isolation": isolation,
    }


async def check_program(
    code: str, problem: Any, config: VerifierSection, *, pool: WorkerPool | None = None
) -> Verdict:
    """Run one program against one problem (row, mapping or CheckSpec); nothing is stored."""
    spec = spec_from_problem(problem)

    async def go(p: WorkerPool) -> Verdict:
        prepared = await prepare(spec, p.run, config)
        report = await p.run(make_job(code, spec, config, prepared))
        verdict = make_verdict(report, spec, config.tolerance, prepared)
        return await flag_spurious(verdict, code, spec, p.run, config)

    if pool is not None:
        return await go(pool)
    async with WorkerPool(1) as own:
        return await go(own)


def _flags(text: str | None) -> list[str]:
    try:
        flags = json.loads(text or "[]")
    except ValueError:
        return []
    return [f for f in flags if isinstance(f, str)] if isinstance(flags, list) else []
