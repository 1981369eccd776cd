"""A synthetic project store at GSM8K scale, for benches (store, TUI) and manual UI checks.

`build_store(path)` writes 7,473 problems × 20 candidates with a realistic verdict mix (about
10% still pending) through the real schema and triggers, in one transaction with executemany.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from core.store import connect_sync

# Verdict mix of a weak-ish teacher on GSM8K; None = not verified yet.
STATUS_WEIGHTS = {
    "pass": 25,
    "fail": 42,
    "error": 14,
    "timeout": 4,
    "syntax": 3,
    "memory": 1,
    "crashed": 0.5,
    "output-limit": 0.5,
    None: 10,
}
_WORDS = [
    "apples",
    "baker",
    "bus",
    "cents",
    "dollars",
    "eggs",
    "farmer",
    "garden",
    "hours",
    "kilometers",
    "liters",
    "marbles",
    "minutes",
    "notebooks",
    "pages",
    "pencils",
    "students",
    "tickets",
    "trays",
    "weeks",
    "buys",
    "sells",
    "gives",
    "each",
    "every",
    "half",
    "twice",
    "more",
    "fewer",
    "left",
    "total",
    "how",
    "many",
    "much",
    "does",
    "have",
]


_COLS = [s.replace("-", "_") for s in STATUS_WEIGHTS if s is not None]
# problem_stats recomputed from candidates and verdicts: the "naive" per-problem summary.
STATS_FROM_SCRATCH = f"""
INSERT OR REPLACE INTO problem_stats(problem_id, n, pending, gold, {", ".join(_COLS)})
SELECT p.id, count(c.id), count(c.id) - count(v.status),
  coalesce(sum(CASE WHEN c.gold_override = 1 THEN 1 WHEN c.gold_override = 0 THEN 0
                    WHEN v.status = 'pass' THEN 1 ELSE 0 END), 0),
  {", ".join(f"coalesce(sum(v.status = '{s}'), 0)" for s in STATUS_WEIGHTS if s is not None)}
FROM problems p LEFT JOIN candidates c ON c.problem_id = p.id
LEFT JOIN verdicts v ON v.candidate_id = c.id
GROUP BY p.id
"""


def _question(rng: random.Random, i: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(20, 45))]
    return f"Problem {i}: " + " ".join(words).capitalize() + "?"


def build_store(
    path: Path | str, problems: int = 7473, per_problem: int = 20, seed: int = 0
) -> Path:
    """Create (or replace) a store at `path` filled with synthetic problems and candidates."""
    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    now = time.time()
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    conn = connect_sync(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    # Per-row triggers would cost ~10 s here: drop them, bulk insert, derive problem_stats with
    # one aggregate (the same numbers the triggers keep), and put the triggers back.
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(
        "INSERT INTO prompts(id, name, version, template, note, created_at)"
        " VALUES (1, 'gsm8k', 1, '# Question: {{question}}\n\ndef solution():', 'bench', ?)",
        [now],
    )
    conn.execute(
        "INSERT INTO runs(id, name, teacher, params, status, created_at, updated_at)"
        " VALUES (1, 'bench', ?, ?, 'done', ?, ?)",
        [
            json.dumps({"backend": "openai", "model": "synthetic"}),
            json.dumps({"n": per_problem}),
            now,
            now,
        ],
    )
    conn.execute("INSERT INTO run_prompts(run_id, kind, prompt_id) VALUES (1, 'answer', 1)")
    pids = [f"gsm8k/train/{i}" for i in range(problems)]
    conn.executemany(
        "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, imported_at)"
        " VALUES (?, ?, 'gsm8k', 'train', 'answer', ?, ?, ?)",
        [
            (pid, i + 1, _question(rng, i), str(rng.randint(1, 500)), now)
            for i, pid in enumerate(pids)
        ],
    )
    conn.executemany(
        "INSERT INTO requests(id, run_id, problem_id, first_index, n, status, attempts,"
        " prompt_tokens, completion_tokens, cost_usd, latency_s, started_at, finished_at)"
        " VALUES (?, 1, ?, 0, ?, 'done', 1, ?, ?, ?, ?, ?, ?)",
        [
            (i + 1, pid, per_problem, 480, 90 * per_problem, 0.0004, rng.uniform(1, 6), now, now)
            for i, pid in enumerate(pids)
        ],
    )
    candidates = []
    verdicts = []
    drawn = iter(rng.choices(statuses, weights, k=problems * per_problem))
    values = iter(rng.choices(range(1000), k=problems * per_problem))
    cid = 0
    for i, pid in enumerate(pids):
        for k in range(per_problem):
            cid += 1
            value = next(values)
            code = f"def solution():\n    x = {value}\n    return x + {k}\n"
            candidates.append((cid, pid, i + 1, k, code, code, f"h{value}-{k}", now))
            status = next(drawn)
            if status is not None:
                verdicts.append((cid, status, status, now))
    conn.executemany(
        "INSERT INTO candidates(id, problem_id, source, run_id, request_id, sample_index, code,"
        " raw, code_hash, created_at) VALUES (?, ?, 'teacher', 1, ?, ?, ?, ?, ?, ?)",
        candidates,
    )
    conn.executemany(
        "INSERT INTO verdicts(candidate_id, status, detail, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(candidate_id) DO UPDATE SET status = excluded.status",
        verdicts,
    )
    conn.execute(STATS_FROM_SCRATCH)
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()
    return path


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-store.db")
    t = time.perf_counter()
    build_store(target)
    print(f"built {target} in {time.perf_counter() - t:.2f} s")
