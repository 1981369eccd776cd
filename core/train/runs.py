"""Launch, cancel and resume training runs; the trainer itself is a detached subprocess.

`launch` checks everything that can be wrong (options, model, gold, name, folder) before it
creates the `train_runs` row, writes the SFT set and the spec into the run's folder, then starts
`python -m core.train --spec SPEC` (or the accelerate/torchrun command) in its own session, so
the run outlives the TUI or the CLI that started it. The child writes its own progress into the
store; a failure after the row exists marks the row failed with the error (nothing half-done).
`cancel` sends SIGTERM to the run's process group: the trainer saves a checkpoint and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from core.errors import TrainError
from core.models import ensure_local_model
from core.project import Project
from core.queries.training import (
    ACTIVE,
    active_train_runs,
    next_train_run_number,
    train_checkpoints,
    train_events,
    train_run,
    train_run_exists,
    train_runs,
)
from core.store import Store
from core.train.lineage import gold_lineage
from core.train.options import TrainOptions, options_dict, resolve_options, trainer_command
from core.train.sft import build_sft, write_sft

FINAL = ("done", "cancelled", "failed")
WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def check_model_folder(path: Path) -> None:
    """A folder with a config but no weights (a half-copied checkpoint) fails here, not later."""
    if not any((path / name).is_file() for name in WEIGHTS):
        raise TrainError(
            f"{path}: not a model checkpoint (no model.safetensors or pytorch_model.bin)"
        )


def pid_alive(pid: int | None) -> bool:
    """True for a live process (a zombie counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


async def find_run(store: Store, ref: str | int) -> dict[str, Any]:
    """A run by name or id; an unknown one is a TrainError."""
    found = await train_run(store, ref)
    if found is None:
        raise TrainError(f"no training run named {ref!r} (see `ekt train list`)")
    return found


async def reconcile(store: Store) -> int:
    """Mark runs whose process died without a word (killed, out of memory) as failed."""
    if store.readonly:
        return 0
    rows = await active_train_runs(store)
    dead = [i for i, pid, updated in rows if not pid_alive(pid) and time.time() - updated > 2]
    for run_id in dead:
        await store.execute(
            "UPDATE train_runs SET status = 'failed', error = ?, updated_at = ? WHERE id = ?"
            f" AND status IN {ACTIVE!r}",
            ("the training process died (killed or out of memory; see train.log)", time.time(),
             run_id),
        )  # fmt: skip
    return len(dead)


async def list_runs(store: Store) -> list[dict[str, Any]]:
    """Every run with its last step/loss and checkpoint count, newest first."""
    await reconcile(store)
    return await train_runs(store)


async def run_events(
    store: Store, run_id: int, *, after_id: int = 0, limit: int = 5000
) -> list[dict[str, Any]]:
    return await train_events(store, run_id, after_id=after_id, limit=limit)


async def run_checkpoints(store: Store, run_id: int) -> list[dict[str, Any]]:
    return await train_checkpoints(store, run_id)


async def _next_name(store: Store) -> str:
    n = await next_train_run_number(store)
    while await train_run_exists(store, f"sft-{n}"):
        n += 1
    return f"sft-{n}"


def _spawn(cmd: list[str], run_dir: Path, env_extra: dict[str, str] | None = None) -> int:
    """Start the trainer detached (own session: survives the parent; SIGTERM to its group)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}  # fmt: skip
    root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(env_extra or {})
    log = open(run_dir / "train.log", "ab")  # noqa: SIM115  (handed to the child)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise TrainError(f"cannot start the trainer ({cmd[0]}): {exc.strerror or exc}") from None
    finally:
        log.close()
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it: no zombie to mislead us
    return proc.pid


async def _fail(store: Store, run_id: int, message: str) -> None:
    await store.execute(
        "UPDATE train_runs SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
        (message, time.time(), run_id),
    )


async def launch(project: Project, options: TrainOptions | None = None) -> int:
    """Validate, write the SFT set and spec, start the trainer; returns the train_run id."""
    options = options or TrainOptions()
    store = project.store
    section = resolve_options(project.config, options)
    cmd_check = trainer_command(Path("spec.json"), section.launcher, section.num_processes)
    del cmd_check  # a bad launcher/process count fails before anything is written
    name = (options.name or "").strip() or await _next_name(store)
    if await train_run_exists(store, name):
        raise TrainError(f"a training run named {name!r} exists (resume it: --resume {name})")
    if section.report_to != "none" and importlib.util.find_spec(section.report_to) is None:
        raise TrainError(
            f"--report-to {section.report_to}: the {section.report_to} package is not installed"
        )
    model_path = (await asyncio.to_thread(ensure_local_model, section.model)).resolve()
    check_model_folder(model_path)
    diverse = section.gold_policy == "diverse"
    sft = await build_sft(
        store, policy=section.gold_policy, dev=section.dev, seed=section.seed,
        k=section.diverse_k if diverse else section.max_per_problem,
        embedder=section.model if diverse else None, min_judge_score=section.min_judge_score,
    )  # fmt: skip
    if not sft.examples:
        raise TrainError("every gold problem is in the dev slice: lower --dev")
    out_root = Path(section.output).expanduser()
    out_root = out_root if out_root.is_absolute() else project.root / out_root
    run_dir = (out_root / name).resolve()  # the trainer runs elsewhere: no relative paths
    if run_dir.exists() and any(run_dir.iterdir()):
        raise TrainError(f"{run_dir}: folder exists and is not empty (choose another --name)")
    now = time.time()
    config = {**section.model_dump(), "model_path": str(model_path), "name": name}
    run_id = await store.execute(
        "INSERT INTO train_runs(name, status, config, lineage, output_dir, created_at, updated_at)"
        " VALUES (?, 'starting', ?, '{}', ?, ?, ?)",
        (name, json.dumps(config), str(run_dir), now, now),
    )
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        sft_hash = write_sft(run_dir / "sft.jsonl", sft.examples)
        lineage = await gold_lineage(
            store, sft.gold, policy=sft.policy, k=sft.k, sft_hash=sft_hash,
            verifier=project.config.verifier, base_model=section.model, dev_ids=sft.dev_ids,
        )  # fmt: skip
        spec = {
            "db": str(project.db_path.resolve()),
            "train_run_id": run_id,
            "name": name,
            "model_path": str(model_path),
            "output_dir": str(run_dir.resolve()),
            "sft_path": str((run_dir / "sft.jsonl").resolve()),
            "dev_ids": sft.dev_ids,
            "verifier": project.config.verifier.model_dump(),
            "hparams": section.model_dump(),
            "lineage": lineage,
            "overrides": options_dict(options),
        }
        _write_json(run_dir / "spec.json", spec)
        await store.execute(
            "UPDATE train_runs SET lineage = ?, updated_at = ? WHERE id = ?",
            (json.dumps(lineage), time.time(), run_id),
        )
        cmd = trainer_command(run_dir / "spec.json", section.launcher, section.num_processes)
        pid = _spawn(cmd, run_dir)
    except BaseException as exc:
        await _fail(store, run_id, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        if not any(run_dir.glob("checkpoint-*")):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    await store.execute(
        "UPDATE train_runs SET pid = ?, updated_at = ? WHERE id = ?", (pid, time.time(), run_id)
    )
    return run_id


async def resume(project: Project, ref: str | int) -> int:
    """Restart a cancelled or failed run from its last checkpoint, to the same final step."""
    store = project.store
    await reconcile(store)
    run = await find_run(store, ref)
    if run["status"] in ACTIVE:
        raise TrainError(f"training run {run['name']!r} is still running (pid {run['pid']})")
    if run["status"] == "done":
        raise TrainError(f"training run {run['name']!r} finished already; nothing to resume")
    run_dir = Path(run["output_dir"])
    spec_path = run_dir / "spec.json"
    if not spec_path.is_file():
        raise TrainError(f"{spec_path}: missing; run {run['name']!r} cannot be resumed")
    config = run["config"]
    launcher, processes = config.get("launcher", "python"), int(config.get("num_processes", 1))
    cmd = [*trainer_command(spec_path, launcher, processes), "--resume"]
    await store.execute(
        "UPDATE train_runs SET status = 'starting', error = NULL, pid = NULL, updated_at = ?"
        " WHERE id = ?",
        (time.time(), run["id"]),
    )
    try:
        pid = _spawn(cmd, run_dir)
    except TrainError as exc:
        await _fail(store, run["id"], str(exc))
        raise
    await store.execute(
        "UPDATE train_runs SET pid = ?, updated_at = ? WHERE id = ?",
        (pid, time.time(), run["id"]),
    )
    return int(run["id"])


async def cancel(project: Project, ref: str | int) -> dict[str, Any]:
    """SIGTERM to the run's process group: the trainer checkpoints and exits 'cancelled'."""
    store = project.store
    await reconcile(store)
    run = await find_run(store, ref)
    if run["status"] not in ACTIVE or not pid_alive(run["pid"]):
        raise TrainError(f"training run {run['name']!r} is not running (status {run['status']})")
    launcher = run["config"].get("launcher", "python")
    workers = _trainer_processes(run["pid"]) if launcher != "python" else []
    try:
        if workers:  # a launcher's agent that gets SIGTERM kills its workers: signal them only
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        else:
            os.killpg(run["pid"], signal.SIGTERM)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(run["pid"], signal.SIGTERM)
    except PermissionError as exc:
        raise TrainError(f"cannot signal pid {run['pid']}: {exc.strerror or exc}") from None
    return run


def _trainer_processes(leader: int) -> list[int]:
    """The trainer processes a launcher started (torchrun gives each its own session): every
    descendant of the launcher whose command line runs core.train."""
    parent: dict[int, int] = {}
    trainer: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(stat.rsplit(")", 1)[-1].split()[1])
        if b"core.train" in cmdline:
            trainer.add(pid)

    def under(pid: int) -> bool:
        seen = 0
        while pid in parent and seen < 64:
            pid, seen = parent[pid], seen + 1
            if pid == leader:
                return True
        return False

    return sorted(p for p in trainer if p != leader and under(p))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)
