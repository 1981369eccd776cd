"""`ekt verify --calibrate`: time known-good programs here and suggest a timeout.

Reference programs are the problems' own reference solutions (MBPP `code`, HumanEval
`canonical_solution` in `meta`) and, for datasets without one (GSM8K), candidates that already
passed. They run under the project's limits with a generous timeout, `workers` at a time (the
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
from core.verify.client import WorkerPool
from core.verify.service import effective_config
from core.verify.verdict import make_job, make_verdict, spec_from_problem

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


def _reference_code(problem: Any) -> str | None:
    try:
        meta = json.loads(problem["meta"] or "{}")
    except ValueError:
        return None
    if problem["kind"] == "check" and meta.get("canonical_solution"):
        return str(problem["prompt"] or "") + str(meta["canonical_solution"])
    code = meta.get("code")
    return code if isinstance(code, str) and code.strip() else None


async def _references(project: Project, n: int, seed: int) -> list[tuple[str, Any]]:
    rows = await project.store.fetchall("SELECT * FROM problems WHERE meta LIKE '%code%'")
    refs = [(code, r) for r in rows if (code := _reference_code(r))]
    passing = await project.store.fetchall(
        "SELECT c.code, p.* FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
        " JOIN problems p ON p.id = c.problem_id WHERE v.status = 'pass'"
        " ORDER BY c.id LIMIT ?",
        (n * 4,),
    )
    refs += [(r["code"], r) for r in passing]
    random.Random(seed).shuffle(refs)
    return refs[:n]


def suggest_timeout(durations: list[float]) -> float:
    """10x the 95th percentile or 3x the slowest, whichever is larger; at least 1 s; 0.5 s steps."""
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    raw = max(1.0, 10 * p95, 3 * ordered[-1])
    return math.ceil(raw * 2) / 2


async def calibrate(
    project: Project, *, n: int = 60, workers: int | None = None, seed: int = 0
) -> Calibration:
    refs = await _references(project, n, seed)
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
            verdict = make_verdict(await pool.run(make_job(code, spec, probe)), spec, 1e-3)
            return verdict.duration_s, verdict.status == "pass"

        results = await asyncio.gather(*(one(code, row) for code, row in refs))
    durations = [d for d, ok in results if ok] or [d for d, _ in results]
    ordered = sorted(durations)
    return Calibration(
        n=len(results),
        passed=sum(ok for _, ok in results),
        median_s=statistics.median(ordered),
        p95_s=ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
        max_s=ordered[-1],
        suggested_timeout_s=suggest_timeout(durations),
        current_timeout_s=config.timeout_s,
    )
