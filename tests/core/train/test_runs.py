"""Training runs end to end with a tiny random model: the trainer is a real subprocess."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from core.errors import ModelError, TrainError
from core.project import Project
from core.store import connect_sync
from core.train import (
    TrainOptions,
    cancel,
    launch,
    list_runs,
    resume,
    run_checkpoints,
    run_events,
    trainer_command,
)
from tests.core.train.conftest import make_gold_project, wait_status

FINAL = ("done", "failed", "cancelled")


def opts(model: Path, **kw: object) -> TrainOptions:
    base = {"student": str(model), "max_steps": 6, "batch_size": 2, "max_length": 64, "lr": 1e-3}
    return TrainOptions(**{**base, **kw})  # type: ignore[arg-type]


async def start(root: Path, options: TrainOptions) -> int:
    async with await Project.open(root) as p:
        return await launch(p, options)


async def report(root: Path, run_id: int) -> tuple[dict, list[dict], list[dict]]:
    async with await Project.open(root) as p:
        run = next(r for r in await list_runs(p.store) if r["id"] == run_id)
        return run, await run_events(p.store, run_id), await run_checkpoints(p.store, run_id)


async def test_full_run_records_progress_checkpoints_and_lineage(
    gold_project: Path, tiny_model: Path
) -> None:
    run_id = await start(gold_project, opts(tiny_model, dev=2, eval_every=3, name="first"))
    assert wait_status(gold_project / "ekt.db", run_id, FINAL) == "done"
    run, events, ckpts = await report(gold_project, run_id)
    assert (run["status"], run["step"], run["max_steps"], run["error"]) == ("done", 6, 6, None)
    logs = [e for e in events if e["kind"] == "log"]
    assert [e["step"] for e in logs] == [1, 2, 3, 4, 5, 6]
    assert all(e["loss"] > 0 and e["tokens_per_s"] > 0 and e["eta_s"] >= 0 for e in logs)
    assert all(e["lr"] is not None and e["grad_norm"] is not None for e in logs)
    assert logs[-1]["loss"] < logs[0]["loss"]  # lr 1e-3 on 12 tiny examples: it learns
    evals = [e for e in events if e["kind"] == "eval"]
    assert [e["step"] for e in evals] == [3, 6] and evals[0]["data"]["dev"] == 2
    assert next(e["kind"] for e in events) == "start" and events[-1]["kind"] == "done"
    assert [c["step"] for c in ckpts] == [3, 6]
    assert sum(bool(c["metrics"].get("best")) for c in ckpts) == 1
    for c in ckpts:
        folder = Path(c["path"])
        assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
        assert (folder / "tokenizer.json").is_file()  # `ekt eval --model` loads it as is
    lin = ckpts[-1]["lineage"]
    sft = Path(run["output_dir"]) / "sft.jsonl"
    import hashlib

    assert lin["sft_hash"] == hashlib.sha256(sft.read_bytes()).hexdigest()
    assert lin["teacher"] == "big-teacher" and lin["prompts"] == ["gsm8k@v1"]
    assert lin["runs"][0]["sampling"] == {"n": 4, "temperature": 0.8}
    assert lin["gold_policy"] == "all-distinct" and lin["method"] == "ekt-sft"
    assert lin["verifier"]["timeout_s"] == 5.0 and len(lin["dev_problems"]) == 2
    assert lin["step"] == 6 and lin["train_run"] == "first"
    assert lin["sft_examples"] == len(sft.read_text().splitlines())


async def test_sigterm_checkpoints_and_resume_reaches_the_same_final_step(
    gold_project: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKT_TRAIN_STEP_DELAY", "0.25")
    run_id = await start(gold_project, opts(tiny_model, max_steps=12, name="long"))
    db = gold_project / "ekt.db"
    wait_status(db, run_id, ("running",))
    conn = connect_sync(db, readonly=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # cancel once training is under way
        if conn.execute(
            "SELECT 1 FROM train_events WHERE train_run_id = ? AND kind = 'log'", (run_id,)
        ).fetchone():
            break
        time.sleep(0.05)
    conn.close()
    async with await Project.open(gold_project) as p:
        await cancel(p, "long")
    assert wait_status(db, run_id, FINAL) == "cancelled"
    _run, events, ckpts = await report(gold_project, run_id)
    stopped = max(e["step"] or 0 for e in events)
    assert 1 <= stopped < 12 and [c["step"] for c in ckpts] == [stopped]
    assert events[-1]["kind"] == "cancelled"
    async with await Project.open(gold_project) as p:
        with pytest.raises(TrainError, match="is not running"):
            await cancel(p, "long")
        assert await resume(p, "long") == run_id
    monkeypatch.delenv("EKT_TRAIN_STEP_DELAY")
    assert wait_status(db, run_id, FINAL) == "done"
    _run, events, ckpts = await report(gold_project, run_id)
    starts = [e for e in events if e["kind"] == "start"]
    assert [s["step"] for s in starts] == [0, stopped] and starts[1]["data"]["resumed"]
    assert starts[1]["data"]["max_steps"] == 12
    log_steps = [e["step"] for e in events if e["kind"] == "log"]
    assert log_steps == list(range(1, 13))  # nothing repeated, nothing skipped
    assert [c["step"] for c in ckpts] == [stopped, 12]
    async with await Project.open(gold_project) as p:
        with pytest.raises(TrainError, match="finished already"):
            await resume(p, "long")


async def test_bad_input_leaves_nothing_behind(tmp_path: Path, tiny_model: Path) -> None:
    empty = make_gold_project(tmp_path / "empty", with_gold=False)
    with pytest.raises(TrainError, match="no gold yet"):
        await start(empty, opts(tiny_model))
    root = make_gold_project(tmp_path / "p")
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        await start(root, opts(tiny_model, student="no-such-model"))
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_text((tiny_model / "config.json").read_text())
    with pytest.raises(TrainError, match="not a model checkpoint"):
        await start(root, opts(tiny_model, student=str(half)))
    with pytest.raises(TrainError, match="--lr"):
        await start(root, opts(tiny_model, lr=-1.0))
    with pytest.raises(TrainError, match="--num-processes needs"):
        await start(root, opts(tiny_model, num_processes=2))
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(TrainError, match="tensorboard package is not installed"):
            await start(root, opts(tiny_model, report_to="tensorboard"))
    for project in (empty, root):
        conn = connect_sync(project / "ekt.db", readonly=True)
        assert conn.execute("SELECT count(*) FROM train_runs").fetchone()[0] == 0
        conn.close()
        assert not (project / "checkpoints").exists()


async def test_a_model_that_fails_to_load_marks_the_run_failed(
    gold_project: Path, tiny_model: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    run_id = await start(gold_project, opts(tiny_model, student=str(broken)))
    assert wait_status(gold_project / "ekt.db", run_id, FINAL) == "failed"
    run, events, _ = await report(gold_project, run_id)
    assert run["error"] and "\n" not in run["error"] and "broken" in run["error"]
    assert events[-1]["kind"] == "error"


async def test_a_killed_trainer_is_reconciled_as_failed(
    gold_project: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKT_TRAIN_STEP_DELAY", "0.5")
    run_id = await start(gold_project, opts(tiny_model, max_steps=50))
    wait_status(gold_project / "ekt.db", run_id, ("running",))
    run, _, _ = await report(gold_project, run_id)
    os.killpg(run["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run, _, _ = await report(gold_project, run_id)  # list_runs reconciles
        if run["status"] == "failed":
            break
        await asyncio.sleep(0.2)
    assert run["status"] == "failed" and "died" in run["error"]


def test_launcher_commands() -> None:
    spec = Path("/x/spec.json")
    assert trainer_command(spec, "python", 1) == [sys.executable, "-m", "core.train", "--spec",
                                                  str(spec)]  # fmt: skip
    acc = trainer_command(spec, "accelerate", 4)
    assert acc[1:5] == ["-m", "accelerate.commands.launch", "--num_processes", "4"]
    assert acc[-4:] == ["-m", "core.train", "--spec", str(spec)]
    tr = trainer_command(spec, "torchrun", 2)
    assert tr[1:3] == ["-m", "torch.distributed.run"] and "--nproc-per-node=2" in tr
    with pytest.raises(TrainError, match="unknown launcher"):
        trainer_command(spec, "mpirun", 2)


def test_spec_is_json_the_child_can_read(gold_project: Path, tiny_model: Path) -> None:
    run_id = asyncio.run(start(gold_project, opts(tiny_model, max_steps=1, name="one")))
    assert wait_status(gold_project / "ekt.db", run_id, FINAL) == "done"
    spec = json.loads((gold_project / "checkpoints" / "one" / "spec.json").read_text())
    assert spec["hparams"]["max_steps"] == 1 and spec["train_run_id"] == run_id
    assert spec["overrides"]["student"] == str(tiny_model)


def test_trainer_processes_are_found_under_a_launcher() -> None:
    """Cancel signals the trainers a launcher started (each in its own session), not the
    launcher: torchrun's agent answers SIGTERM by killing its workers."""
    import subprocess

    from core.train.runs import _trainer_processes

    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', 'core.train'], start_new_session=True); time.sleep(30)"  # noqa: E501
    launcher = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        found: list[int] = []
        while time.monotonic() < deadline and not found:
            found = _trainer_processes(launcher.pid)
            time.sleep(0.05)
        assert len(found) == 1 and found[0] != launcher.pid
        os.kill(found[0], signal.SIGKILL)
    finally:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait()


def test_torchrun_two_cpu_processes(gold_project: Path, tiny_model: Path) -> None:
    """The multi-process path (DDP over gloo): the forward goes through the wrapper, rank 0
    records, tokens/s counts both processes."""
    run_id = asyncio.run(
        start(gold_project, opts(tiny_model, max_steps=3, launcher="torchrun", num_processes=2))
    )
    assert wait_status(gold_project / "ekt.db", run_id, FINAL, timeout=180) == "done"
    _run, events, ckpts = asyncio.run(report(gold_project, run_id))
    logs = [e for e in events if e["kind"] == "log"]
    assert [e["step"] for e in logs] == [1, 2, 3] and all(e["loss"] > 0 for e in logs)
    assert logs[-1]["epoch"] == 1.0  # 12 examples, 2 processes × batch 2 → 3 steps per epoch
    assert [c["step"] for c in ckpts] == [3]
