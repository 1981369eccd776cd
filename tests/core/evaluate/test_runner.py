"""The eval flow with scripted completions: samples stored as candidates of the evaluation,
verified in the real sandbox, pass@k computed from the verdicts; failure, resume, lineage."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from core.errors import EvalError
from core.evaluate.runner import EvalOptions, EvalProgress, run_eval
from core.evaluate.table import comparison_rows
from core.project import Project
from core.prompts import RenderedPrompt

OK = {"What is 2 + 3?": "5", "What is 4 * 6?": "24", "What is 10 - 7?": "3"}
# per question: which of the 4 samples are right (t1 all, t2 one, t3 none: errors and syntax)
SCRIPT = {
    "What is 2 + 3?": ["right"] * 4,
    "What is 4 * 6?": ["right", "wrong", "wrong", "raise"],
    "What is 10 - 7?": ["wrong", "syntax", "raise", "wrong"],
}


def _completion(question: str, how: str) -> str:
    return {
        "right": f"\n    return {OK[question]}\n",
        "wrong": "\n    return -1\n",
        "raise": "\n    return 1 / 0\n",
        "syntax": "\n    return (\n",
    }[how]


class Scripted:
    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_after = fail_after

    async def generate(self, prompts: Sequence[RenderedPrompt], n: int) -> list[list[str]]:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("generation worker died")
        self.calls.append([p.text for p in prompts])
        out = []
        for p in prompts:
            question = next(q for q in SCRIPT if q in p.text)
            assert p.code_prefix == "def solution():"
            out.append([_completion(question, how) for how in SCRIPT[question][:n]])
        return out


def scripted(gen: Scripted) -> contextlib.AbstractAsyncContextManager[Scripted]:
    @contextlib.asynccontextmanager
    async def cm() -> AsyncIterator[Scripted]:
        yield gen

    return cm()


def _options(**kw: object) -> EvalOptions:
    base = {"model": "smollm2", "n": 4, "k": "1,2,4", "temperature": 0.6, "batch_problems": 2}
    return EvalOptions(**{**base, **kw})  # type: ignore[arg-type]


async def test_eval_stores_verifies_and_scores(project_dir: Path) -> None:
    progress: list[EvalProgress] = []
    async with await Project.open(project_dir) as project:
        summary = await run_eval(
            project,
            _options(name="e1"),
            on_progress=progress.append,
            generator=scripted(Scripted()),
        )
        rows = await project.store.fetchall(
            "SELECT c.source, c.eval_id, c.run_id, v.status FROM candidates c"
            " JOIN verdicts v ON v.candidate_id = c.id ORDER BY c.id"
        )
        ev = await project.store.fetchone("SELECT * FROM evals WHERE id = ?", (summary.eval_id,))
    assert [p.problems_done for p in progress] == [2, 3]
    assert len(rows) == 12
    assert {(r["source"], r["eval_id"], r["run_id"]) for r in rows} == {
        ("student", summary.eval_id, None)
    }
    r = summary.results
    assert r["problems"] == 3 and r["samples"] == 12 and r["solved"] == 2
    assert r["pass_at_k"]["1"]["value"] == pytest.approx((1 + 0.25 + 0) / 3)
    assert r["pass_at_k"]["2"]["value"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert r["pass_at_k"]["4"]["value"] == pytest.approx(2 / 3)
    assert r["statuses"]["pass"] == 5 and r["statuses"]["syntax"] == 1
    assert r["statuses"]["error"] == 2 and r["statuses"]["fail"] == 4
    assert ev["status"] == "done" and ev["method"] == "few-shot" and ev["split"] == "test"
    assert ev["model"] == "SmolLM2-135M-Instruct"
    assert json.loads(ev["results"]) == r
    params = json.loads(ev["params"])
    assert params["prompts"] == {"answer": "gsm8k@v1"} and params["k"] == [1, 2, 4]


async def test_failed_run_is_marked_and_resumes_by_name(project_dir: Path) -> None:
    async with await Project.open(project_dir) as project:
        with pytest.raises(RuntimeError, match="worker died"):
            await run_eval(project, _options(name="r"), generator=scripted(Scripted(fail_after=1)))
        ev = await project.store.fetchone("SELECT status, results FROM evals WHERE name = 'r'")
        assert ev["status"] == "failed"
        assert json.loads(ev["results"])["error"] == "RuntimeError: generation worker died"
        assert await project.store.scalar("SELECT COUNT(*) FROM candidates") == 8
        again = Scripted()
        summary = await run_eval(project, _options(name="r"), generator=scripted(again))
        assert len(again.calls) == 1 and len(again.calls[0]) == 1  # only the missing problem
        assert summary.results["samples"] == 12
        assert summary.results["pass_at_k"]["1"]["value"] == pytest.approx(1.25 / 3)
        with pytest.raises(EvalError, match="already exists and is done"):
            await run_eval(project, _options(name="r"), generator=scripted(Scripted()))
        assert await project.store.scalar("SELECT COUNT(*) FROM evals") == 1


async def test_checkpoint_lineage_labels_the_eval(project_dir: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "out" / "checkpoint-40"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text("{}")
    now = time.time()
    async with await Project.open(project_dir) as project:
        run_id = await project.store.execute(
            "INSERT INTO train_runs(name, lineage, created_at, updated_at) VALUES (?,?,?,?)",
            ("sft-1", json.dumps({"teacher": {"backend": "openai", "model": "gpt-big"}}), now, now),
        )
        await project.store.execute(
            "INSERT INTO checkpoints(train_run_id, step, path, lineage, created_at)"
            " VALUES (?, 40, ?, ?, ?)",
            (run_id, str(ckpt), json.dumps({"method": "ekt-sft", "prompt_id": None}), now),
        )
        gen = Scripted()
        summary = await run_eval(project, _options(model=str(ckpt)), generator=scripted(gen))
        rows = await comparison_rows(project.store)
    assert (summary.model, summary.method, summary.teacher) == (
        "sft-1@step40",
        "ekt-sft",
        "gpt-big",
    )
    assert "# Question: What is 2 + 3?" in gen.calls[0][0]  # zero-shot: no exemplars
    assert gen.calls[0][0].startswith("# Question:")
    assert [(r.model, r.prompt) for r in rows] == [("sft-1@step40", "zero-shot")]
