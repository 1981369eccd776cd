"""The README's offline walkthrough, end to end, as real `ekt` processes.

import → sample with the local teacher → verify → hand-edit one candidate into gold → train a few
steps → eval the checkpoint → comparison table. The README runs it with SmolLM2; here the teacher
and the student are the tiny random model (tests/tiny_model.py) so it takes seconds, not hours —
every other part (subprocess generation, sandbox, trainer subprocess, store) is the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.project import ASSETS
from tests.tiny_model import make_tiny_model

EKT = [str(Path(sys.executable).with_name("ekt"))]  # the installed entry point
FIX = "def solution():\n    monday = 18\n    return monday + 2 * monday - 15\n"


def ekt(root: Path, *args: str | Path, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    """`ekt -p walk ARGS` run from the project's parent folder with relative paths, as in the
    README (the trainer and generation subprocesses run elsewhere and must not care)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [*EKT, "-p", root.name, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=root.parent,
    )
    assert proc.returncode in ok, f"ekt {' '.join(map(str, args))}: {proc.stderr[-2000:]}"
    return proc


@pytest.mark.slow
def test_offline_walkthrough(tmp_path: Path) -> None:
    make_tiny_model(tmp_path / "tiny")
    model = "tiny"  # relative to the working directory, like a user's local folder
    root = tmp_path / "walk"
    ekt(root, "init", root.name)
    samples = ASSETS / "samples"
    ekt(root, "import", samples / "math-train.jsonl", "--format", "gsm8k")
    ekt(root, "import", samples / "math-test.jsonl", "--format", "gsm8k")

    # sample with the local teacher (generation subprocess), verified as the samples arrive
    out = ekt(root, "sample", "--teacher", "local", "--model", model, "--n", "2",
              "--limit", "3", "--split", "train", "--max-tokens", "16", "--json")  # fmt: skip
    summary = json.loads(out.stdout)
    status = json.loads(ekt(root, "status", "--json").stdout)
    assert status["candidates"] == 6 and status["requests"] == 3
    assert sum(status["verdicts"].values()) == 6  # verified as they arrived
    assert summary  # the run's own summary object

    # nothing left to verify; a random model wrote no gold
    assert "verified 0 candidates" in ekt(root, "verify").stdout
    assert status["gold_problems"] == 0

    # hand-edit one teacher candidate of the first problem into gold
    listed = ekt(root, "candidates", "list", "--problem", "gsm8k/train/0", "--json").stdout
    parent = json.loads(listed.splitlines()[0])["id"]
    fix = tmp_path / "fix.py"
    fix.write_text(FIX)
    edited = json.loads(ekt(root, "candidates", "edit", parent, fix, "--json").stdout)
    assert edited["status"] == "pass"
    assert json.loads(ekt(root, "status", "--json").stdout)["gold_problems"] == 1

    # train a few steps on that gold (trainer subprocess, followed to the end)
    ekt(root, "train", "--student", model, "--max-steps", "3", "--batch-size", "1",
        "--name", "walk", "--warmup", "0")  # fmt: skip
    runs = ekt(root, "train", "list").stdout
    assert "walk" in runs and "done" in runs
    ckpts = sorted((root / "checkpoints" / "walk").glob("**/config.json"))
    assert ckpts, f"no checkpoint written under {root / 'checkpoints' / 'walk'}"

    # evaluate the trained student zero-shot on the test split, then the table
    ckpt = ckpts[-1].parent.relative_to(tmp_path)
    ekt(root, "eval", "--model", ckpt, "--split", "test", "--n", "2", "--k", "1,2",
        "--limit", "2", "--zero-shot", "--max-tokens", "16", "--name", "student")  # fmt: skip
    table = ekt(root, "eval", "table").stdout
    assert "pass@1" in table and "walk@step3" in table and "| ekt-sft | tiny |" in table
    evals = json.loads(ekt(root, "status", "--json").stdout)
    assert evals["candidates"] == 6 + 1 + 4  # teacher + edit + student samples
