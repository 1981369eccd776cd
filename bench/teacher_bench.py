"""Teacher bench: the openai backend against FakeOpenAIServer (run in its own process, so the CPU
measured here is the engine's: the openai client, SSE parsing, our bookkeeping).

Same samples three ways, same bound on HTTP requests in flight (an asyncio.Semaphore):
- n per request: R requests with n choices each (the prompt is sent once per problem);
- n single requests: R×n requests with n=1 (what an endpoint without `n` costs);
- fallback: n asked of a server that ignores it (llama.cpp): one n-request, then singles.
The server answers after `first_token_s`, then one token step every `token_s`.
Reports medians over repeats: requests/s, samples/s, latency, engine CPU per request and per
sample, the overhead over the server's own latency, and the fake server's CPU use (share of one
core over the run: near 100% means the fake, not the engine, set the pace).

Run: `python -m bench teacher`, or `python -m bench.teacher_bench --quick` (`--help`: knobs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import TeacherSection
from core.teacher import TeacherRequest
from core.teacher.openai_backend import OpenAITeacher

ANSWER = r"\n    cost = 12 * 3\n    paid = 50\n    change = paid - cost\n    return change\n"
PROMPT = "Q: Olivia has $23. She bought five bagels for $3 each. How much money is left?\n" * 20


class ServerProcess:
    """`python -m tests.fake_openai` in its own process: its CPU is not ours."""

    def __init__(self, **kwargs: Any) -> None:
        self.args = [f"--{k.replace('_', '-')}={v}" for k, v in kwargs.items()]

    def __enter__(self) -> ServerProcess:
        cmd = [sys.executable, "-m", "tests.fake_openai", *self.args]
        root = Path(__file__).resolve().parents[1]
        self.proc = subprocess.Popen(
            cmd, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.proc.kill()
            raise RuntimeError(f"fake server did not start: {self.url!r}")
        return self

    def served(self) -> tuple[int, float]:
        """Completion requests the server received and its CPU seconds; the server stops."""
        out, _ = self.proc.communicate("", timeout=30)
        count, cpu = out.split()[-2:]
        return int(count), float(cpu)

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Outcome:
    wall_s: float
    cpu_s: float
    http_requests: int  # as counted by the server
    samples: int
    latencies: list[float]
    ttfts: list[float]
    server_cpu_s: float = 0.0  # the fake server's whole life, start-up included


async def _run(url: str, *, requests: int, n: int, concurrency: int) -> Outcome:
    cfg = TeacherSection(
        backend="openai", base_url=url, model="fake", api_key_env="EKT_BENCH_NO_KEY", timeout_s=60
    )
    teacher = OpenAITeacher(cfg)
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    ttfts: list[float] = []
    deltas = 0

    def on_delta(index: int, text: str) -> None:
        nonlocal deltas
        deltas += 1

    async def one(i: int) -> int:
        req = TeacherRequest(f"#{i}\n{PROMPT}", n, ["\n\n\n"], 128, 0.8, 0.95)
        async with slots:
            result = await teacher.complete(req, on_delta=on_delta)
        latencies.append(result.latency_s)
        if result.ttft_s is not None:
            ttfts.append(result.ttft_s)
        return len(result.choices)

    await teacher.complete(TeacherRequest("warm-up", 1, [], 8, 0.8, 0.95))  # connect, import
    t0, c0 = time.perf_counter(), time.process_time()
    samples = sum(await asyncio.gather(*(one(i) for i in range(requests))))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    await teacher.aclose()
    return Outcome(wall, cpu, 0, samples, latencies, ttfts)


def _row(name: str, runs: list[Outcome], server_latency: float) -> dict[str, float | str]:
    med = statistics.median
    wall = med(r.wall_s for r in runs)
    return {
        "name": name,
        "wall": wall,
        "req_s": med(r.http_requests / r.wall_s for r in runs),
        "samples_s": med(r.samples / r.wall_s for r in runs),
        "latency": med(med(r.latencies) for r in runs),
        "ttft": med(med(r.ttfts) for r in runs),
        "cpu_req_ms": med(1000 * r.cpu_s / r.http_requests for r in runs),
        "cpu_sample_ms": med(1000 * r.cpu_s / r.samples for r in runs),
        "server_cpu": med(r.server_cpu_s / r.wall_s for r in runs),
        "overhead_ms": med(1000 * (med(r.latencies) - server_latency) for r in runs),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench teacher")
    ap.add_argument("--requests", type=int, default=200, help="problems (requests with n)")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--first-token-s", type=float, default=0.1)
    ap.add_argument("--token-s", type=float, default=0.005, help="server time per token step")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="50 requests, 1 repeat")
    a = ap.parse_args(argv or [])
    if a.quick:
        a.requests, a.repeats = 50, 1
    from tests.fake_openai import fake_tokens

    steps = len(fake_tokens(ANSWER.encode().decode("unicode_escape")))
    server_latency = a.first_token_s + a.token_s * steps
    server = {
        "answer": ANSWER,
        "first_token_s": a.first_token_s,
        "token_s": a.token_s,
    }
    print(
        f"{a.requests} problems × n={a.n}, {a.concurrency} requests in flight; server: "
        f"{1000 * a.first_token_s:.0f} ms to first token + {steps} tokens × "
        f"{1000 * a.token_s:.0f} ms = {1000 * server_latency:.0f} ms per request; "
        f"medians of {a.repeats}"
    )
    plans = [
        ("n per request", {}, a.requests, a.n),
        ("n single requests", {}, a.requests * a.n, 1),
        ("fallback (n ignored)", {"n_mode": "ignore"}, a.requests, a.n),
    ]
    rows = []
    for name, extra, requests, n in plans:
        runs = []
        for _ in range(a.repeats):
            with ServerProcess(**server, **extra) as srv:
                out = asyncio.run(_run(srv.url, requests=requests, n=n, concurrency=a.concurrency))
                served, out.server_cpu_s = srv.served()
                out.http_requests = served - 1  # not the warm-up
            runs.append(out)
        rows.append(_row(name, runs, server_latency))
    ideal = a.concurrency / server_latency
    print(
        f"{'mode':<22}{'wall s':>8}{'req/s':>8}{'samples/s':>11}{'latency ms':>12}"
        f"{'ttft ms':>9}{'overhead ms':>13}{'CPU ms/req':>12}{'CPU ms/sample':>15}"
        f"{'server CPU':>12}"
    )
    for r in rows:
        print(
            f"{r['name']:<22}{r['wall']:>8.2f}{r['req_s']:>8.1f}{r['samples_s']:>11.1f}"
            f"{1000 * r['latency']:>12.0f}{1000 * r['ttft']:>9.0f}{r['overhead_ms']:>13.1f}"
            f"{r['cpu_req_ms']:>12.2f}{r['cpu_sample_ms']:>15.3f}"
            f"{100 * r['server_cpu']:>11.0f}%"
        )
    base = rows[0]
    print(
        f"ideal requests/s at this concurrency: {ideal:.1f}; n per request reaches "
        f"{100 * base['req_s'] / ideal:.0f}%"
    )
    for r in rows[1:]:
        print(f"n per request vs {r['name']}: {base['samples_s'] / r['samples_s']:.1f}× samples/s")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
