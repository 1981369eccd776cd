"""Isolation primitives for the lean worker parent and the per-candidate child. Stdlib only.

This module is imported by `worker.py` running as a script (`python -I -S worker.py`), so it must
never import `core` (that would pull pydantic/aiosqlite into the process every candidate is
forked from). The worker sets up what is shared once (a network namespace, child subreaper); the
child confines itself right after fork, before any candidate byte is compiled.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import sys
from dataclasses import dataclass

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 0x4000, 1 << 18
RESULT_FD = 3
UID_BASE = 1 << 30
"""Per-candidate uids are UID_BASE + (worker's original pid mod 2**22) * 256 + slot: unique
among live workers (pids are unique), unused by any real account, so `kill(-1)` as that uid and
RLIMIT_NPROC are exact for one candidate."""

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class Isolation:
    """What the worker parent managed to set up on this machine (reported to the engine)."""

    root: bool = False
    netns: bool = False
    userns: bool = False
    subreaper: bool = False
    pidns: bool = False
    private_tmp: bool = False
    private_proc: bool = False
    uid_base: int = 0
    stdlib_exposed: bool = False
    uid_mode: str = "none"  # per-candidate | nobody | none
    no_new_privs: bool = False


def _libc_call(name: str, *args: object) -> bool:
    """A libc call that may not exist here (prctl, unshare and mount are Linux-only: on macOS
    the mechanism is simply reported as unavailable)."""
    fn = getattr(_libc, name, None)
    return fn is not None and fn(*args) == 0


def _prctl(option: int, arg: int) -> bool:
    return _libc_call("prctl", option, arg, 0, 0, 0)


def _unshare(flags: int) -> bool:
    return _libc_call("unshare", flags)


def _write_file(path: str, text: str) -> bool:
    try:
        with open(path, "w") as fh:
            fh.write(text)
        return True
    except OSError:
        return False


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> bool:
    return _libc_call(
        "mount", source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
        data.encode() if data else None,
    )  # fmt: skip


def setup_worker(allow_root_drop: bool = True) -> Isolation:
    """Once, before the worker loop. Where the kernel allows it (root, or an unprivileged user
    namespace), the worker moves into new network, mount and PID namespaces: no network, private
    small tmpfs on /tmp, /var/tmp and /dev/shm (nothing written there reaches the host), a /proc
    that shows only the worker and its candidates, and, since the worker becomes PID 1 there,
    every candidate process dies with it. Returns in the forked PID-1 process."""
    iso = Isolation(root=os.geteuid() == 0)
    iso.uid_base = UID_BASE + (os.getpid() % (1 << 22)) * 256
    flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID
    if iso.root:
        ok = _unshare(flags)
    else:
        uid, gid = os.getuid(), os.getgid()
        ok = iso.userns = _unshare(CLONE_NEWUSER | flags)
        if ok:
            _write_file("/proc/self/setgroups", "deny")
            _write_file("/proc/self/uid_map", f"{uid} {uid} 1")
            _write_file("/proc/self/gid_map", f"{gid} {gid} 1")
    if not ok:  # try the network alone (cheap and the most valuable)
        iso.netns = _unshare(CLONE_NEWNET) if iso.root else False
    else:
        iso.netns = True
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        tmp_ok = [
            _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
            for d, size in (("/tmp", "256m"), ("/var/tmp", "16m"), ("/dev/shm", "64m"))
            if os.path.isdir(d)
        ]
        iso.private_tmp = bool(tmp_ok) and all(tmp_ok)
        _become_pid1(iso)
    iso.subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if iso.root and allow_root_drop:
        iso.uid_mode = "per-candidate" if _probe_uid(iso.uid_base) else "nobody"
        if iso.private_tmp:
            iso.stdlib_exposed = _expose_stdlib()
    # Inherited by every child, so set once here rather than per candidate (each child pays
    # for what it touches after fork): setuid binaries (sudo, su, ping) gain nothing, and no
    # variable of the worker's (already minimal) environment reaches a candidate.
    iso.no_new_privs = _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.environ.clear()
    return iso


def _world_traversable(path: str) -> bool:
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _expose_stdlib() -> bool:
    """The standard library may live where the unprivileged uid cannot go (pyenv under a 0700
    /root): bind-mount those sys.path folders read-only under our private /tmp and point
    sys.path there, so candidates can still `import heapq`."""
    ok = True
    for i, entry in enumerate(list(sys.path)):
        if not os.path.isdir(entry) or _world_traversable(entry):
            continue
        target = f"/tmp/.ekt-stdlib-{i}"
        os.makedirs(target, mode=0o755, exist_ok=True)
        if _mount(entry, target, None, MS_BIND | MS_REC) and _mount(
            "none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        ):
            sys.path[i] = target
            _repoint_packages(entry, target)
        else:
            ok = False
    sys.path_importer_cache.clear()
    return ok


def _repoint_packages(old: str, new: str) -> None:
    """Already-imported packages (encodings, json, …) find submodules via their __path__."""
    for module in list(sys.modules.values()):
        paths = getattr(module, "__path__", None)
        if isinstance(paths, list):
            paths[:] = [new + p[len(old) :] if p.startswith(old + os.sep) else p for p in paths]


def _become_pid1(iso: Isolation) -> None:
    """Fork into the new PID namespace; the original process waits and passes the exit on."""
    pid = os.fork()
    if pid:
        os.closerange(0, 1 << 16)  # the PID-1 child owns the protocol pipes now
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    iso.pidns = True
    iso.private_proc = _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _probe_uid(uid: int) -> bool:
    """Can a forked child actually become `uid` (fails in some containers' user namespaces)?"""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def child_uid(iso: Isolation, slot: int) -> int | None:
    if iso.uid_mode == "per-candidate":
        return iso.uid_base + slot
    if iso.uid_mode == "nobody":
        return 65534
    return None


@dataclass
class Limits:
    timeout_s: float
    memory_mb: int
    file_mb: int = 16
    open_files: int = 64
    processes: int = 32


def _set(limit: int, value: int) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(limit, (value, value))


def confine_child(
    limits: Limits, uid: int | None, workdir: str, out_fd: int, result_fd: int
) -> None:
    """In the forked child, before compiling the candidate. Order matters: limits and fds while
    still privileged, then drop the uid (after which no hard limit can be raised again)."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(result_fd, RESULT_FD)
    os.closerange(RESULT_FD + 1, 1 << 16)
    cpu = int(limits.timeout_s) + 1
    _set(resource.RLIMIT_CPU, cpu)
    _set(resource.RLIMIT_AS, limits.memory_mb << 20)
    _set(resource.RLIMIT_FSIZE, limits.file_mb << 20)
    _set(resource.RLIMIT_NOFILE, limits.open_files)
    _set(resource.RLIMIT_CORE, 0)
    if uid is not None:
        # RLIMIT_NPROC counts processes of the real uid: exact for a per-candidate uid.
        _set(resource.RLIMIT_NPROC, limits.processes)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    else:
        # Same uid as the user: cap relative to what the user already runs.
        _set(resource.RLIMIT_NPROC, _user_process_count() + limits.processes)
    os.chdir(workdir)
    if os.environ:  # empty since setup_worker; cheap check, kept as a guard
        os.environ.clear()
    os.umask(0o077)


def _user_process_count() -> int:
    uid = os.getuid()
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc (macOS): ask ps, once per candidate
        import subprocess

        try:
            out = subprocess.run(
                ["/bin/ps", "-U", str(uid), "-o", "pid="],
                capture_output=True,
                timeout=5,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return 1024
        return len(out.split())
    n = 0
    for name in names:
        if name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{name}").st_uid == uid:
                    n += 1
    return n


def children_of_self() -> list[int]:
    """Direct children of this process (orphans are re-parented here: we are a subreaper)."""
    pids: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as fh:
                pids.extend(int(p) for p in fh.read().split())
    return pids


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` (root worker only): `kill(-1)` from a process of that uid
    reaches all of them, including daemons that left the process group with setsid."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            with contextlib.suppress(OSError):
                os.kill(-1, 9)
        finally:
            os._exit(0)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
