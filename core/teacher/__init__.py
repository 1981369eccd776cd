"""The teacher: one protocol, two backends.

- `openai` (core.teacher.openai_backend): any OpenAI-compatible endpoint, streamed, `n` per
  request with a remembered fallback to single requests, retries per core.teacher.retry.
- `local` (core.teacher.local): a Hugging Face model in the `core.generate` subprocess.

Errors: `TeacherFailure` is one request that finally failed (recorded, the run goes on);
a plain `TeacherError` means the teacher itself is unusable (no key, wrong key, unknown model,
unreachable endpoint) and the run should stop with that line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.config import TeacherSection
from core.errors import TeacherError

__all__ = [
    "Teacher",
    "TeacherChoice",
    "TeacherFailure",
    "TeacherRequest",
    "TeacherResult",
    "make_teacher",
]


@dataclass(frozen=True)
class TeacherRequest:
    prompt: str
    n: int
    stop: list[str]
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None = None


@dataclass(frozen=True)
class TeacherChoice:
    index: int
    text: str  # stop sequences already cut
    finish_reason: str | None


@dataclass(frozen=True)
class TeacherResult:
    choices: list[TeacherChoice]  # ordered by index, 0..n-1
    prompt_tokens: int  # billed: summed over every HTTP call that produced choices
    completion_tokens: int
    usage_reported: bool  # False: counted with core.tokens (maybe an estimate)
    latency_s: float
    ttft_s: float | None
    attempts: int  # 1 + retries, over every HTTP call of this request


class TeacherFailure(TeacherError):
    """A request that failed for good after its retries; `error_class` is a short slug
    (rate_limit, server_error, timeout, connection, dropped_stream, malformed_chunk,
    bad_request, ...)."""

    def __init__(self, message: str, *, error_class: str, attempts: int) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.attempts = attempts


class Teacher(Protocol):
    description: str  # e.g. "openai:gpt-4o-mini@http://..." (stored in runs.teacher)

    async def complete(
        self,
        req: TeacherRequest,
        *,
        on_delta: Callable[[int, str], None] | None = None,  # (choice index, text piece)
        on_retry: Callable[[str, str, int], None] | None = None,  # (error_class, msg, attempt)
    ) -> TeacherResult: ...

    async def aclose(self) -> None: ...


def make_teacher(cfg: TeacherSection) -> Teacher:
    """The configured backend; imports only what that backend needs."""
    if cfg.backend == "openai":
        from core.teacher.openai_backend import OpenAITeacher

        return OpenAITeacher(cfg)
    if cfg.backend == "local":
        from core.teacher.local import LocalTeacher

        return LocalTeacher(cfg)
    raise TeacherError(f"[teacher] backend: unknown backend {cfg.backend!r} (openai or local)")
