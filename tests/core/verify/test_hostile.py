"""Hostile candidates: each must be contained, classified, and leave the verifier working.

Every test runs its program on a one-slot pool, then a benign program on the same pool (the
verifier keeps going), and, where candidates get their own uid, checks that no process of that
uid is left (nothing outlives its check).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.verify import client as client_module
from core.verify.client import WorkerPool
from core.verify.verdict import CheckSpec, Verdict
from tests.core.verify.conftest import (
    GOOD,
    candidate_processes,
    check,
    per_candidate_uid,
    survivors,
)

ASSERTS = CheckSpec("asserts", tests=["assert f(1) == 2"])


async def contained(pool: WorkerPool, verdict: Verdict, *statuses: str) -> None:
    assert verdict.status in statuses, verdict
    assert verdict.detail and "\n" not in verdict.detail
    assert survivors(pool) == []
    if per_candidate_uid(pool):
        assert candidate_processes(pool.isolation) == []
    after = await check(pool, GOOD)
    assert after.status == "pass", after


@pytest.fixture
def outside_dir() -> Iterator[Path]:
    """A root-owned 0755 folder outside /tmp (which candidates see as a private tmpfs)."""
    path = Path.cwd() / f".ekt-hostile-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def test_fork_bomb(pool: WorkerPool) -> None:
    code = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    v = await check(pool, code, timeout_s=1)
    await contained(pool, v, "timeout", "error", "memory", "crashed")


async def test_fork_bomb_without_guard(pool: WorkerPool) -> None:
    v = await check(pool, "import os\nwhile True:\n    os.fork()\n", timeout_s=1)
    await contained(pool, v, "error", "timeout")


async def test_thread_bomb(pool: WorkerPool) -> None:
    code = (
        "import threading, time\n"
        "for _ in range(10000):\n"
        "    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
    )
    v = await check(pool, code, timeout_s=1)
    await contained(pool, v, "error", "memory")


async def test_memory_bomb_single_allocation(pool: WorkerPool) -> None:
    v = await check(pool, "x = bytearray(10 ** 11)\n")
    await contained(pool, v, "memory")
    assert v.error_type == "MemoryError"


async def test_memory_bomb_growing(pool: WorkerPool) -> None:
    v = await check(pool, "xs = []\nwhile True:\n    xs.append(' ' * 10 ** 6)\n")
    await contained(pool, v, "memory")


async def test_busy_loop(pool: WorkerPool) -> None:
    v = await check(pool, "def solution():\n    while True:\n        pass\n", timeout_s=1)
    await contained(pool, v, "timeout")


async def test_c_level_hang_huge_power(pool: WorkerPool) -> None:
    v = await check(pool, "def solution():\n    return 10 ** 10 ** 10\n", timeout_s=1)
    await contained(pool, v, "timeout", "memory")


async def test_sleep_forever(pool: WorkerPool) -> None:
    v = await check(pool, "import time\ntime.sleep(10 ** 6)\n", timeout_s=1)
    await contained(pool, v, "timeout")
    assert "wall clock" in v.detail


async def test_stop_itself(pool: WorkerPool) -> None:
    v = await check(pool, "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n", timeout_s=1)
    await contained(pool, v, "timeout")


async def test_api_key_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-hostile-test-secret")
    async with WorkerPool(1) as pool:
        code = (
            "import os, glob\n"
            "def solution():\n"
            "    seen = [os.environ.get('OPENAI_API_KEY', '')]\n"
            "    for path in glob.glob('/proc/*/environ'):\n"
            "        try:\n"
            "            seen.append(open(path, 'rb').read().decode(errors='replace'))\n"
            "        except OSError:\n"
            "            pass\n"
            "    return 'leak' if any('sk-hostile' in s for s in seen) else len(os.environ)\n"
        )
        v = await check(pool, code)
        assert v.returned == "0", v
        await contained(pool, v, "fail")


async def test_read_secret_file_outside(pool: WorkerPool, outside_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("privilege drop needs root; as a user, files of the user stay readable")
    secret = outside_dir / "secret.txt"
    secret.write_text("top-secret-value")
    secret.chmod(0o600)
    code = f"def solution():\n    return open({str(secret)!r}).read()\n"
    v = await check(pool, code)
    assert "top-secret" not in (v.returned or "") + v.output
    await contained(pool, v, "error")
    # denied by the uid drop, or not even visible when the folder is under /tmp (a private
    # tmpfs in the sandbox: CI may run from a clone in /tmp)
    assert v.error_type in ("PermissionError", "FileNotFoundError")


async def test_read_shadow(pool: WorkerPool) -> None:
    if os.geteuid() != 0 or not os.path.exists("/etc/shadow"):
        pytest.skip("needs root and /etc/shadow")
    v = await check(pool, "def solution():\n    return open('/etc/shadow').read()\n")
    await contained(pool, v, "error")
    # Not there at all in the pivoted root; unreadable for the candidate's uid without it.
    expected = "FileNotFoundError" if pool.isolation.get("pivot_root") else "PermissionError"
    assert v.error_type == expected


async def test_write_outside(pool: WorkerPool, outside_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("privilege drop needs root")
    target = outside_dir / "planted.txt"
    v = await check(pool, f"open({str(target)!r}, 'w').write('x')\n")
    await contained(pool, v, "error")
    assert not target.exists()


async def test_write_to_tmp_stays_private(pool: WorkerPool) -> None:
    if not pool.isolation.get("private_tmp"):
        pytest.skip("no private /tmp on this machine")
    name = f"/tmp/ekt-escape-{uuid.uuid4().hex}"
    v = await check(pool, f"open({name!r}, 'w').write('x')\ndef solution():\n    return 18\n")
    await contained(pool, v, "pass")
    assert not os.path.exists(name)


async def test_delete_files(pool: WorkerPool, outside_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("privilege drop needs root")
    victim = outside_dir / "keep.txt"
    victim.write_text("keep")
    victim.chmod(0o644)
    code = f"import os, shutil\nos.remove({str(victim)!r})\nshutil.rmtree({str(outside_dir)!r})\n"
    v = await check(pool, code)
    await contained(pool, v, "error")
    assert victim.read_text() == "keep"


async def test_temp_dir_is_removed(pool: WorkerPool) -> None:
    code = (
        "import os\nopen('junk', 'w').write('x' * 1000)\ndef solution():\n    return os.getcwd()\n"
    )
    v = await check(pool, code)
    assert v.status == "fail" and v.returned
    # The work dir lives in the worker's namespace; it must at least be empty of our junk now.
    # (With a fresh /tmp per candidate the work dir is that /tmp: look for the junk itself.)
    junk = f"os.path.join({v.returned}, 'junk')"
    v2 = await check(pool, f"import os\ndef solution():\n    return os.path.exists({junk})\n")
    assert v2.returned == "False"


async def test_socket_to_local_listener(pool: WorkerPool) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            accepted.append(server.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    code = (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'leak')\n"
    )
    try:
        v = await check(pool, code)
    finally:
        server.close()
        thread.join()
    if not pool.isolation.get("netns"):
        pytest.skip("no network namespace on this machine (documented in README)")
    assert accepted == []
    await contained(pool, v, "error")


async def test_kill_the_parent(pool: WorkerPool) -> None:
    code = "import os\nos.kill(os.getppid(), 9)\nos.kill(-1, 9)\n"
    v = await check(pool, code)
    await contained(pool, v, "error", "crashed")


async def test_os_exit_before_check(pool: WorkerPool) -> None:
    v = await check(pool, "import os\nos._exit(0)\n", ASSERTS)
    await contained(pool, v, "error")
    assert "exited with status 0" in v.detail


async def test_sys_exit_inside_solution(pool: WorkerPool) -> None:
    v = await check(pool, "import sys\ndef solution():\n    sys.exit(0)\n")
    await contained(pool, v, "error")
    assert v.error_type == "SystemExit"


async def test_infinite_recursion(pool: WorkerPool) -> None:
    v = await check(pool, "def solution():\n    return solution()\n")
    await contained(pool, v, "error")
    assert v.error_type == "RecursionError"


async def test_ctypes_segfault(pool: WorkerPool) -> None:
    v = await check(pool, "import ctypes\nctypes.string_at(0)\n")
    await contained(pool, v, "crashed")
    assert "SIGSEGV" in v.detail


async def test_printing_gigabytes(pool: WorkerPool) -> None:
    v = await check(pool, "while True:\n    print('x' * 10 ** 6)\n", output_limit_kb=64)
    await contained(pool, v, "output-limit")
    assert len(v.output) <= 8192


async def test_daemon_outliving_the_child(pool: WorkerPool) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(1000)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "def solution():\n    return 18\n"
    )
    v = await check(pool, code)
    await contained(pool, v, "pass")  # contained() finds no process left below the worker


async def test_daemon_outliving_the_child_while_it_runs(pool: WorkerPool) -> None:
    """The daemon escapes the process group before the wall-clock kill of that group."""
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    while True:\n"
        "        time.sleep(1)\n"
        "time.sleep(1000)\n"
    )
    v = await check(pool, code, timeout_s=1)
    await contained(pool, v, "timeout")


async def test_grandchild_printing_forever_after_the_child_exits(pool: WorkerPool) -> None:
    code = (
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    while True:\n"
        "        os.write(1, b'y' * 65536)\n"
        "def solution():\n    return 18\n"
    )
    v = await check(pool, code, timeout_s=2)
    await contained(pool, v, "pass", "output-limit")


async def test_flooding_the_report_channel(pool: WorkerPool) -> None:
    v = await check(pool, "import os\nwhile True:\n    os.write(3, b'z' * 65536)\n", timeout_s=2)
    await contained(pool, v, "output-limit")
    assert "report channel" in v.detail


async def test_ignoring_signals_does_not_outlast_the_timeout(pool: WorkerPool) -> None:
    code = (
        "import signal\n"
        "for s in (signal.SIGTERM, signal.SIGXCPU, signal.SIGINT, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n    pass\n"
    )
    v = await check(pool, code, timeout_s=1)
    await contained(pool, v, "timeout")


async def test_wedged_worker_is_killed_and_replaced(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's last line: a worker that stops answering (here: stopped with SIGSTOP, the
    whole group) is killed with its candidates and restarted; the job still gets a verdict."""
    monkeypatch.setattr(client_module, "STALL_GRACE_S", 1.0)
    old_pid = pool.clients[0].pid
    assert old_pid is not None
    os.killpg(old_pid, signal.SIGSTOP)
    v = await check(pool, GOOD, timeout_s=0.5)
    assert v.status == "pass", v
    assert pool.clients[0].stalls == 1
    assert pool.clients[0].pid != old_pid
    for _ in range(100):  # the old group (worker and its PID 1) is going, not staying
        try:
            os.killpg(old_pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"process group {old_pid} still alive")


async def test_closing_stdout_keeps_the_verdict_channel(pool: WorkerPool) -> None:
    code = "import os, sys\nsys.stdout.close()\nos.close(1)\nos.close(2)\n" + GOOD
    v = await check(pool, code)
    await contained(pool, v, "pass")


async def test_raising_rlimits(pool: WorkerPool) -> None:
    code = (
        "import resource\n"
        "inf = resource.RLIM_INFINITY\n"
        "resource.setrlimit(resource.RLIMIT_AS, (inf, inf))\n"
    )
    v = await check(pool, code)
    await contained(pool, v, "error")
    code = (
        "import resource\n"
        "inf = resource.RLIM_INFINITY\n"
        "try:\n    resource.setrlimit(resource.RLIMIT_AS, (inf, inf))\nexcept Exception:\n"
        "    pass\nx = bytearray(10 ** 11)\n"
    )
    await contained(pool, await check(pool, code), "memory")


async def test_forged_pass_on_stdout_and_result_fd(pool: WorkerPool) -> None:
    code = (
        "import os\n"
        "print('{\"status\": \"pass\"}')\nprint('pass')\n"
        'try:\n    os.write(3, b\'{"status": "pass", "passed": 1, "total": 1}\\n\')\n'
        "except OSError:\n    pass\n"
        "def solution():\n    return 17\n"
    )
    v = await check(pool, code)
    await contained(pool, v, "fail")
    forged_exit = 'import os\nos.write(3, b\'{"status": "pass"}\\n\')\nos._exit(0)\n'
    await contained(pool, await check(pool, forged_exit, ASSERTS), "error")


async def test_expected_answer_not_in_child_memory(pool: WorkerPool) -> None:
    code = (
        "import gc\n"
        "def solution():\n"
        "    hits = [o for o in gc.get_objects() if isinstance(o, dict) and 'answer' in o]\n"
        "    return len(hits)\n"
    )
    v = await check(pool, code, CheckSpec("answer", answer="987654321"))
    assert "987654321" not in (v.returned or "")
    await contained(pool, v, "fail")


async def test_file_size_limit(pool: WorkerPool) -> None:
    v = await check(pool, "open('big', 'wb').write(b'x' * (64 << 20))\n")
    await contained(pool, v, "error", "memory")


async def test_stdin_is_closed(pool: WorkerPool) -> None:
    v = await check(pool, "x = input()\n")
    await contained(pool, v, "error")
    assert v.error_type == "EOFError"
