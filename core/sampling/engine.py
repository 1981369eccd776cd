"""`sample()`: send a plan's requests to the teacher, store what comes back, verify as it goes.

Requests run under a semaphore (`concurrency`); each is committed with its candidates in one
transaction. Before a request is issued the budget check counts what is spent plus the cost
bound of everything in flight, so the run never passes `budget_usd`. A request that finally
fails is recorded and the run goes on; it is sent once more after every other request (the
final retry pass: a server that dropped streams under load often answers when the load is
gone). Samples still missing then end the run `incomplete`, not `done`, with the failure
reasons counted in the summary. If the very first outcomes are all failures of a kind
that will not heal (no connection, bad key, unknown model) the call stops, removes a run it
created that holds nothing, and raises one TeacherError line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from core.errors import EktError, TeacherError
from core.events import (
    BudgetExhausted,
    CandidateAdded,
    ConcurrencyChanged,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RunStateChanged,
    TeacherNotice,
    TokensStreamed,
)
from core.project import Project
from core.prompts import RenderedPrompt
from core.prompts.completion import completion_to_code
from core.queries.candidates import run_has_candidates, unverified_candidate_ids
from core.sampling.options import DryRunPlan, RunControl, RunSummary, SampleOptions
from core.sampling.plan import Plan, Work, build_plan, request_bound
from core.sampling.record import Outcome, RequestWriter, begin, discard_run, set_status
from core.store import VERDICT_STATUSES

if TYPE_CHECKING:
    from core.teacher import Teacher

# Failures that every further request would repeat: stop instead of burning through the run.
# (A plain TeacherError says so itself; these failure classes do when nothing succeeded yet.)
FATAL = {"connection", "auth", "not_found"}


def _cost(prompt: int, completion: int, plan: Plan) -> float:
    return (prompt * plan.teacher.price_prompt + completion * plan.teacher.price_completion) / 1e6


def _extraction(plan: Plan, rendered: RenderedPrompt) -> RenderedPrompt:
    """How a choice becomes code: completion mode continues the prompt's code prefix and cuts at
    its stops; a chat answer is its fenced block, else the whole answer."""
    extra = tuple(plan.sampling.stop)
    if plan.teacher.mode == "chat":
        return RenderedPrompt(rendered.text, "", extra)
    return RenderedPrompt(rendered.text, rendered.code_prefix, (*rendered.stop, *extra))


class _Once:
    """A callable that runs its function the first time only (a semaphore slot's release)."""

    def __init__(self, fn: Any) -> None:
        self.fn: Any = fn

    def __call__(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            fn()


class _Run:
    def __init__(
        self, project: Project, plan: Plan, teacher: Teacher | None, control: RunControl
    ) -> None:
        """`teacher` is None only for a run with nothing to send (no request is issued)."""
        self.project, self.plan, self.teacher, self.control = project, plan, teacher, control
        self.bus = project.bus
        self.run_id = 0
        self.reserved = 0.0
        self.spent = plan.stored_cost_usd
        self.summary: RunSummary | None = None
        self.inflight: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()
        self.successes = 0
        self.fatal: str | None = None
        self.first_error = ""
        self.verifier: Any = None
        self.writer: RequestWriter | None = None
        self.deferred: list[Work] = []  # failed once: sent again by the final retry pass
        self.final_pass = False
        self.missing: list[Work] = []  # failed in the final pass too
        self.noticed: set[str] = set()

    # -- one request ------------------------------------------------------------------------------
    async def one(self, w: Work, bound: float, free_slot: Any = None) -> None:
        """One request; `free_slot` is called once the teacher has answered (the store write
        that follows needs no HTTP slot, so the next request starts while it commits)."""
        from core.teacher import TeacherFailure, TeacherRequest

        assert self.summary is not None and self.writer is not None and w.request_id is not None
        assert self.teacher is not None
        s, rid, pid = self.plan.sampling, w.request_id, w.problem_id
        stops = () if self.plan.teacher.mode == "chat" else w.rendered.stop
        req = TeacherRequest(
            prompt=w.rendered.text, n=w.n, stop=list(dict.fromkeys([*stops, *s.stop])),
            max_tokens=s.max_tokens, temperature=s.temperature, top_p=s.top_p, seed=s.seed,
        )  # fmt: skip
        self.bus.publish(RequestStarted(self.run_id, rid, pid, w.n))

        def on_delta(choice: int, text: str) -> None:
            self.bus.publish(TokensStreamed(self.run_id, rid, pid, w.first_index + choice, text))

        def on_retry(error_class: str, message: str, attempt: int) -> None:
            self.bus.publish(RequestFailed(self.run_id, rid, pid, error_class, message, False))

        started = time.time()
        outcome: Outcome
        try:
            try:
                result = await self.teacher.complete(req, on_delta=on_delta, on_retry=on_retry)
            except TeacherFailure as exc:
                outcome = self._failed(w, started, exc.error_class, str(exc), exc.attempts)
            except TeacherError as exc:  # the teacher itself is unusable: stop the run
                self.fatal = self.fatal or str(exc)
                outcome = self._failed(w, started, "TeacherError", str(exc), 1)
            except Exception as exc:
                outcome = self._failed(w, started, type(exc).__name__, str(exc), 1)
            else:
                self._notice_endpoint(result.usage_reported)
                ex = _extraction(self.plan, w.rendered)
                choices = sorted(result.choices, key=lambda c: c.index)[: w.n]
                codes = [(completion_to_code(ex, c.text), c.text) for c in choices]
                cost = _cost(result.prompt_tokens, result.completion_tokens, self.plan)
                outcome = Outcome(
                    rid, self.run_id, pid, w.first_index, "done", result.attempts,
                    result.prompt_tokens, result.completion_tokens, cost, result.latency_s,
                    result.ttft_s, None, None, started, codes, w.source, w.parent_id,
                    w.feedback_id,
                )  # fmt: skip
            if free_slot is not None:
                free_slot()
            ids = await self.writer.write(outcome)
            later = outcome.status == "failed" and self._retry_later(outcome)
            if later:
                self.deferred.append(w)
            elif outcome.status == "failed":
                self.missing.append(w)
            self._account(outcome, ids, deferred=later)
        finally:
            self.reserved -= bound

    def _failed(self, w: Work, started: float, cls: str, msg: str, attempts: int) -> Outcome:
        msg = (msg.splitlines() or [cls])[0][:500]
        assert w.request_id is not None
        return Outcome(
            w.request_id, self.run_id, w.problem_id, w.first_index, "failed", attempts, None,
            None, None, time.time() - started, None, cls, msg, started, [],
        )  # fmt: skip

    def notice(self, kind: str, message: str) -> None:
        """Say something about the endpoint once per run: an event and a summary line."""
        assert self.summary is not None
        if kind in self.noticed:
            return
        self.noticed.add(kind)
        self.summary.notices.append(message)
        self.bus.publish(TeacherNotice(self.run_id, kind, message))

    def _notice_endpoint(self, usage_reported: bool) -> None:
        assert self.summary is not None
        fallback = getattr(self.teacher, "n_fallback", None)
        if fallback:
            self.notice("n_fallback", f"n>1 falls back to one request per sample: {fallback}")
        if not usage_reported:
            self.summary.tokens_estimated += 1
            self.notice("usage_estimated", "the endpoint reports no token usage: token counts"
                        " and cost are estimates (counted with the local tokenizer)")  # fmt: skip

    def _retry_later(self, o: Outcome) -> bool:
        """A failure the final pass sends again: not in that pass, not one that stops the run."""
        return not self.final_pass and self.fatal is None and o.error_class not in FATAL

    def _account(self, o: Outcome, ids: list[int], *, deferred: bool = False) -> None:
        sm = self.summary
        assert sm is not None
        if o.status == "failed":
            self.first_error = self.first_error or f"{o.error_class}: {o.error}"
            if not deferred:
                sm.requests_failed += 1
                key = o.error_class or "error"
                sm.failures[key] = sm.failures.get(key, 0) + 1
            self.bus.publish(
                RequestFailed(
                    self.run_id,
                    o.request_id,
                    o.problem_id,
                    o.error_class or "",
                    o.error or "",
                    not deferred,
                )
            )
            if self.successes == 0 and (o.error_class in FATAL) and self.fatal is None:
                self.fatal = f"teacher {self.plan.description()}: {o.error}"
            return
        self.successes += 1
        sm.requests_done += 1
        sm.samples += len(ids)
        sm.prompt_tokens += o.prompt_tokens or 0
        sm.completion_tokens += o.completion_tokens or 0
        sm.cost_usd += o.cost_usd or 0.0
        self.spent += o.cost_usd or 0.0
        self.bus.publish(
            RequestFinished(
                self.run_id, o.request_id, o.problem_id, o.prompt_tokens or 0,
                o.completion_tokens or 0, o.cost_usd or 0.0, o.latency_s or 0.0,
            )
        )  # fmt: skip
        for cid in ids:
            self.bus.publish(CandidateAdded(cid, o.problem_id, o.source, self.run_id))
        if self.verifier is not None and ids:
            self.verifier.submit(ids)

    # -- the schedule -----------------------------------------------------------------------------
    async def _until(self, event_wait: Any) -> bool:
        """Await `event_wait` unless stop comes first; True when it completed."""
        task = asyncio.ensure_future(event_wait)
        stop = asyncio.ensure_future(self.control.wait_stopped())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def _pause_point(self) -> bool:
        if self.control.paused and not self.control.stopped:
            await self._state("paused")
            await self._until(self.control.wait_running())
            if not self.control.stopped:
                await self._state("running")
        return not self.control.stopped

    async def _state(self, state: str, message: str = "") -> None:
        await set_status(self.project, self.run_id, state)
        self.bus.publish(RunStateChanged(self.run_id, state, message))

    async def schedule(self, slots: asyncio.Semaphore, work: list[Work] | None = None) -> str:
        """Issue every request (of `work`, default the plan's); returns why issuing ended:
        done | stopped | budget | fatal."""
        budget = self.plan.sampling.budget_usd
        for w in self.plan.work if work is None else work:
            while True:  # a pause that comes while waiting for a slot holds this request
                if not await self._pause_point():
                    return "stopped"
                if not await self._until(slots.acquire()):
                    return "stopped"
                if not self.control.paused:
                    break
                slots.release()
            if self.fatal:
                slots.release()
                return "fatal"
            bound = request_bound(w, self.plan.sampling, self.plan.teacher, self.plan.prompt_exact)
            while budget is not None and self.spent + self.reserved + bound > budget:
                if not self.inflight:
                    slots.release()
                    return "budget"
                self.changed.clear()
                if not await self._until(self.changed.wait()):
                    slots.release()
                    return "stopped"
            self.reserved += bound
            free = _Once(slots.release)
            task = asyncio.create_task(self.one(w, bound, free))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
            task.add_done_callback(lambda _t, free=free: free())  # cancelled or failed early
            task.add_done_callback(lambda _t: self.changed.set())  # after leaving inflight
        return "done"

    async def final_retry(self, slots: asyncio.Semaphore) -> str:
        """Send each request that failed its last retry once more, after all the others."""
        assert self.summary is not None
        self.final_pass = True
        work, self.deferred = self.deferred, []
        self.summary.requests_retried = len(work)
        why = await self.schedule(slots, work)
        await self.finish_inflight(why)
        return why

    async def finish_inflight(self, why: str) -> None:
        """Wait for requests in flight (stop cancels them: they were not completed)."""
        while self.inflight:
            if why == "stopped" or self.control.stopped:
                for task in list(self.inflight):
                    task.cancel()
            done, _ = await asyncio.wait(set(self.inflight), timeout=0.5)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]


def fill_slots(work: list[Work], slots: int) -> list[Work]:
    """Split new requests' n so the request count is a whole number of `slots` waves.

    100 requests in 32 slots take 4 rounds of which the last keeps 28 slots idle (67% of C/L);
    splitting 28 of them in two gives 128 requests in 4 full rounds, and a request of n/2
    finishes sooner on a real server. Only runs with more requests than slots are split (a
    handful of requests already has a slot each), and only requests not stored yet."""
    extra = -len(work) % slots if len(work) > slots else 0
    if not extra:
        return work
    out: list[Work] = []
    for w in sorted(work, key=lambda w: -w.n):  # the largest n first: the most to gain
        if extra and w.request_id is None and w.n >= 2:
            half = w.n // 2
            out.append(replace(w, n=w.n - half))
            out.append(replace(w, first_index=w.first_index + w.n - half, n=half))
            extra -= 1
        else:
            out.append(w)
    return _keep_order(work, out)


def _keep_order(before: list[Work], after: list[Work]) -> list[Work]:
    """`after` in the problem order of `before` (the plan's import order)."""
    rank: dict[str, int] = {}
    for w in before:
        rank.setdefault(w.problem_id, len(rank))
    return sorted(after, key=lambda w: (rank[w.problem_id], w.first_index))


async def _open_teacher(plan: Plan) -> Teacher:
    from core.teacher import make_teacher

    teacher = make_teacher(plan.teacher)
    start = getattr(teacher, "start", None)
    if start is not None:  # a local model loads here: a bad model fails before any write
        try:
            await start()
        except BaseException:
            with contextlib.suppress(Exception):
                await teacher.aclose()
            raise
    return teacher


def _teacher_doc(plan: Plan, teacher: Teacher | None) -> dict[str, Any]:
    cfg = plan.teacher.model_dump(exclude={"api_key_env"})
    return {"description": getattr(teacher, "description", plan.description()), "config": cfg}


async def sample(
    project: Project, options: SampleOptions, *, control: RunControl | None = None
) -> RunSummary:
    """Create or continue a run and sample its missing samples; see the module docstring."""
    return await execute(project, await build_plan(project, options), control=control)


async def execute(project: Project, plan: Plan, *, control: RunControl | None = None) -> RunSummary:
    """Send a built plan's work (a sampling plan, or a derived run's: see core/refine)."""
    control = control or RunControl()
    started = time.perf_counter()
    plan.work = fill_slots(plan.work, plan.sampling.concurrency)
    teacher = await _open_teacher(plan) if plan.work else None  # nothing to send: no model load
    try:
        created = plan.run_id is None
        run_id = await begin(project, plan, _teacher_doc(plan, teacher), plan.sampling.budget_usd)
        run = _Run(project, plan, teacher, control)
        run.run_id = run_id
        run.summary = RunSummary(
            run_id, plan.name, "running", created, _teacher_doc(plan, teacher)["description"],
            len(plan.problems), len(plan.work), budget_usd=plan.sampling.budget_usd,
        )  # fmt: skip
        project.bus.publish(RunStateChanged(run_id, "running", plan.name))
        _adapt_concurrency(project, plan, run, teacher)
        check = getattr(teacher, "check_model", None)
        if check is not None and (warning := await check()):
            run.notice("model_not_listed", warning)
        return await _drive(project, plan, run, created, started)
    finally:
        if teacher is not None:
            with contextlib.suppress(Exception):
                await teacher.aclose()


def _adapt_concurrency(project: Project, plan: Plan, run: _Run, teacher: Teacher | None) -> None:
    """A teacher with an adaptive limit (the OpenAI backend) starts at the run's concurrency
    and reports each change (the dashboard shows it; the summary keeps the lowest)."""
    setter = getattr(teacher, "set_concurrency", None)
    sm = run.summary
    assert sm is not None
    sm.concurrency = sm.concurrency_lowest = sm.concurrency_max = plan.sampling.concurrency
    if setter is None:
        return

    def changed(limit: int, why: str) -> None:
        sm.concurrency = limit
        sm.concurrency_lowest = min(sm.concurrency_lowest, limit)
        project.bus.publish(ConcurrencyChanged(run.run_id, limit, why))

    setter(plan.sampling.concurrency, changed)


async def _drive(project: Project, plan: Plan, run: _Run, created: bool, t0: float) -> RunSummary:
    from core.verify.service import VerifierService

    sm = run.summary
    assert sm is not None
    vs_cm: Any = VerifierService(project) if plan.sampling.verify else contextlib.nullcontext()
    why = "failed"
    try:
        async with vs_cm as vs, RequestWriter(project) as writer:
            run.verifier, run.writer = vs, writer
            if vs is not None:  # a resumed run's samples stored before their verdicts
                vs.submit(await unverified_candidate_ids(project.store, run.run_id))
            slots = asyncio.Semaphore(plan.sampling.concurrency)
            try:
                why = await run.schedule(slots)
                await run.finish_inflight(why)
                if why == "done" and run.deferred and not run.fatal and not run.control.stopped:
                    why = await run.final_retry(slots)
            except BaseException:
                for task in list(run.inflight):
                    task.cancel()
                raise
            if run.control.stopped and why == "done":
                why = "stopped"
            if vs is not None and why != "stopped":
                await vs.drain()
            if vs is not None:
                sm.verdicts = {k: v for k, v in vs.counts.items() if k in VERDICT_STATUSES}
    except BaseException as exc:
        # cancelled (the app quits, a second Ctrl-C): stopped and resumable, like stop()
        state = (
            "stopped" if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt) else "failed"
        )
        msg = str(exc) if isinstance(exc, EktError) else type(exc).__name__
        with contextlib.suppress(BaseException):
            await asyncio.shield(run._state(state, msg if state == "failed" else "cancelled"))
        raise
    sm.elapsed_s = time.perf_counter() - t0
    sm.run_cost_usd = run.spent
    if why == "done" and sm.requests_done == 0 and sm.requests_failed > 0:
        run.fatal = run.fatal or (
            f"all {sm.requests_failed} requests to {plan.description()} failed;"
            f" first: {run.first_error}"
        )
    if run.fatal:
        assert run.fatal is not None
        if created and not await run_has_candidates(project.store, run.run_id):
            await discard_run(project, run.run_id)
        else:
            await run._state("failed", run.fatal)
        raise TeacherError(run.fatal)
    if why == "budget":
        sm.budget_exhausted = True
        unsent = sm.requests_planned - sm.requests_done - sm.requests_failed
        sm.message = (
            f"budget ${plan.sampling.budget_usd:.4f} reached: stopped issuing requests at"
            f" ${run.spent:.4f} spent ({unsent} requests not sent)"
        )
        project.bus.publish(BudgetExhausted(run.run_id, run.spent, plan.sampling.budget_usd or 0.0))
        sm.state = "stopped"
    elif why == "stopped":
        sm.state, sm.message = "stopped", "stopped: resume with the same command"
    elif run.missing:
        sm.state = "incomplete"
        sm.samples_missing = sum(w.n for w in run.missing)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(sm.failures.items()))
        sm.message = (
            f"incomplete: {sm.samples_missing} samples missing ({len(run.missing)} requests"
            f" failed twice: {reasons}); resume with the same command to send them again"
        )
    else:
        sm.state = "done"
    await run._state(sm.state, sm.message)
    return sm


async def dry_run(project: Project, options: SampleOptions) -> DryRunPlan:
    """What `sample()` would send: nothing is sent and nothing is written."""
    return estimate(await build_plan(project, options, write=False))


def estimate(plan: Plan) -> DryRunPlan:
    """A built plan's requests, tokens and cost bound (what a dry run prints)."""
    plan.work = fill_slots(plan.work, plan.sampling.concurrency)
    s, t = plan.sampling, plan.teacher
    prompt_tokens = sum(w.prompt_tokens for w in plan.work)
    completion = sum(w.n * s.max_tokens for w in plan.work)
    bound = sum(request_bound(w, s, t, plan.prompt_exact) for w in plan.work)
    return DryRunPlan(
        plan.name, plan.exists, plan.description(),
        {k: p.label for k, p in plan.prompts.items()}, len(plan.problems), len(plan.work),
        sum(w.n for w in plan.work), prompt_tokens, plan.prompt_exact, completion, bound,
        plan.done_samples, t.price_prompt, t.price_completion, s.budget_usd,
    )  # fmt: skip
