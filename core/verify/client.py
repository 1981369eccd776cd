"""Engine side of the worker: spawn it, feed it jobs, await results. asyncio-native.

The worker is a separate `python -I -S worker.py` process with a near-empty environment, so it is
equally lean whether the engine, the TUI or a training subprocess starts it, and no API key is
there to inherit. If it dies (a bug, or the OOM killer), it is restarted and its in-flight jobs
are retried once; a job that was in flight twice when it died gets a `crashed` verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from core.errors import VerifyError

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
WORKER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
HELLO_TIMEOUT_S = 60.0
STALL_GRACE_S = 15.0
"""The engine's own hard kill: a worker with jobs that reports nothing for twice the longest
job timeout plus this is treated as wedged; its whole process group (and, through its PID
namespace, every candidate) is killed, and it is restarted."""


class WorkerClient:
    """`async with WorkerClient(slots) as wc: report = await wc.run(job)`."""

    def __init__(self, slots: int = 2) -> None:
        self.slots = slots
        self.isolation: dict[str, Any] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, tuple[dict[str, Any], asyncio.Future[dict[str, Any]], int]] = {}
        self._ids = itertools.count(1)
        self._stderr = b""
        self._closing = False
        self._progress = 0.0  # loop time of the last result (or of work arriving when idle)
        self._watchdog: asyncio.Task[None] | None = None
        self.stalls = 0

    async def __aenter__(self) -> WorkerClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-I", "-S", str(WORKER_SCRIPT), "--slots", str(self.slots),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=WORKER_ENV, start_new_session=True,
                limit=1 << 24,
            )  # fmt: skip
        except OSError as exc:
            raise VerifyError(
                f"cannot start the verifier worker ({sys.executable}): {exc}"
            ) from exc
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), HELLO_TIMEOUT_S)
            self.isolation = json.loads(line)["hello"]
        except (TimeoutError, ValueError, KeyError, TypeError):
            err = b""
            if self._proc.stderr is not None:
                with contextlib.suppress(TimeoutError):
                    err = await asyncio.wait_for(self._proc.stderr.read(2000), 1)
            self._proc.kill()
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise VerifyError(f"verifier worker failed to start: {last[0]}") from None
        self._reader = asyncio.create_task(self._read())
        self._stderr_task = asyncio.create_task(self._drain_stderr(self._proc))
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        """Kill a worker that stopped making progress (see STALL_GRACE_S)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, STALL_GRACE_S / 4))
            proc = self._proc
            if proc is None or not self._pending or proc.returncode is not None:
                continue
            longest = max(float(job.get("timeout_s", 5.0)) for job, _, _ in self._pending.values())
            if loop.time() - self._progress > 2 * longest + STALL_GRACE_S:
                self.stalls += 1
                await self._kill_group(proc)
                self._progress = loop.time()

    async def _kill_group(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM first (the worker then kills its candidates itself), SIGKILL the group after
        a moment; the reader sees the pipe close and restarts the worker."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    async def _drain_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while chunk := await proc.stderr.read(4096):
            self._stderr = (self._stderr + chunk)[-4000:]

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        while line := await stdout.readline():
            self._progress = asyncio.get_running_loop().time()
            try:
                result = json.loads(line)
            except ValueError:
                continue
            entry = self._pending.pop(result.pop("id", None), None)
            if entry is not None and not entry[1].done():
                entry[1].set_result(result)
        if not self._closing:
            await self._restart()

    async def _restart(self) -> None:
        """The worker died: start a new one and resubmit what was in flight (once)."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            await self._proc.wait()
        inflight = list(self._pending.items())
        self._pending.clear()
        try:
            await self.start()
        except VerifyError as exc:
            for _, (_, fut, _) in inflight:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for _, (job, fut, attempts) in inflight:
            if attempts >= 2:
                fut.set_result(
                    {"status": "crashed", "error_type": "WorkerDied",
                     "error_message": "the verifier worker died twice while running this program"}
                )  # fmt: skip
            else:
                self._send(job, fut, attempts + 1)

    def _send(
        self, job: dict[str, Any], fut: asyncio.Future[dict[str, Any]], attempts: int
    ) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        job_id = next(self._ids)
        if not self._pending:
            self._progress = asyncio.get_running_loop().time()
        self._pending[job_id] = (job, fut, attempts)
        self._proc.stdin.write((json.dumps({**job, "id": job_id}) + "\n").encode())

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job; returns the worker's report (see worker.classify)."""
        if self._proc is None:
            raise VerifyError("verifier worker is not running")
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._send(job, fut, 1)
        assert self._proc.stdin is not None
        await self._proc.stdin.drain()
        return await fut

    async def close(self) -> None:
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                proc.stdin.close()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            await self._kill_group(proc)
            await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for _, fut, _ in self._pending.values():
            if not fut.done():
                fut.set_exception(VerifyError("verifier worker closed"))
        self._pending.clear()
        self._proc = None


class WorkerPool:
    """`workers` single-slot worker processes fed from one queue.

    One process per slot, because the parent's share of a candidate (fork, reap, clean up) is
    serial within a process: on this class of machine a fork alone costs ~2 ms, so one parent
    caps out near 300 candidates/s no matter how many cores there are. Two jobs are kept in
    flight per process so it never idles waiting for the engine's next message."""

    def __init__(self, workers: int = 2) -> None:
        self.clients = [WorkerClient(1) for _ in range(max(1, workers))]
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = (
            asyncio.Queue()
        )
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def isolation(self) -> dict[str, Any]:
        return self.clients[0].isolation

    async def __aenter__(self) -> WorkerPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        try:
            await asyncio.gather(*(c.start() for c in self.clients))
        except BaseException:
            await self.close()
            raise
        self._tasks = [
            asyncio.create_task(self._consume(c)) for c in self.clients for _ in range(2)
        ]

    async def _consume(self, client: WorkerClient) -> None:
        while True:
            job, fut = await self._queue.get()
            if fut.done():
                continue
            try:
                result = await client.run(job)
            except Exception as exc:
                if not fut.done():
                    fut.set_exception(exc)
            else:
                if not fut.done():
                    fut.set_result(result)

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, fut))
        return await fut

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(VerifyError("verifier closed"))
