"""Sampling bench: the engine end to end against the fake OpenAI server, and the local teacher.

1. Throughput: 100 problems × n=20 = 2,000 samples, 32 requests in flight, 200 ms per request
   (the fake server in its own process, so the engine's CPU is measured alone). Ideal: 32 / 0.2 s
   = 160 requests/s; reported as achieved/ideal, plus engine CPU per sample.
2. Realistic run: the same with distinct programs (a quarter right) verified as they arrive:
   candidates/s from the first request to the last verdict stored.
3. Local teacher (SmolLM2-135M, CPU): tokens/s for 8 samples of one prompt generated together
   (n=8, one batch) vs one at a time (n=1, 8 calls), and 8 concurrent n=1 requests through
   LocalTeacher (micro-batched into one generation call).
Medians of `--repeats` runs. Run: `python -m bench sampling` (`python -m bench.sampling_bench
--quick` skips the local model; `--local-only` runs only it).
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS, N, CONCURRENCY, LATENCY = 100, 20, 32, 0.2
_Q = re.compile(r"What is (\d+) \+ (\d+)\?")


def _answers(prompt: str, index: int) -> str:
    """Distinct programs per choice; every fourth one right."""
    m = _Q.findall(prompt[-300:])
    a, b = map(int, m[-1]) if m else (0, 0)
    if index % 4 == 0:
        return f"\n    x = {index}\n    return {a} + {b} + x * 0\n"
    return f"\n    x = {index}\n    return {a} + x\n"


def _serve(latency: float) -> None:
    """Child mode: run the fake server, print its base URL, stop when stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer(_answers, first_token_s=latency) as srv:
        print(srv.base_url, flush=True)
        sys.stdin.read()


class _Server:
    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sampling_bench", "--serve", str(latency)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _make_project(folder: Path) -> Path:
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
    conn.close()
    return root


async def _one_run(base_url: str, verify: bool) -> dict[str, float]:
    from core.project import Project
    from core.sampling import SampleOptions, sample

    with tempfile.TemporaryDirectory() as tmp:
        root = _make_project(Path(tmp))
        options = SampleOptions(
            n=N, concurrency=CONCURRENCY, max_tokens=64, verify=verify,
            teacher={"backend": "openai", "base_url": base_url, "model": "fake",
                     "max_retries": 0},
        )  # fmt: skip
        async with await Project.open(root) as project:
            marks: list[tuple[float, bool]] = []
            watcher = asyncio.create_task(_marks(project, marks))
            await asyncio.sleep(0)
            cpu0, t0 = time.process_time(), time.perf_counter()
            summary = await sample(project, options)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            watcher.cancel()
            stored = await project.store.scalar("SELECT count(*) FROM candidates")
            verdicts = await project.store.scalar("SELECT count(*) FROM verdicts")
            latency = await project.store.scalar("SELECT avg(latency_s) FROM requests")
    phase = max(t for t, _ in marks) - min(t for t, started in marks if started)
    assert summary.samples == stored == PROBLEMS * N, (summary, stored)
    return {
        "wall": wall,
        "cpu_per_sample_ms": cpu / stored * 1e3,
        "requests_per_s": summary.requests_done / phase,
        "phase": phase,
        "latency": latency,
        "candidates_per_s": stored / wall,
        "verdicts": verdicts,
    }


async def _marks(project: Any, marks: list[tuple[float, bool]]) -> None:
    """(time, is_start) of every request start and finish: the sending phase's span."""
    from core.events import RequestFinished, RequestStarted

    with project.bus.subscribe() as queue:
        while True:
            event = await queue.get()
            if isinstance(event, RequestStarted | RequestFinished):
                marks.append((time.perf_counter(), isinstance(event, RequestStarted)))


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def bench_fake_server(repeats: int) -> None:
    server = _Server(LATENCY)
    try:
        ideal = CONCURRENCY / LATENCY
        waves = -(-PROBLEMS // CONCURRENCY) * LATENCY  # 4 rounds of 32 slots for 100 requests
        print(
            f"fake server: {LATENCY * 1e3:.0f} ms/request, {CONCURRENCY} in flight,"
            f" {PROBLEMS} requests × n={N} = {PROBLEMS * N} samples; medians of {repeats}"
        )
        for verify in (False, True):
            runs = [asyncio.run(_one_run(server.base_url, verify)) for _ in range(repeats)]
            rps, lat = _median(runs, "requests_per_s"), _median(runs, "latency")
            label = "verify as it goes" if verify else "no verify"
            print(
                f"  {label}: whole call {_median(runs, 'wall'):.2f} s"
                f" ({_median(runs, 'candidates_per_s'):.0f} candidates/s end to end"
                + (f", {int(_median(runs, 'verdicts'))} verdicts stored" if verify else "")
                + f"); requests phase {_median(runs, 'phase'):.2f} s = {rps:.0f} requests/s"
                f" = {rps / ideal:.0%} of {ideal:.0f}/s ideal (rounds of 32: {waves:.1f} s);"
                f" observed request latency {lat * 1e3:.0f} ms, so {rps / (CONCURRENCY / lat):.0%}"
                f" of 32/latency; engine CPU {_median(runs, 'cpu_per_sample_ms'):.3f} ms/sample"
            )
    finally:
        server.close()


async def _local(repeats: int, max_new: int) -> None:
    from core.config import TeacherSection
    from core.generate import GenerationWorker
    from core.models import ensure_local_model
    from core.teacher import TeacherRequest
    from core.teacher.local import LocalTeacher

    path = ensure_local_model("smollm2")
    prompt = "# Question: A box holds 24 pencils. How many pencils are in 6 boxes?\n"
    prompt += "# Write solution() so that it returns the answer.\n\ndef solution():"
    kw: dict[str, Any] = {"stop": [], "max_new_tokens": max_new, "temperature": 0.8,
                          "top_p": 0.95, "seed": 0}  # fmt: skip
    rows: dict[str, list[float]] = {"n=8 batched": [], "n=1 × 8 sequential": []}
    async with GenerationWorker(str(path)) as worker:
        await worker.generate([prompt], n=1, **{**kw, "max_new_tokens": 4})  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = await worker.generate([prompt], n=8, **kw)
            rows["n=8 batched"].append(
                sum(c.completion_tokens for c in out[0]) / (time.perf_counter() - t0)
            )
            t0, tokens = time.perf_counter(), 0
            for _ in range(8):
                tokens += (await worker.generate([prompt], n=1, **kw))[0][0].completion_tokens
            rows["n=1 × 8 sequential"].append(tokens / (time.perf_counter() - t0))
    teacher = LocalTeacher(TeacherSection(backend="local", model="smollm2"))
    rows["LocalTeacher 8 concurrent n=1"] = []
    try:
        await teacher.start()
        req = TeacherRequest(prompt, 1, [], max_new, 0.8, 0.95, None)
        for _ in range(repeats):
            t0 = time.perf_counter()
            results = await asyncio.gather(*(teacher.complete(req) for _ in range(8)))
            tokens = sum(r.completion_tokens for r in results)
            rows["LocalTeacher 8 concurrent n=1"].append(tokens / (time.perf_counter() - t0))
    finally:
        await teacher.aclose()
    base = statistics.median(rows["n=1 × 8 sequential"])
    print(
        f"local teacher SmolLM2-135M ({max_new} new tokens per sample, CPU); medians of {repeats}"
    )
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"  {name:<30} {med:6.1f} tokens/s  ({med / base:.2f}x sequential)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench sampling")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="Skip the local model.")
    parser.add_argument("--local-only", action="store_true")
    parser.add_argument("--max-new", type=int, default=48)
    args = parser.parse_args(argv or [])
    if args.serve is not None:
        _serve(args.serve)
        return
    if not args.local_only:
        bench_fake_server(args.repeats)
    if not args.quick:
        asyncio.run(_local(args.repeats, args.max_new))


if __name__ == "__main__":
    main(sys.argv[1:])
