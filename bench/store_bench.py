"""Store bench: GSM8K import through the real CLI path, and the per-problem summary queries on a
synthetic store of 7,473 problems × 20 candidates (bench/make_store.py).

Targets (issue 2): import of GSM8K train well under 10 s; summary query under 50 ms.
Run: `python -m bench store` (or `python -m bench.store_bench`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from bench import median_time_async, ms
from bench.make_store import STATS_FROM_SCRATCH, build_store
from core.cli import cli
from core.project import Project, init_project
from core.queries import (
    ProblemFilter,
    ProblemSort,
    count_problems,
    list_problems,
    problem_summary,
    status_counts,
)
from core.queries.problems import _ROW_SQL
from core.status import project_status
from core.store import Store

DATA = Path(os.environ.get("EKT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared/data"))
GSM8K_TRAIN = DATA / "gsm8k" / "train.jsonl"
MBPP = DATA / "mbpp" / "sanitized-mbpp.jsonl"
REPEATS = 3


def _cli_import(root: Path, source: Path, fmt: str) -> float:
    t = time.perf_counter()
    result = CliRunner().invoke(cli, ["-p", str(root), "import", str(source), "--format", fmt])
    elapsed = time.perf_counter() - t
    if result.exit_code != 0:
        raise RuntimeError(result.stderr)
    return elapsed


def bench_import(tmp: Path) -> None:
    for source, fmt in ((GSM8K_TRAIN, "gsm8k"), (MBPP, "mbpp")):
        if not source.is_file():
            print(f"import {fmt}: skipped ({source} not found)")
            continue
        rows = sum(1 for line in source.open() if line.strip())
        fresh, again = [], []
        for i in range(REPEATS):
            root = init_project(tmp / f"import-{fmt}-{i}")
            fresh.append(_cli_import(root, source, fmt))
            again.append(_cli_import(root, source, fmt))
        ekt = shutil.which("ekt") or str(Path(sys.executable).parent / "ekt")
        root = init_project(tmp / f"import-{fmt}-proc")
        t = time.perf_counter()
        subprocess.run(
            [ekt, "-p", str(root), "import", str(source), "--format", fmt],
            check=True,
            capture_output=True,
        )
        proc = time.perf_counter() - t
        print(
            f"import {fmt} ({rows:,} rows): in-process {statistics.median(fresh):.2f} s, "
            f"re-import {statistics.median(again):.2f} s (median of {REPEATS}); "
            f"`ekt import` subprocess incl. interpreter start {proc:.2f} s"
        )


async def bench_queries(tmp: Path) -> None:
    root = init_project(tmp / "synthetic")
    t = time.perf_counter()
    build_store(root / "ekt.db")
    print(
        f"build synthetic store (7,473 problems × 20 candidates): {time.perf_counter() - t:.2f} s"
    )
    project = await Project.open(root, readonly=True)
    store: Store = project.store
    naive_sql = STATS_FROM_SCRATCH.split("SELECT", 1)[1]
    summary = await median_time_async(lambda: problem_summary(store), repeats=15)
    sql_only = await median_time_async(
        lambda: store.fetchall(_ROW_SQL + " ORDER BY p.seq"), repeats=15
    )
    naive = await median_time_async(lambda: store.fetchall("SELECT" + naive_sql), repeats=5)
    rows = len(await problem_summary(store))
    print(f"per-problem summary query, {rows:,} rows, SQL via aiosqlite: {ms(sql_only)}")
    print(f"problem_summary() incl. {rows:,} ProblemRow objects: {ms(summary)}  [target < 50 ms]")
    print(
        f"same numbers aggregated from candidates+verdicts: {ms(naive)}  "
        f"(trigger-maintained stats are {naive / summary:.1f}× faster)"
    )
    counts = await median_time_async(lambda: status_counts(store), repeats=15)
    status = await median_time_async(lambda: project_status(project), repeats=7)
    print(
        f"status_counts (project): {ms(counts)};  `ekt status --json` object: {ms(status)}"
        " (per-run counts scan the run's 150k candidates)"
    )
    print("list_problems window of 50 (median of 15):")
    print(
        f"  {'filter':<10} {'sort':<15} {'matches':>7} {'count':>11} {'first':>11} {'middle':>11}"
    )
    for flt in ProblemFilter:
        for sort in (ProblemSort.ID, ProblemSort.PASS_RATE_DESC):
            n = await count_problems(store, flt=flt)
            count = await median_time_async(lambda f=flt: count_problems(store, flt=f), repeats=15)
            first = await median_time_async(
                lambda f=flt, s=sort: list_problems(store, flt=f, sort=s, limit=50), repeats=15
            )
            middle = await median_time_async(
                lambda f=flt, s=sort, o=n // 2: list_problems(
                    store, flt=f, sort=s, offset=o, limit=50
                ),
                repeats=15,
            )
            print(
                f"  {flt.value:<10} {sort.value:<15} {n:>7,} {ms(count)} {ms(first)} {ms(middle)}"
            )
    search = await median_time_async(
        lambda: list_problems(store, search="kilometers", limit=50), repeats=15
    )
    print(f"  search 'kilometers', first window: {ms(search)}")
    await project.close()


def main() -> None:
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="ekt-store-bench-") as d:
        tmp = Path(d)
        bench_import(tmp)
        asyncio.run(bench_queries(tmp))


if __name__ == "__main__":
    main()
