"""Where evaluation samples come from: a local model in the generation subprocess, or the
configured teacher endpoint. Both are async context managers with one method,
`generate(rendered_prompts, n) -> list[list[str]]` (n completions per prompt, stop already cut).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from core.project import Project
from core.prompts import RenderedPrompt
from core.prompts.completion import cut_at_stop


class Generator(Protocol):
    async def generate(self, prompts: Sequence[RenderedPrompt], n: int) -> list[list[str]]: ...


def _texts(result: Any) -> list[str]:
    """One prompt's completions as strings, whatever shape the backend returns them in."""
    if isinstance(result, str):
        return [result]
    return [r if isinstance(r, str) else str(getattr(r, "text", r)) for r in result]


class _Local:
    def __init__(self, worker: Any, **params: Any) -> None:
        self.worker = worker
        self.params = params

    async def generate(self, prompts: Sequence[RenderedPrompt], n: int) -> list[list[str]]:
        # one worker call per distinct stop list (mixed problem kinds in one batch)
        out: list[list[str] | None] = [None] * len(prompts)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, r in enumerate(prompts):
            groups.setdefault(tuple(r.stop), []).append(i)
        for stop, idx in groups.items():
            results = await self.worker.generate(
                [prompts[i].text for i in idx], n=n, stop=list(stop), **self.params
            )
            for i, result in zip(idx, results, strict=True):
                out[i] = [cut_at_stop(t, stop) for t in _texts(result)]
        return [o or [] for o in out]


@contextlib.asynccontextmanager
async def local_generator(
    path: Path, *, temperature: float, top_p: float, max_tokens: int, seed: int
) -> AsyncIterator[Generator]:
    """Samples from a local model folder, generated in `python -m core.generate`."""
    from core.generate import GenerationWorker

    async with GenerationWorker(str(path)) as worker:
        yield _Local(
            worker,
            max_new_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
        )


class _Teacher:
    def __init__(self, teacher: Any, concurrency: int, **params: Any) -> None:
        self.teacher = teacher
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.params = params

    async def _one(self, rendered: RenderedPrompt, n: int) -> list[str]:
        from core.teacher import TeacherRequest

        req = TeacherRequest(rendered.text, n, list(rendered.stop), **self.params)
        async with self.slots:
            result = await self.teacher.complete(req)
        return [cut_at_stop(c.text, rendered.stop) for c in result.choices]

    async def generate(self, prompts: Sequence[RenderedPrompt], n: int) -> list[list[str]]:
        # one request per prompt (n choices each), up to [sampling] concurrency at once; a
        # request that finally fails stops the evaluation (resumable), it is not scored as wrong
        return list(await asyncio.gather(*(self._one(r, n) for r in prompts)))


@contextlib.asynccontextmanager
async def teacher_generator(
    project: Project, *, temperature: float, top_p: float, max_tokens: int, seed: int
) -> AsyncIterator[Generator]:
    """Samples from the configured teacher: a local teacher model runs in the same generation
    subprocess as a student would; an endpoint goes through the teacher's openai backend."""
    from core.models import ensure_local_model
    from core.teacher import make_teacher

    cfg = project.config.teacher
    if cfg.backend == "local":
        path = ensure_local_model(cfg.model)
        async with local_generator(
            path, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed
        ) as gen:
            yield gen
        return
    teacher = make_teacher(cfg)
    try:
        yield _Teacher(
            teacher,
            project.config.sampling.concurrency,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
        )
    finally:
        await teacher.aclose()
