"""A corrupt or non-SQLite ekt.db: one line and exit 1 at once, from every entry point."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import cli
from core.errors import StoreError
from core.project import DB_NAME, init_project
from core.store import Store, connect_sync
from ekt_tui.__main__ import main as tui_main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "samples" / "math-train.jsonl"
COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["prompt", "list"],
    ["candidates", "list"],
    ["sample", "--dry-run"],
    ["verify"],
    ["train", "list"],
    ["eval", "list"],
]


def _random_bytes(root: Path) -> None:
    (root / DB_NAME).write_bytes(random.Random(13).randbytes(20_000))


def _truncated(root: Path) -> None:
    db = root / DB_NAME
    size = db.stat().st_size
    assert size >= 8192, size  # a real store with a few pages
    os.truncate(db, size // 2)


@pytest.fixture(params=[_random_bytes, _truncated], ids=["random-bytes", "truncated"])
def bad_project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = init_project(tmp_path / "proj")
    imported = CliRunner().invoke(
        cli, ["-p", str(root), "import", str(SAMPLES), "--format", "gsm8k"]
    )
    assert imported.exit_code == 0, imported.output
    for side in ("-wal", "-shm"):  # checkpointed on close: the main file holds everything
        (root / (DB_NAME + side)).unlink(missing_ok=True)
    request.param(root)
    return root


def _one_line(stderr: str, prefix: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), stderr
    assert "not a readable ekt store" in lines[0] and DB_NAME in lines[0]
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_every_command_refuses_a_bad_store_in_one_line(bad_project: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["-p", str(bad_project), *args], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    _one_line(result.stderr, "ekt: error: ")
    assert result.stdout == ""


def test_status_process_exits_at_once(bad_project: Path) -> None:
    """The store's connection thread used to outlive the error and keep `ekt status` alive."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "from core.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "-p", str(bad_project), "status"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert proc.returncode == 1
    _one_line(proc.stderr, "ekt: error: ")


def test_tui_entry_refuses_a_bad_store(bad_project: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        tui_main([str(bad_project)])
    assert exit_info.value.code == 1
    _one_line(capsys.readouterr().err, "ekt-tui: ")


async def test_store_open_raises_store_error(bad_project: Path) -> None:
    db = bad_project / DB_NAME
    for readonly in (False, True):
        with pytest.raises(StoreError, match="not a readable ekt store"):
            await Store.open(db, readonly=readonly)
        with pytest.raises(StoreError, match="not a readable ekt store"):
            connect_sync(db, readonly=readonly)


def test_versions(capsys: pytest.CaptureFixture) -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    name, version = result.stdout.split()
    assert name == "ekt" and version[0].isdigit()
    tui_main(["--version"])
    assert capsys.readouterr().out.split() == ["ekt-tui", version]
