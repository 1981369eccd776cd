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


def _parents() -> dict[int, int]:
    out: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            out[int(name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def survivors(pool: WorkerPool) -> list[int]:
    """Processes below the worker parent(s) once no check is running: must be none, whatever
    the uid (a daemon that called setsid is re-parented to the worker, never lost)."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    # With a PID namespace the engine's child waits for the worker (PID 1 inside): skip it.
    skip = 2 if pool.isolation.get("pidns") else 1
    found: list[int] = []
    for client in pool.clients:
        level = [client.pid] if client.pid else []
        for depth in range(64):
            if depth >= skip:
                found.extend(level)
            level = [c for p in level for c in children.get(p, [])]
            if not level:
                break
    return found


PROBLEMS = [
    ("g1", 1, "gsm8k", "answer", "How many?", "18", None, None, None, None, "{}"),
    ("g2", 2, "gsm8k", "answer", "How much?", "-3.5", None, None, None, None, "{}"),
    (
        "m1", 3, "mbpp", "asserts", "Add one.", None,
        '["assert inc(1) == 2", "assert inc(5) == 6"]', "", "inc", None,
        '{"code": "def inc(x):\\n    return x + 1\\n"}',
    ),
    (
        "h1", 4, "humaneval", "check", "square", None,
        "def check(candidate):\n    assert candidate(3) == 9\n", "", "square",
        'def square(x):\n    """Square x."""\n', '{"canonical_solution": "    return x * x\\n"}',
    ),
]  # fmt: skip


@pytest.fixture
async def project(tmp_path):  # type: ignore[no-untyped-def]
    """A fresh project with four problems (answer, answer, asserts, check) and one run."""
    import time

    from core.project import Project, init_project

    init_project(tmp_path / "proj")
    proj = await Project.open(tmp_path / "proj")
    now = time.time()
    await proj.store.executemany(
        "INSERT INTO problems(id, seq, dataset, kind, question, answer, tests, setup,"
        " entry_point, prompt, meta, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*p, now) for p in PROBLEMS],
    )
    await proj.store.execute(
        "INSERT INTO runs(name, created_at, updated_at) VALUES ('r1', ?, ?)", (now, now)
    )
    try:
        yield proj
    finally:
        await proj.close()
