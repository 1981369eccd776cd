"""The sandbox shows nothing of the host and nothing of the previous candidate.

Each attack asserts no pass (where passing would mean the attack worked), nothing left on the
host (IPC objects, files, processes), and that the next candidate still passes. Attacks that
need a mechanism this machine lacks are skipped with the mechanism's name (see README).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from pathlib import Path

import pytest

from core.verify.client import WorkerPool
from core.verify.verdict import CheckSpec
from tests.core.verify.conftest import GOOD, check
from tests.core.verify.test_hostile import contained


def need(pool: WorkerPool, *keys: str) -> None:
    missing = [k for k in keys if not pool.isolation.get(k) or pool.isolation.get(k) == "none"]
    if missing:
        pytest.skip(f"not in force on this machine: {', '.join(missing)}")


def _sysv(kind: str) -> list[str]:
    with open(f"/proc/sysvipc/{kind}") as fh:
        return fh.read().splitlines()[1:]


LIBC = "import ctypes\nlibc = ctypes.CDLL(None)\n"
YES = "def solution():\n    return 18 if {cond} else 0\n"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("shm", LIBC + "assert libc.shmget(0x5eed, 1 << 20, 0o1666) >= 0\n"),
        ("msg", LIBC + "assert libc.msgget(0x5eed, 0o1666) >= 0\n"),
        ("sem", LIBC + "assert libc.semget(0x5eed, 4, 0o1666) >= 0\n"),
    ],
)  # fmt: skip
async def test_sysv_ipc_does_not_outlive_the_check(pool: WorkerPool, kind: str, code: str) -> None:
    need(pool, "ipc_per_candidate")
    before = _sysv(kind)
    v = await check(pool, code + GOOD)
    await contained(pool, v, "pass")
    assert _sysv(kind) == before
    # and the next candidate does not find it either
    probe = {
        "shm": "shmget(0x5eed, 0, 0)",
        "msg": "msgget(0x5eed, 0)",
        "sem": "semget(0x5eed, 0, 0)",
    }
    cond = f"__import__('ctypes').CDLL(None).{probe[kind]} >= 0"
    await contained(pool, await check(pool, YES.format(cond=cond)), "fail")


async def test_posix_message_queue_is_per_candidate(pool: WorkerPool) -> None:
    need(pool, "ipc_per_candidate")
    make = (
        "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
        "assert libc.mq_open(b'/ekt-q', os.O_CREAT | os.O_RDWR, 0o666, None) >= 0\n"
    )
    await contained(pool, await check(pool, make + GOOD), "pass")
    cond = "__import__('ctypes').CDLL(None).mq_open(b'/ekt-q', 2) >= 0"
    await contained(pool, await check(pool, YES.format(cond=cond)), "fail")


async def test_memfd_counts_against_the_memory_cap(pool: WorkerPool) -> None:
    need(pool, "cgroup")
    code = (
        "import os\n"
        "fd = os.memfd_create('x')\n"
        "block = b'x' * (1 << 20)\n"
        "for _ in range(2048):\n"
        "    os.write(fd, block)\n"
        "def solution():\n    return 18\n"
    )
    v = await check(pool, code, memory_mb=256, timeout_s=10)
    await contained(pool, v, "crashed", "memory", "error")


async def test_shm_pages_count_against_the_memory_cap(pool: WorkerPool) -> None:
    need(pool, "cgroup", "tmp_per_candidate")
    code = (
        "block = b'x' * (1 << 20)\n"
        "with open('/dev/shm/big', 'wb') as fh:\n"
        "    for _ in range(2048):\n"
        "        fh.write(block)\n"
        "def solution():\n    return 18\n"
    )
    v = await check(pool, code, memory_mb=256, timeout_s=10)
    await contained(pool, v, "crashed", "memory", "error")


async def test_run_lock_and_host_dirs_are_absent(pool: WorkerPool) -> None:
    need(pool, "pivot_root")
    # Only the folders leading to the interpreter and its stdlib exist (pyenv lives in /root).
    code = (
        "import os, sys\n"
        "def solution():\n"
        "    keep = {os.path.realpath(sys.executable), *sys.path}\n"
        "    def needed(d):\n"
        "        return any(k == d or k.startswith(d + '/') for k in keep)\n"
        "    seen = [d for d in ('/run', '/run/lock', '/home', '/root', '/srv', '/opt', '/etc',"
        " '/work', '/var/lib', '/usr/share', '/mnt') if os.path.exists(d) and not needed(d)]\n"
        "    for top in os.listdir('/root') if os.path.exists('/root') else []:\n"
        "        if not needed('/root/' + top):\n"
        "            seen.append('/root/' + top)\n"
        "    return 18 if not seen else str(seen)\n"
    )
    v = await check(pool, code)
    await contained(pool, v, "pass")
    v = await check(pool, "open('/run/lock/ekt-x', 'w').write('x' * 1000)\n" + GOOD)
    await contained(pool, v, "error")
    assert not os.path.exists("/run/lock/ekt-x")


async def test_world_readable_host_file_is_invisible(pool: WorkerPool, tmp_path: Path) -> None:
    need(pool, "pivot_root")
    secret = Path.cwd() / f".ekt-answer-{uuid.uuid4().hex[:8]}"
    secret.write_text("18")
    secret.chmod(0o644)
    try:
        code = f"def solution():\n    return int(open({str(secret)!r}).read())\n"
        v = await check(pool, code)
        await contained(pool, v, "error")
        assert v.error_type == "FileNotFoundError"
    finally:
        secret.unlink()


async def test_site_packages_are_hidden(pool: WorkerPool) -> None:
    need(pool, "pivot_root")
    v = await check(pool, "import pydantic\n" + GOOD)
    await contained(pool, v, "error")
    assert v.error_type == "ModuleNotFoundError"
    v = await check(pool, "import ctypes, decimal, hashlib, json, heapq\n" + GOOD)
    await contained(pool, v, "pass")


async def test_tmp_is_fresh_for_each_candidate(pool: WorkerPool) -> None:
    need(pool, "tmp_per_candidate")
    write = "for d in ('/tmp', '/dev/shm', '/var/tmp'):\n    open(d + '/left', 'w').write('x')\n"
    await contained(pool, await check(pool, write + GOOD), "pass")
    cond = "any(__import__('os').path.exists(d + '/left') for d in ('/tmp', '/dev/shm'))"
    await contained(pool, await check(pool, YES.format(cond=cond)), "fail")
    fill = "open('/tmp/fill', 'wb').write(b'x' * (1 << 30))\n"
    v = await check(pool, fill + GOOD)
    await contained(pool, v, "error", "memory")
    big = "open('/tmp/big', 'wb').write(b'x' * (8 << 20))\n"
    await contained(pool, await check(pool, big + GOOD), "pass")  # the last one's fill is gone


async def test_inode_flood_is_capped_and_gone(pool: WorkerPool) -> None:
    need(pool, "tmp_per_candidate")
    code = "import os\nfor i in range(100000):\n    os.mkdir(f'/tmp/d{i}')\n"
    v = await check(pool, code, timeout_s=5)
    await contained(pool, v, "error")
    assert v.error_type == "OSError" and "No space left" in v.detail
    await contained(pool, await check(pool, "import os\nos.mkdir('/tmp/d0')\n" + GOOD), "pass")


async def test_no_user_namespace(pool: WorkerPool) -> None:
    need(pool, "seccomp")
    code = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "def solution():\n"
        "    a = libc.unshare(0x10000000)\n"
        "    b = os.fork()\n"
        "    if b == 0:\n        os._exit(0)\n"
        "    os.waitpid(b, 0)\n"
        "    return 18 if a != 0 and ctypes.get_errno() == 1 else 0\n"
    )
    await contained(pool, await check(pool, code), "pass")  # unshare refused, fork still works
    threads = "import threading\nt = threading.Thread(target=print)\nt.start()\nt.join()\n"
    await contained(pool, await check(pool, threads + GOOD), "pass")  # clone3 -> clone


async def test_no_kernel_keyring(pool: WorkerPool) -> None:
    need(pool, "seccomp")
    code = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "r = libc.syscall(248, b'user', b'ekt-key', b'secret', 6, -2)\n"  # add_key, session ring
        "assert r < 0 and ctypes.get_errno() == 1\n" + GOOD
    )
    if os.uname().machine != "x86_64":
        pytest.skip("syscall number is x86_64's")
    await contained(pool, await check(pool, code), "pass")


async def test_daemons_cannot_stop_the_sweep(pool: WorkerPool) -> None:
    """Daemons that SIGSTOP every other process they can reach: the candidate's PID namespace
    ends with its init, so the verdict comes in time and nothing is left."""
    need(pool, "pidns_per_candidate")
    code = (
        "import os, signal, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    while True:\n"
        "        for p in range(1, 400):\n"
        "            try:\n"
        "                os.kill(p, signal.SIGSTOP)\n"
        "            except OSError:\n"
        "                pass\n"
        "        time.sleep(0.001)\n"
        "time.sleep(0.2)\n" + GOOD
    )
    started = asyncio.get_running_loop().time()
    v = await check(pool, code, timeout_s=2)
    assert asyncio.get_running_loop().time() - started < 5
    await contained(pool, v, "pass", "timeout")


async def test_worker_dies_with_its_engine() -> None:
    """SIGKILL the worker's parent (as if the engine died): the worker and a running candidate
    go too."""
    async with WorkerPool(1) as pool:
        need(pool, "die_with_parent", "pidns")
        client = pool.clients[0]
        run = asyncio.ensure_future(check(pool, "import time\ntime.sleep(30)\n", timeout_s=30))
        await asyncio.sleep(0.5)
        outer = client.pid
        assert outer is not None
        inner = [int(p) for p in Path(f"/proc/{outer}/task/{outer}/children").read_text().split()]
        os.kill(outer, signal.SIGKILL)
        for _ in range(100):
            alive = [p for p in inner if Path(f"/proc/{p}").exists() and _state(p) != "Z"]
            if not alive:
                break
            await asyncio.sleep(0.05)
        assert not alive
        run.cancel()
    async with WorkerPool(1) as fresh:  # a new worker removes the dead one's empty cgroup
        if fresh.isolation.get("cgroup") == "v1":
            stale = [p for p in Path("/sys/fs/cgroup/memory").rglob(f"ekt-verify-{outer}")]
            assert stale == []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


async def test_answer_check_with_isolation_report(pool: WorkerPool) -> None:
    iso = pool.isolation
    for key in ("pidns_per_candidate", "ipc_per_candidate", "tmp_per_candidate", "seccomp",
                "pivot_root", "cgroup", "die_with_parent"):  # fmt: skip
        assert key in iso
    v = await check(pool, GOOD, CheckSpec("answer", answer="18"))
    assert v.status == "pass"


def test_cli_prints_the_isolation_in_force() -> None:
    from click.testing import CliRunner

    from core.cli import cli

    result = CliRunner().invoke(cli, ["verify", "--isolation", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    iso = json.loads(result.stdout)
    assert {"pivot_root", "seccomp", "cgroup", "pidns_per_candidate"} <= iso.keys()
    text = CliRunner().invoke(cli, ["verify", "--isolation"], catch_exceptions=False).stdout
    assert "seccomp" in text and text.splitlines()[0][:3] in ("on ", "off")


def test_minimal_root_holds_with_a_virtualenv_under_tmp(tmp_path: Path, pool: WorkerPool) -> None:
    """Regression: a clone (and its .venv) under /tmp left the worker without its minimal root —
    the interpreter link was resolved after the private /tmp hid it — and candidates then could
    not import stdlib modules they had not loaded yet (CI clones into /tmp)."""
    import shutil
    import site
    import subprocess
    import sys

    need(pool, "pivot_root")
    if not str(tmp_path.resolve()).startswith("/tmp/"):
        pytest.skip("the test folder is not under /tmp")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    cfg = Path(sys.prefix) / "pyvenv.cfg"
    if cfg.exists():
        shutil.copy(cfg, venv / "pyvenv.cfg")
    repo = Path(__file__).resolve().parents[3]
    path = os.pathsep.join([str(repo), *site.getsitepackages()])
    env = {"PYTHONPATH": path, "PATH": "/usr/bin:/bin"}
    code = (
        "import sys; from core.cli import main;"
        " sys.argv = ['ekt', 'verify', '--isolation', '--json']; main()"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pivot_root"] is True
