"""Shared helpers for verifier tests: a one-slot worker pool and a `check` shortcut."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from core.config import VerifierSection
from core.verify.client import WorkerPool
from core.verify.service import check_program
from core.verify.verdict import CheckSpec, Verdict

ANSWER_18 = CheckSpec("answer", answer="18")
GOOD = "def solution():\n    return 18\n"


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    async with WorkerPool(1) as p:
        yield p


async def check(
    pool: WorkerPool,
    code: str,
    spec: CheckSpec = ANSWER_18,
    *,
    timeout_s: float = 1.5,
    memory_mb: int = 256,
    output_limit_kb: int = 64,
) -> Verdict:
    config = VerifierSection(
        timeout_s=timeout_s, memory_mb=memory_mb, output_limit_kb=output_limit_kb
    )
    return await check_program(code, spec, config, pool=pool)


def candidate_processes(isolation: dict) -> list[int]:
    """Pids (host view) of processes running as one of this worker's candidate uids."""
    base = isolation["uid_base"]
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                for line in fh:
                    if line.startswith("Uid:"):
                        if base <= int(line.split()[1]) < base + 256:
                            found.append(int(name))
                        break
        except OSError:
            continue
    return found


def per_candidate_uid(pool: WorkerPool) -> bool:
    return pool.isolation.get("uid_mode") == "per-candidate"
