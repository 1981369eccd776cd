"""The generation subprocess never outlives the engine that started it (kill -9 included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.tiny_model import make_tiny_model

ENGINE = """
import asyncio, sys
from core.generate import GenerationWorker

async def main():
    async with GenerationWorker(sys.argv[1]) as worker:
        print(worker._proc.pid, flush=True)
        await worker.generate(["def f():"] * 8, n=8, stop=[], max_new_tokens=4000,
                              temperature=1.0, top_p=1.0, seed=0)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for init is gone for our purpose
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_generation_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    model = make_tiny_model(tmp_path / "tiny")
    engine = subprocess.Popen(
        [sys.executable, "-c", ENGINE, str(model)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert engine.stdout is not None
        child = int(engine.stdout.readline())
        time.sleep(1.0)  # the batch is being generated now
        assert _alive(child)
        engine.send_signal(signal.SIGKILL)
        engine.wait()
        deadline = time.monotonic() + 5  # the watch polls every second
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child), "core.generate kept generating after its parent died"
    finally:
        engine.kill()
