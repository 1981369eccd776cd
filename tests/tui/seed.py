"""A small seeded project for the TUI tests: real rows, fixed timestamps, every problem state."""

from __future__ import annotations

import json
from pathlib import Path

from core.candidates import code_hash
from core.project import init_project
from core.store import connect_sync

T0 = 1_780_000_000.0
GSM_TEMPLATE = "# Question: {{question}}\n# Answer with solution().\n\ndef solution():"

PROBLEMS = [
    # id, kind, question, answer, tests, entry
    ("demo/add", "answer", "Tom has 3 apples and buys 4 more. How many apples?", "7", None, None),
    ("demo/mul", "answer", "A box holds 6 eggs. How many eggs are in 5 boxes?", "30", None, None),
    ("demo/sub", "answer", "Ann had 10 pens and lost 4. How many pens are left?", "6", None, None),
    ("demo/div", "answer", "12 cookies are shared by 4 kids. How many each?", "3", None, None),
    ("demo/none", "answer", "A train goes 60 km/h for 2 hours. How far?", "120", None, None),
    ("mbpp/sq", "asserts", "Write a function square(x) returning x squared.", None,
     json.dumps(["assert square(3) == 9", "assert square(-2) == 4"]), "square"),
]  # fmt: skip

GOOD = {
    "demo/add": "def solution():\n    return 3 + 4\n",
    "demo/mul": "def solution():\n    return 6 * 5\n",
    "demo/sub": "def solution():\n    return 10 - 4\n",
    "demo/div": "def solution():\n    return 12 // 4\n",
    "mbpp/sq": "def square(x):\n    return x * x\n",
}
BAD = {
    "demo/add": "def solution():\n    return 3 - 4\n",
    "demo/mul": "def solution():\n    return 6 + 5\n",
    "demo/sub": "def solution():\n    return 10 / 0\n",
    "demo/div": "def solution():\n    return 12 * 4\n",
    "mbpp/sq": "def square(x):\n    return x + x\n",
}
# (problem, code, status or None=pending, detail, returned, expected, error)
CANDIDATES = [
    ("demo/add", GOOD["demo/add"], "pass", "returned 7 == 7", "7", "7", None),
    ("demo/add", BAD["demo/add"], "fail", "returned -1, expected 7", "-1", "7", None),
    ("demo/add", GOOD["demo/add"] + "# same\n", "pass", "returned 7 == 7", "7", "7", None),
    ("demo/mul", BAD["demo/mul"], "fail", "returned 11, expected 30", "11", "30", None),
    ("demo/mul", BAD["demo/mul"] + "\n", "fail", "returned 11, expected 30", "11", "30", None),
    ("demo/sub", BAD["demo/sub"], "error", "ZeroDivisionError: division by zero", None, "6",
     ("ZeroDivisionError", "division by zero")),
    ("demo/div", GOOD["demo/div"], None, "", None, None, None),
    ("demo/div", BAD["demo/div"], "fail", "returned 48, expected 3", "48", "3", None),
    ("mbpp/sq", GOOD["mbpp/sq"], "pass", "2/2 asserts passed", None, None, None),
    ("mbpp/sq", BAD["mbpp/sq"], "fail", "assert square(3) == 9 failed", None, None, None),
]  # fmt: skip


def make_project(root: Path, *, with_run: bool = True) -> Path:
    """Create a project at `root` with the problems above (and one finished run if asked)."""
    init_project(root, name="tui-test")
    toml = root / "ekt.toml"  # SmolLM2 teaches: no pixel may depend on the 1.1 GB teacher's cache
    toml.write_text(toml.read_text().replace('"qwen-coder-1.5b"', '"smollm2"', 1))
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, tests, setup,"
            " entry_point, imported_at) VALUES (?, ?, ?, 'train', ?, ?, ?, ?, '', ?, ?)",
            [
                (pid, i + 1, pid.split("/")[0], kind, q, a, t, e, T0)
                for i, (pid, kind, q, a, t, e) in enumerate(PROBLEMS)
            ],
        )
        conn.execute(
            "INSERT INTO prompts(id, name, version, template, note, created_at)"
            " VALUES (1, 'gsm8k', 1, ?, 'default', ?)",
            [GSM_TEMPLATE, T0],
        )
        if with_run:
            _add_run(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return root


def _add_run(conn: object) -> None:
    teacher = json.dumps({"backend": "openai", "model": "fake-teacher", "base_url": ""})
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO runs(id, name, teacher, params, status, budget_usd, created_at,"
        " updated_at) VALUES (1, 'run-1', ?, ?, 'done', 1.0, ?, ?)",
        [teacher, json.dumps({"n": 2}), T0, T0 + 30],
    )
    # the run sampled every seeded kind with prompt #1 (what migrating a v1 store gives)
    conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO run_prompts(run_id, kind, prompt_id) VALUES (1, ?, 1)",
        [(k,) for k in sorted({p[1] for p in PROBLEMS})],
    )
    problems = sorted({c[0] for c in CANDIDATES})
    conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO requests(id, run_id, problem_id, first_index, n, status, attempts,"
        " prompt_tokens, completion_tokens, cost_usd, latency_s, started_at, finished_at)"
        " VALUES (?, 1, ?, 0, 2, 'done', 1, 120, 40, 0.0002, 1.5, ?, ?)",
        [(i + 1, p, T0 + i, T0 + i + 1.5) for i, p in enumerate(problems)],
    )
    index: dict[str, int] = {}
    for cid, (pid, code, status, detail, ret, exp, err) in enumerate(CANDIDATES, start=1):
        k = index[pid] = index.get(pid, -1) + 1
        conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO candidates(id, problem_id, source, run_id, request_id, sample_index,"
            " code, raw, code_hash, created_at) VALUES (?, ?, 'teacher', 1, ?, ?, ?, ?, ?, ?)",
            [cid, pid, problems.index(pid) + 1, k, code, code, code_hash(code), T0 + cid],
        )
        if status is not None:
            etype, emsg = err or (None, None)
            conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO verdicts(candidate_id, status, detail, passed, total, returned,"
                " expected, error_type, error_message, duration_s, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0.012, ?)",
                [cid, status, detail, 1 if status == "pass" else 0, 1, ret, exp, etype, emsg,
                 T0 + cid + 0.5],
            )  # fmt: skip
