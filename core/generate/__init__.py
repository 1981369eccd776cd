"""Local Hugging Face generation in a subprocess, so the event loop (and the UI) never blocks and
the engine never imports torch.

`GenerationWorker` starts `python -m core.generate` (see `__main__` for the JSON-lines protocol),
waits for the model to load, then serialises `generate` calls to it. A load failure or a child
that dies mid-request surfaces as a one-line ModelError naming the model and the cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelError

READY_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


DeltaFn = Callable[[int, int, str], None]


class GenerationWorker:
    """`async with GenerationWorker(path) as w: await w.generate([...], n=8, ...)`."""

    def __init__(
        self,
        model_path: str,
        *,
        dtype: str = "auto",
        device: str | None = None,
        prefix_cache: bool = True,
    ) -> None:
        self.model_path = model_path
        self.dtype = dtype
        self.device = device
        self.prefix_cache = prefix_cache
        self.info: dict[str, Any] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._stderr: deque[str] = deque(maxlen=20)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[list[list[Completion]]], DeltaFn | None]] = {}
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._lock = asyncio.Lock()
        self._dead: str | None = None

    @property
    def dead(self) -> bool:
        """True once the subprocess has exited: every further call raises ModelError."""
        return self._dead is not None

    @property
    def name(self) -> str:
        return Path(self.model_path).name or self.model_path

    async def start(self) -> None:
        folder = Path(self.model_path)
        if not folder.exists():
            raise ModelError(f"{self.model_path}: no such model folder")
        if folder.is_dir() and not (folder / "config.json").is_file():
            raise ModelError(f"{self.model_path}: not a model folder (no config.json)")
        cmd = [sys.executable, "-m", "core.generate", "--model", self.model_path]
        cmd += ["--dtype", self.dtype] + (["--device", self.device] if self.device else [])
        cmd += [] if self.prefix_cache else ["--no-prefix-cache"]
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
        root = str(Path(__file__).resolve().parent.parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            limit=1 << 26,
        )
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        try:
            self.info = await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT_S)
        except TimeoutError:
            await self.close()
            raise ModelError(
                f"{self.name}: model did not load in {READY_TIMEOUT_S:.0f} s"
            ) from None
        except BaseException:
            await self.close()
            raise

    async def __aenter__(self) -> GenerationWorker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except (TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in (self._reader, self._stderr_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._fail_all("generation worker closed")

    # -- protocol ---------------------------------------------------------------------------------
    async def generate(
        self,
        prompts: list[str],
        *,
        n: int,
        stop: list[str],
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int | None,
        on_delta: DeltaFn | None = None,
        chat: bool = False,
        system: str = "",
    ) -> list[list[Completion]]:
        """n completions per prompt (stop strings cut); deltas go to on_delta(prompt, choice,
        text) while they are generated. Calls are served one at a time, in order."""
        if not prompts:
            return []
        if self._proc is None:
            raise ModelError(f"{self.name}: generation worker not started")
        async with self._lock:
            if self._dead is not None:
                raise ModelError(self._dead)
            rid = next(self._ids)
            fut: asyncio.Future[list[list[Completion]]] = asyncio.get_running_loop().create_future()
            self._pending[rid] = (fut, on_delta)
            req = {
                "id": rid, "prompts": prompts, "n": n, "stop": list(stop),
                "max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p,
                "seed": seed, "stream": on_delta is not None, "chat": chat, "system": system,
            }  # fmt: skip
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write((json.dumps(req) + "\n").encode())
                await self._proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                self._pending.pop(rid, None)
                raise ModelError(self._death_message()) from None
            try:
                return await fut
            finally:
                self._pending.pop(rid, None)

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            line = await self._proc.stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            self._handle(msg)
        await self._proc.wait()
        if self._stderr_task is not None:  # the last stderr lines say why it died
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 2)
        self._dead = self._dead or self._death_message()
        self._fail_all(self._dead)

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "ready":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(msg)
            return
        if kind == "fatal":
            self._dead = f"{self.name}: cannot load model: {msg.get('message', '?')}"
            return
        entry = self._pending.get(msg.get("id", -1))
        if entry is None:
            return
        fut, on_delta = entry
        if kind == "delta" and on_delta is not None:
            on_delta(int(msg["prompt"]), int(msg["choice"]), msg["text"])
        elif kind == "result" and not fut.done():
            fut.set_result([[Completion(**c) for c in row] for row in msg["completions"]])
        elif kind == "error" and not fut.done():
            fut.set_exception(ModelError(f"{self.name}: generation failed: {msg['message']}"))

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while line := await self._proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if text:
                self._stderr.append(text)

    def _death_message(self) -> str:
        code = self._proc.returncode if self._proc is not None else None
        last = next((s for s in reversed(self._stderr) if s.strip()), "")
        why = f": {last.strip()[:300]}" if last else ""
        return f"{self.name}: generation subprocess exited (code {code}){why}"

    def _fail_all(self, message: str) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ModelError(self._dead or message))
        for fut, _ in list(self._pending.values()):
            if not fut.done():
                fut.set_exception(ModelError(self._dead or message))
        self._pending.clear()


__all__ = ["Completion", "GenerationWorker"]
