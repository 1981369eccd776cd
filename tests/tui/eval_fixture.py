"""A project holding finished evaluations (fixed dates and numbers) for the Evaluation screen."""

from __future__ import annotations

import json
from pathlib import Path

from core.project import init_project
from core.store import connect_sync

T0 = 1_780_000_000.0


def _results(p1: float, p10: float, problems: int = 40) -> str:
    return json.dumps(
        {
            "problems": problems,
            "samples": problems * 10,
            "solved": int(problems * p10),
            "pass_at_k": {
                "1": {"value": p1, "lo": max(0.0, p1 - 0.04), "hi": min(1.0, p1 + 0.05)},
                "10": {"value": p10, "lo": max(0.0, p10 - 0.08), "hi": min(1.0, p10 + 0.07)},
            },
            "statuses": {"fail": 250, "pass": 100, "error": 40, "syntax": 10},
        }
    )


EVALS = [
    ("teacher-test", "SmolLM2-135M-Instruct", "teacher", "", 1, _results(0.18, 0.45)),
    ("fewshot-test", "tiny-student", "few-shot", "", 1, _results(0.02, 0.10)),
    ("sft-test", "sft-1@step40", "ekt-sft", "SmolLM2-135M-Instruct", None, _results(0.21, 0.5)),
]


def make_eval_project(root: Path) -> Path:
    init_project(root, name="eval-demo")
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute(
            "INSERT INTO prompts(id, name, version, template, created_at)"
            " VALUES (1, 'gsm8k', 1, 't', ?)",
            (T0,),
        )
        conn.executemany(
            "INSERT INTO evals(name, model, method, teacher, prompt_id, split, status, results,"
            " params, created_at, updated_at) VALUES (?,?,?,?,?, 'test', 'done', ?, ?, ?, ?)",
            [
                (*e, json.dumps({"n": 10, "temperature": 0.6, "max_tokens": 320,
                                 "prompts": {"answer": "gsm8k@v1"}}), T0 + i, T0 + i)
                for i, e in enumerate(EVALS)
            ],
        )  # fmt: skip
    finally:
        conn.close()
    return root
