"""`ekt verify --calibrate`: time known-good programs here and suggest a timeout.

Reference programs are every reference solution the problems carry (MBPP `code`, HumanEval
`canonical_solution` in `meta`: all of them, since one slow reference is what a timeout must
cover) and, for datasets without one (GSM8K), up to `n` candidates that already passed.
They run under the project's limits with a generous timeout, `workers` at a time (the
contention real runs see), and the suggestion leaves ample headroom over the slowest.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
from dataclasses import dataclass
from typing import Any

from core.errors import VerifyError
from core.project import Project
from core.queries import verification as q
from core.verify.client import WorkerPool
from core.verify.service import effective_config
from core.verify.verdict import make_job, make_verdict, prepare, spec_from_problem

CALIBRATION_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Calibration:
    n: int
    passed: int
    median_s: float
    p95_s: float
    max_s: float
    suggested_timeout_s: float
    current_timeout_s: float
    references: int = (
        0  # of n: the problems' own reference solutions (the rest: passing candidates)
    )
    slowest: str = ""  # problem id of the slowest program


def _reference_code(problem: Any) -> str | None:
    try:
        meta = json.loads(problem["meta"] or "{}")
    except ValueError:
        return None
    if problem["kind"] == "check" and meta.get("canonical_solution"):
        return str(problem["prompt"] or "") + str(meta["canonical_solution"])
    code = meta.get("code")
    return code if isinstance(code, str) and code.strip() else None


async def _references(project: Project, n: int, seed: int) -> tuple[list[tuple[str, Any]], int]:
    """Every reference solution, then up to `n` passing candidates (shuffled by `seed`)."""
    refs = [
        (code, r)
        for r in await q.problems_with_reference(project.store)
        if (code := _reference_code(r))
    ]
    passing = [(r["code"], r) for r in await q.passing_programs(project.store, n * 4)]
    random.Random(seed).shuffle(passing)
    return refs + passing[:n], len(refs)


def suggest_timeout(durations: list[float]) -> float:
    """10x the 95th percentile or 3x the slowest, whichever is larger; at least 1 s; 0.5 s steps."""
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    raw = max(1.0, 10 * p95, 3 * ordered[-1])
    return math.ceil(raw * 2) / 2


async def calibrate(
    project: Project, *, n: int = 60, workers: int | None = None, seed: int = 0
) -> Calibration:
    refs, n_refs = await _references(project, n, seed)
    if not refs:
        raise VerifyError(
            "no reference programs to time: import MBPP/HumanEval problems (they carry reference"
            " solutions) or verify some candidates first"
        )
    config = effective_config(project.config.verifier, workers=workers)
    probe = config.model_copy()
    probe.timeout_s = max(config.timeout_s, CALIBRATION_TIMEOUT_S)
    async with WorkerPool(config.workers) as pool:

        async def one(code: str, row: Any) -> tuple[float, bool]:
            spec = spec_from_problem(row)
            prepared = await prepare(spec, pool.run, probe)
            report = await pool.run(make_job(code, spec, probe, prepared))
            verdict = make_verdict(report, spec, 1e-3, prepared)
            return verdict.duration_s, verdict.status == "pass"

        results = await asyncio.gather(*(one(code, row) for code, row in refs))
    durations = [d for d, ok in results if ok] or [d for d, _ in results]
    slowest = max(range(len(results)), key=lambda i: results[i][0])
    ordered = sorted(durations)
    return Calibration(
        n=len(results),
        passed=sum(ok for _, ok in results),
        median_s=statistics.median(ordered),
        p95_s=ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
        max_s=ordered[-1],
        suggested_timeout_s=suggest_timeout(durations),
        current_timeout_s=config.timeout_s,
        references=n_refs,
        slowest=str(refs[slowest][1]["id"]),
    )
