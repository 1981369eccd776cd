"""Refine bench: a refine run (core.refine) end to end against the fake OpenAI server.

200 failing candidates (100 GSM8K-like problems × 2, verdict `fail`) get execution feedback and
n=4 refinements each: 200 requests, 800 refinements, 32 in flight, 100 ms per request, the fake
server in its own process (so this process's CPU is the engine's alone). Half the refinements are
right. Reported: refinements/s for the whole call (feedback written, plan, send, store; with and
without verifying as they arrive) and engine CPU per refinement. Medians of `--repeats` runs.
Run: `python -m bench refine` (or `python -m bench.refine_bench --repeats 3`).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS, PER_PROBLEM, N, CONCURRENCY, LATENCY = 100, 2, 4, 32, 0.1
_Q = re.compile(r"What is (\d+) \+ (\d+)\?")


def _refine(prompt: str, index: int) -> str:
    """The corrected program on even choices, another wrong one on odd ones."""
    m = _Q.findall(prompt.rsplit("\nTask: ", 1)[-1])
    a, b = map(int, m[-1]) if m else (0, 0)
    body = f"return {a} + {b}" if index % 2 == 0 else f"return {a} - {b} + {index}"
    return f"\ndef solution():\n    {body}\n[DONE]"


def _serve(latency: float) -> None:
    """Child mode: run the fake server, print its base URL, stop when stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer(refine=_refine, first_token_s=latency) as srv:
        print(srv.base_url, flush=True)
        sys.stdin.read()


def _make_project(folder: Path) -> Path:
    from core.candidates import code_hash
    from core.project import init_project
    from core.store import connect_sync

    root = init_project(folder / "proj")
    conn = connect_sync(root / "ekt.db")
    now = time.time()
    conn.executemany(
        "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, imported_at)"
        " VALUES (?, ?, 'bench', 'train', 'answer', ?, ?, ?)",
        [(f"b{i}", i, f"Item {i}: What is {i * 7 % 97} + {i * 13 % 89}?",
          str(i * 7 % 97 + i * 13 % 89), now) for i in range(PROBLEMS)],
    )  # fmt: skip
    cid = 0
    for i in range(PROBLEMS):
        for j in range(PER_PROBLEM):
            cid += 1
            code = f"def solution():\n    return {j}\n"
            conn.execute(
                "INSERT INTO candidates(id, problem_id, source, code, code_hash, created_at)"
                " VALUES (?, ?, 'teacher', ?, ?, ?)",
                (cid, f"b{i}", code, code_hash(code), now),
            )
            conn.execute(
                "INSERT INTO verdicts(candidate_id, status, detail, returned, expected,"
                " created_at) VALUES (?, 'fail', ?, ?, ?, ?)",
                (cid, f"returned {j}, expected x", str(j), "x", now),
            )
    conn.commit()
    conn.close()
    return root


async def _one_run(base_url: str, verify: bool) -> dict[str, float]:
    from core.project import Project
    from core.refine import RefineOptions, refine

    with tempfile.TemporaryDirectory() as tmp:
        root = _make_project(Path(tmp))
        options = RefineOptions(
            feedback="execution",
            teacher={"backend": "openai", "base_url": base_url, "model": "fake",
                     "mode": "completion", "max_retries": 0},
            sampling={"n": N, "concurrency": CONCURRENCY, "max_tokens": 64, "verify": verify},
        )  # fmt: skip
        async with await Project.open(root) as project:
            cpu0, t0 = time.process_time(), time.perf_counter()
            summary = await refine(project, options)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            stored = await project.store.scalar(
                "SELECT count(*) FROM candidates WHERE source = 'refine'"
            )
            passed = await project.store.scalar(
                "SELECT count(*) FROM candidates c JOIN verdicts v ON v.candidate_id = c.id"
                " WHERE c.source = 'refine' AND v.status = 'pass'"
            )
    assert summary.samples == stored == PROBLEMS * PER_PROBLEM * N, (summary, stored)
    return {"wall": wall, "per_s": stored / wall, "cpu_ms": cpu / stored * 1e3,
            "passed": passed}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.refine_bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)  # `python -m bench` passes none
    if args.serve is not None:
        _serve(args.serve)
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.refine_bench", "--serve", str(LATENCY)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    base_url = proc.stdout.readline().strip()
    try:
        total = PROBLEMS * PER_PROBLEM
        print(
            f"fake server: {LATENCY * 1e3:.0f} ms/request, {CONCURRENCY} in flight, {total}"
            f" failing candidates × n={N} = {total * N} refinements; medians of {args.repeats}"
        )
        ideal = CONCURRENCY / LATENCY * N
        for verify in (False, True):
            runs = [asyncio.run(_one_run(base_url, verify)) for _ in range(args.repeats)]

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            label = "verify as they arrive" if verify else "no verify"
            tail = f", {int(med('passed'))} passing refinements" if verify else ""
            print(
                f"  {label}: whole call {med('wall'):.2f} s = {med('per_s'):.0f} refinements/s"
                f" (ideal {ideal:.0f}/s at {CONCURRENCY}/{LATENCY * 1e3:.0f} ms × n={N});"
                f" engine CPU {med('cpu_ms'):.3f} ms/refinement{tail}"
            )
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
