"""Embeddings of questions or programs, cached in the store (model × kind × item → float16).

The vectors come from `python -m core.embed` (see `__main__`), so torch never loads in the
engine or the UI. The embedder is any Hugging Face model (hub id or folder) or the offline
default, the bundled student model ("smollm2"), mean-pooled. Only items missing from the cache
are sent; a second call over the same items computes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelError
from core.models import DEFAULT_MODEL, ensure_local_model, resolve_model
from core.queries.embeddings import cached_vectors
from core.store import Store

KINDS = ("question", "code")
BATCH = 64  # texts per request to the subprocess (one progress step)
READY_TIMEOUT_S = 900.0

ProgressFn = Callable[[int, int], None]  # (items embedded so far, items to embed)


def embedder_id(spec: str | None) -> str:
    """The cache key of an embedder: the default's model name, a folder's resolved path or a
    hub id. An unusable spec is a one-line ModelError (nothing loaded, nothing written)."""
    ref = resolve_model(spec or DEFAULT_MODEL)
    if ref.kind == "folder":
        return str(ref.path)
    if ref.kind == "gguf" and ref.spec.lower() not in {DEFAULT_MODEL, "default"}:
        return str(ref.path)
    return ref.name


@dataclass(frozen=True, slots=True)
class Embedded:
    """Vectors (float32 rows, in the order of `ids`) and how many were computed now."""

    model: str
    kind: str
    ids: list[str]
    vectors: np.ndarray
    computed: int


class EmbedWorker:
    """`async with EmbedWorker(folder) as w: await w.embed(texts)` → float16 rows."""

    def __init__(self, folder: str, *, max_length: int = 512) -> None:
        self.folder = folder
        self.max_length = max_length
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=20)
        self._drain: asyncio.Task[None] | None = None
        self._ids = 0
        self.dim = 0

    async def __aenter__(self) -> EmbedWorker:
        cmd = [sys.executable, "-m", "core.embed", "--model", self.folder]
        cmd += ["--max-length", str(self.max_length)]
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
        root = str(Path(__file__).resolve().parent.parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, limit=1 << 26,
        )  # fmt: skip
        self._drain = asyncio.create_task(self._drain_stderr())
        try:
            msg = await asyncio.wait_for(self._read(), READY_TIMEOUT_S)
        except TimeoutError:
            await self.close()
            raise ModelError(
                f"{self.folder}: embedder did not load in {READY_TIMEOUT_S:.0f} s"
            ) from None
        except BaseException:
            await self.close()
            raise
        if msg.get("type") != "ready":
            await self.close()
            raise ModelError(f"{self.folder}: cannot load embedder: {msg.get('message', '?')}")
        self.dim = int(msg.get("dim") or 0)
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
        if self._drain is not None and not self._drain.done():
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drain

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while line := await self._proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if text:
                self._stderr.append(text)

    async def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            line = await self._proc.stdout.readline()
            if not line:
                await self._proc.wait()
                last = next((s for s in reversed(self._stderr) if s.strip()), "")
                raise ModelError(
                    f"{self.folder}: embedding subprocess exited (code {self._proc.returncode})"
                    + (f": {last[:300]}" if last else "")
                )
            with contextlib.suppress(json.JSONDecodeError):
                return dict(json.loads(line))

    async def embed(self, texts: list[str]) -> list[bytes]:
        assert self._proc is not None and self._proc.stdin is not None
        self._ids += 1
        self._proc.stdin.write((json.dumps({"id": self._ids, "texts": texts}) + "\n").encode())
        await self._proc.stdin.drain()
        msg = await self._read()
        if msg.get("type") != "result":
            raise ModelError(f"{self.folder}: embedding failed: {msg.get('message', '?')}")
        return [base64.b64decode(v) for v in msg["vectors"]]


async def store_vectors(store: Store, model: str, kind: str, rows: list[tuple[str, bytes]]) -> None:
    """Cache computed vectors (the embeddings table is written here only)."""
    now = time.time()
    await store.executemany(
        "INSERT OR REPLACE INTO embeddings(model, kind, item_id, dim, vector, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(model, kind, i, len(v) // 2, v, now) for i, v in rows],
    )


async def embed_items(
    store: Store,
    kind: str,
    items: Sequence[tuple[str, str]],
    *,
    embedder: str | None = None,
    batch: int = BATCH,
    on_progress: ProgressFn | None = None,
) -> Embedded:
    """Vectors of (item id, text) pairs: cached ones read back, the rest computed in the
    subprocess in batches (each batch cached as it arrives, so an interrupted call keeps what
    it did) with on_progress(done, total) after each."""
    if kind not in KINDS:
        raise ModelError(f"unknown embedding kind {kind!r} (expected question or code)")
    model = embedder_id(embedder)
    ids = [str(i) for i, _ in items]
    have = await cached_vectors(store, model, kind, ids)
    todo = [(str(i), t) for i, t in items if str(i) not in have]
    if todo:
        folder = await asyncio.to_thread(ensure_local_model, embedder or DEFAULT_MODEL)
        if on_progress is not None:
            on_progress(0, len(todo))
        async with EmbedWorker(str(folder)) as worker:
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                vectors = await worker.embed([t for _, t in chunk])
                rows = [(i, v) for (i, _), v in zip(chunk, vectors, strict=True)]
                await store_vectors(store, model, kind, rows)
                have.update(rows)
                if on_progress is not None:
                    on_progress(start + len(chunk), len(todo))
    matrix = (
        np.stack([np.frombuffer(have[i], dtype=np.float16) for i in ids])
        if ids
        else (np.zeros((0, 0), dtype=np.float16))
    )
    return Embedded(model, kind, ids, matrix.astype(np.float32), len(todo))


__all__ = [
    "KINDS",
    "EmbedWorker",
    "Embedded",
    "ProgressFn",
    "embed_items",
    "embedder_id",
    "store_vectors",
]
