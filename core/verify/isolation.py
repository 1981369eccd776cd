"""What the sandbox enforces on this machine, as probed by a real worker (`ekt verify
--isolation`; `ekt status --json` may include `await probe_isolation()`)."""

from __future__ import annotations

from typing import Any

from core.verify.client import WorkerPool

MECHANISMS = [
    ("netns", "no network (own network namespace)"),
    ("pivot_root", "minimal root: interpreter + stdlib read-only, no host folders"),
    ("pidns_per_candidate", "own PID namespace per candidate (all its processes die with it)"),
    ("ipc_per_candidate", "own IPC namespace per candidate (SysV / POSIX queues go with it)"),
    ("tmp_per_candidate", "fresh size- and inode-capped /tmp, /dev/shm per candidate"),
    ("seccomp", "seccomp: no user namespaces, setns or kernel keyring"),
    ("cgroup", "memory + pids cgroup per worker (memfd, shm and tmpfs pages count)"),
    ("die_with_parent", "worker and candidates die with the engine (parent-death signal)"),
    ("no_new_privs", "no setuid gains (no_new_privs)"),
]


async def probe_isolation() -> dict[str, Any]:
    """Start one worker and return its isolation report (what is really in force)."""
    async with WorkerPool(1) as pool:
        return dict(pool.isolation)


def describe(iso: dict[str, Any]) -> list[str]:
    """One line per mechanism: `on`/`off` and what it means; the uid mode last."""
    lines = []
    for key, text in MECHANISMS:
        value = iso.get(key)
        on = bool(value) and value != "none"
        extra = f" ({value})" if isinstance(value, str) and on else ""
        lines.append(f"{'on ' if on else 'off'}  {text}{extra}")
    uid = iso.get("uid_mode", "none")
    lines.append(f"{'on ' if uid != 'none' else 'off'}  candidates run as {uid} uid"
                 if uid != "none" else "off  candidates run as the user's own uid")  # fmt: skip
    lines.append("on   RLIMIT_AS / CPU / NPROC / FSIZE / NOFILE per candidate")
    return lines
