"""Eval bench: the cost of scoring an evaluation at GSM8K-test scale (1,319 problems × 20).

- pass@k per problem: the product form vs the exact binomial ratio (Fractions of math.comb).
- bootstrap interval: 1000 resamples over 1,319 problems (pure Python, seeded).
- `recompute_results`: SQL aggregate of 26,380 verdicts + pass@{1,10,20} with intervals.
Run: `python -m bench eval` (or `python -m bench.eval_bench`).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from bench import median_time, median_time_async, ms
from core.evaluate.passk import bootstrap_ci, pass_at_k
from core.evaluate.results import recompute_results
from core.project import init_project
from core.store import Store, connect_sync

PROBLEMS, N = 1319, 20


def _exact(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def _counts(rng: random.Random) -> list[tuple[int, int]]:
    return [(N, min(N, int(rng.expovariate(0.5)))) for _ in range(PROBLEMS)]


def bench_estimator() -> None:
    counts = _counts(random.Random(0))
    for k in (1, 10, 20):
        fast = median_time(lambda k=k: [pass_at_k(n, c, k) for n, c in counts])
        exact = median_time(lambda k=k: [_exact(n, c, k) for n, c in counts])
        print(
            f"pass@{k:<2} over {PROBLEMS} problems: product {ms(fast)}, exact binomial"
            f" {ms(exact)} ({exact / fast:.1f}x slower)"
        )
    big = median_time(lambda: pass_at_k(1000, 37, 100), repeats=101)
    big_exact = median_time(lambda: _exact(1000, 37, 100), repeats=101)
    print(
        f"pass@100 n=1000, c=37: product {big * 1e6:.1f} µs, exact {big_exact * 1e6:.1f} µs"
        f" ({big_exact / big:.1f}x slower)"
    )


def bench_bootstrap() -> None:
    values = [pass_at_k(n, c, 10) for n, c in _counts(random.Random(1))]
    t = median_time(lambda: bootstrap_ci(values, seed=0), repeats=5)
    print(f"bootstrap 1000 resamples × {PROBLEMS} problems: {ms(t)}")


def _fill(db: Path) -> int:
    rng = random.Random(2)
    conn = connect_sync(db)
    now = time.time()
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, imported_at)"
            " VALUES (?, ?, 'b', 'test', 'answer', 'q', '1', ?)",
            [(f"p{i}", i + 1, now) for i in range(PROBLEMS)],
        )
        params = {"n": N, "k": [1, 10, 20], "problem_ids": [f"p{i}" for i in range(PROBLEMS)]}
        cur = conn.execute(
            "INSERT INTO evals(name, model, params, created_at, updated_at)"
            " VALUES ('b', 'm', ?, ?, ?)",
            (json.dumps(params), now, now),
        )
        eval_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO candidates(problem_id, source, eval_id, sample_index, code, code_hash,"
            " created_at) VALUES (?, 'student', ?, ?, 'x', ?, ?)",
            [(f"p{i}", eval_id, j, f"h{i}-{j}", now) for i in range(PROBLEMS) for j in range(N)],
        )
        conn.execute(
            "INSERT INTO verdicts(candidate_id, status, created_at)"
            " SELECT id, CASE WHEN abs(random()) % 10 < ? THEN 'pass' ELSE 'fail' END, ?"
            " FROM candidates",
            (rng.randint(1, 3), now),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return eval_id


async def bench_results(tmp: Path) -> None:
    root = init_project(tmp / "eval")
    eval_id = _fill(root / "ekt.db")
    store = await Store.open(root / "ekt.db")
    try:
        t = await median_time_async(lambda: recompute_results(store, eval_id), repeats=5)
    finally:
        await store.close()
    print(f"recompute_results, {PROBLEMS} problems × {N} verdicts, pass@1,10,20 + CIs: {ms(t)}")


def main() -> None:
    bench_estimator()
    bench_bootstrap()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench_results(Path(tmp)))


if __name__ == "__main__":
    main()
