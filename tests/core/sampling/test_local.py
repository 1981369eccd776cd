"""core.generate's subprocess worker and the local teacher, on a tiny random model."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from core.errors import ModelError
from core.events import TokensStreamed
from core.generate import GenerationWorker
from core.project import Project
from core.sampling import SampleOptions, sample
from tests.tiny_model import make_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    config = json.loads((folder / "config.json").read_text())
    config["max_position_embeddings"] = 4096  # the few-shot prompts are ~1,200 tokens
    (folder / "config.json").write_text(json.dumps(config))
    return folder


async def test_worker_samples_streams_cuts_and_dies_cleanly(tiny: Path) -> None:
    deltas: dict[tuple[int, int], str] = {}

    def on_delta(p: int, c: int, text: str) -> None:
        deltas[(p, c)] = deltas.get((p, c), "") + text

    params = {"stop": ["\n"], "max_new_tokens": 12, "temperature": 0.9, "top_p": 0.95}
    async with GenerationWorker(str(tiny)) as worker:
        out = await worker.generate(
            ["def solution():", "Question: Tom has"], n=3, seed=1, on_delta=on_delta, **params
        )
        assert [len(row) for row in out] == [3, 3]
        for row in out:
            for c in row:
                assert "\n" not in c.text and 1 <= c.completion_tokens <= 12
                assert c.prompt_tokens > 0 and c.finish_reason in {"stop", "length"}
        assert {k: v for k, v in deltas.items() if v}  # streamed while generating
        for (p, c), text in deltas.items():
            assert out[p][c].text.startswith(text)
        again = await worker.generate(["def solution():", "Question: Tom has"], n=3, seed=1,
                                      **params)  # fmt: skip
        assert [[c.text for c in row] for row in again] == [[c.text for c in row] for row in out]
        greedy = await worker.generate(
            ["def add(a, b):"], n=2, stop=[], max_new_tokens=6, temperature=0, top_p=1, seed=None
        )
        assert greedy[0][0] == greedy[0][1] and greedy[0][0].completion_tokens == 6
        assert worker._proc is not None
        os.kill(worker._proc.pid, signal.SIGKILL)
        with pytest.raises(ModelError, match="exited"):
            await worker.generate(["x"], n=1, seed=None, **params)


async def test_unloadable_model_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no config\.json"):
        await GenerationWorker(str(tmp_path)).start()
    (tmp_path / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(ModelError, match="cannot load model") as info:
        await GenerationWorker(str(tmp_path)).start()
    assert "\n" not in str(info.value)


async def test_local_teacher_run_on_demo_problems(demo: Path, tiny: Path) -> None:
    options = SampleOptions(
        split="train", limit=3, n=2, max_tokens=8, concurrency=3, verify=True,
        teacher={"backend": "local", "model": str(tiny)},
    )  # fmt: skip
    async with await Project.open(demo) as project:
        with project.bus.subscribe() as queue:
            summary = await sample(project, options)
            events = [queue.get_nowait() for _ in range(queue.qsize())]
        streamed = [e for e in events if isinstance(e, TokensStreamed)]
        assert summary.state == "done" and summary.samples == 6 and summary.requests_done == 3
        assert summary.teacher == f"local:{tiny}"
        rows = await project.store.fetchall(
            "SELECT prompt_tokens, completion_tokens, ttft_s FROM requests WHERE status = 'done'"
        )
        assert all(r[0] > 500 and 2 <= r[1] <= 16 for r in rows)  # counted by the tokenizer
        assert sum(summary.verdicts.values()) == 6
        assert streamed
        # the same command again: nothing to do, no model load needed for a plan
        again = await sample(project, options)
        assert again.requests_planned == 0


async def test_local_teacher_bad_model_writes_nothing(demo: Path) -> None:
    options = SampleOptions(limit=1, teacher={"backend": "local", "model": "./no-such-model"})
    async with await Project.open(demo) as project:
        with pytest.raises(ModelError, match="unknown model"):
            await sample(project, options)
        assert await project.store.scalar("SELECT count(*) FROM runs") == 0
