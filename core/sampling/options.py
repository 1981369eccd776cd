"""What a sampling call is asked to do, how it is steered while running, and what it reports.

`SampleOptions` holds per-call overrides of the project's `[teacher]` / `[sampling]` sections
(None = keep the config's value); `effective_sections` validates the merge exactly like
ekt.toml, so a bad value fails with the same kind of one-line message before anything is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.config import ProjectConfig, SamplingSection, TeacherSection, format_validation_error
from core.errors import ConfigError

# Sampling fields that define a run's identity (with the teacher's IDENTITY_TEACHER and the
# prompt versions); the others may change from one invocation of a run to the next.
IDENTITY_SAMPLING = ("temperature", "top_p", "max_tokens", "stop", "seed")
IDENTITY_TEACHER = ("backend", "base_url", "model", "mode", "system")

S = TypeVar("S", bound=BaseModel)


class SampleOptions:
    """Which problems and run (declared here), and overrides of [teacher] / [sampling] by field
    name (declared once, in core/config.py; None or absent = keep the config's value).

    Sampling fields may be given as keywords (`SampleOptions(n=4, verify=True)`) and read as
    attributes (`options.n`, None when not overridden); an unknown keyword is a TypeError."""

    def __init__(
        self,
        *,
        run: str | None = None,
        limit: int | None = None,
        problems: list[str] | None = None,
        unsolved_only: bool = False,
        split: str | None = None,
        selection: str | None = None,
        teacher: dict[str, Any] | None = None,
        sampling: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        unknown = set(fields) - set(SamplingSection.model_fields)
        if unknown:
            raise TypeError(f"SampleOptions: no sampling field {', '.join(sorted(unknown))}")
        self.run, self.limit, self.problems = run, limit, problems
        self.unsolved_only, self.split = unsolved_only, split
        self.selection = selection  # a stored `ekt select` name: its problems, in pick order
        self.teacher = {k: v for k, v in (teacher or {}).items() if v is not None}
        merged = {**(sampling or {}), **fields}
        self.sampling = {k: v for k, v in merged.items() if v is not None}

    def __getattr__(self, key: str) -> Any:
        if key in SamplingSection.model_fields:
            return self.__dict__.get("sampling", {}).get(key)
        raise AttributeError(key)

    def __repr__(self) -> str:
        return f"SampleOptions({self.__dict__!r})"

    def sampling_overrides(self) -> dict[str, Any]:
        return dict(self.sampling)


def effective_sections(
    config: ProjectConfig,
    options: SampleOptions,
    *,
    stored_teacher: dict[str, Any] | None = None,
    stored_sampling: dict[str, Any] | None = None,
) -> tuple[TeacherSection, SamplingSection]:
    """ekt.toml, then a continued run's stored identity, then this call's overrides."""
    teacher = {**config.teacher.model_dump(), **(stored_teacher or {}), **options.teacher}
    sampling = {
        **config.sampling.model_dump(),
        **(stored_sampling or {}),
        **options.sampling_overrides(),
    }
    return _valid(TeacherSection, teacher, "teacher"), _valid(SamplingSection, sampling, "sampling")


def _valid(model: type[S], data: dict[str, Any], section: str) -> S:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error("sampling options", exc, section)) from None


def check_options(options: SampleOptions) -> None:
    """Values no config field validates: problem selection."""
    if options.limit is not None and options.limit < 1:
        raise ConfigError(f"limit {options.limit}: expected a positive number of problems")
    if options.problems is not None and not [p for p in options.problems if p.strip()]:
        raise ConfigError("problems: expected at least one problem id")
    if options.run is not None and not options.run.strip():
        raise ConfigError("run: expected a non-empty name")


class RunControl:
    """Pause / resume / stop a running `sample()` from outside (the TUI's buttons, a signal).

    Pause stops issuing new requests (those in flight finish and are stored); stop also
    cancels the requests in flight: they were not completed, so a resume sends them again."""

    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self._stopped = asyncio.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stopped.set()
        self._running.set()  # wake a paused run so it can end

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    async def wait_running(self) -> None:
        await self._running.wait()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()


@dataclass
class RunSummary:
    """The outcome of one `sample()` call (the run may hold more from earlier calls)."""

    run_id: int
    name: str
    state: str  # done | incomplete (samples missing) | stopped (by control or budget)
    created: bool
    teacher: str
    problems: int
    requests_planned: int
    requests_done: int = 0
    requests_failed: int = 0
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    run_cost_usd: float = 0.0
    budget_usd: float | None = None
    budget_exhausted: bool = False
    elapsed_s: float = 0.0
    verdicts: dict[str, int] = field(default_factory=dict)
    message: str = ""
    requests_retried: int = 0  # failed once, sent again by the final retry pass
    samples_missing: int = 0  # samples of requests that failed the final pass too
    failures: dict[str, int] = field(default_factory=dict)  # final failures by error class
    concurrency: int = 0  # the teacher's request limit at the end (adaptive: may be lower)
    concurrency_lowest: int = 0
    concurrency_max: int = 0  # [sampling] concurrency: where the adaptive limit starts
    notices: list[str] = field(default_factory=list)  # one line each: n fallback, model, usage
    tokens_estimated: int = 0  # requests whose token counts are estimates (no server usage)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class DryRunPlan:
    """What `sample()` would send, computed without sending or writing anything."""

    run: str
    exists: bool
    teacher: str
    prompts: dict[str, str]
    problems: int
    requests: int
    samples: int
    prompt_tokens: int
    prompt_tokens_exact: bool
    completion_tokens_bound: int
    cost_bound_usd: float
    already_done: int = 0
    price_prompt: float = 0.0
    price_completion: float = 0.0
    budget_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)
