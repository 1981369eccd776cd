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
    pidns_per_candidate: bool = False
    ipc_per_candidate: bool = False
    tmp_per_candidate: bool = False
    seccomp: bool = False  # no user namespaces, no keyring (classic-BPF filter via prctl)
    pivot_root: bool = False
    cgroup: str = "none"  # v2 | v1 | none: memory (+pids) capped per worker
    die_with_parent: bool = False


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
    cgroup = Cgroup(f"ekt-verify-{os.getpid()}") if iso.root else None
    _CURRENT["cgroup"] = cgroup
    iso.die_with_parent = die_with_parent()
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
        _become_pid1(iso, cgroup)
        iso.pivot_root = iso.private_proc and _pivot_root()
    iso.subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if iso.root and allow_root_drop:
        iso.uid_mode = "per-candidate" if _probe_uid(iso.uid_base) else "nobody"
        if iso.private_tmp and not iso.pivot_root:
            iso.stdlib_exposed = _expose_stdlib()
    # Inherited by every child, so set once here rather than per candidate (each child pays
    # for what it touches after fork): setuid binaries (sudo, su, ping) gain nothing, and no
    # variable of the worker's (already minimal) environment reaches a candidate.
    iso.no_new_privs = _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.environ.clear()
    return iso


PRELOAD = ("_ctypes", "_decimal", "_hashlib", "_bz2", "_lzma", "zlib", "_uuid", "_sqlite3")
"""Extension modules linked to libraries outside the stdlib (libffi, libcrypto, …): imported
before the pivot, so a candidate's `import ctypes` finds them loaded and no library folder of
the host needs to be visible."""
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
_PIVOT_ROOT_NR = {"x86_64": 155, "aarch64": 41}


def _mapped_files() -> list[str]:
    paths: set[str] = set()
    with contextlib.suppress(OSError), open("/proc/self/maps") as fh:
        for line in fh:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                path = parts[5].strip()
                if os.path.isfile(path):
                    paths.add(path)
    return sorted(paths)


def _bind_ro(src: str, dst: str) -> bool:
    if os.path.isdir(src):
        os.makedirs(dst, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
        if not os.path.exists(dst):
            with open(dst, "w"):
                pass
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
    if not src.startswith("/dev/"):
        flags |= MS_NODEV
    return _mount(src, dst, None, MS_BIND | MS_REC) and _mount("none", dst, None, flags)


_EXE = os.path.realpath(sys.executable)
"""The interpreter's real file, resolved before the private /tmp is mounted: a virtualenv's
`python` link may live under /tmp (a clone there), and the tmpfs would hide it."""


def _pivot_root() -> bool:
    """The worker moves into a minimal root: a tmpfs holding read-only binds of the interpreter,
    the stdlib folders on sys.path (site-packages hidden under an empty read-only tmpfs), the
    shared libraries already mapped, a few devices, its own /proc and a private /tmp. Nothing
    else of the host (no /home, /root, /run, /srv, /opt, datasets, projects) exists in it."""
    import importlib
    import platform

    nr = _PIVOT_ROOT_NR.get(platform.machine())
    if nr is None or not hasattr(_libc, "syscall"):
        return False
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    new = "/tmp/.ekt-root"
    os.makedirs(new, mode=0o755, exist_ok=True)
    if not _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0755"):
        return False
    try:
        ok = _bind_ro(_EXE, new + _EXE)
        for entry in sys.path:
            if os.path.isdir(entry):
                ok = ok and _bind_ro(os.path.realpath(entry), new + entry)
                site = os.path.join(new + entry, "site-packages")
                if os.path.isdir(site):
                    ok = ok and _mount(
                        "tmpfs",
                        site,
                        "tmpfs",
                        MS_RDONLY | MS_NOSUID | MS_NODEV,
                        "size=4k,mode=0555",
                    )
        for path in _mapped_files():
            if not os.path.exists(new + path):
                ok = ok and _bind_ro(path, new + path)
        for dev in DEVICES:
            if os.path.exists(dev):
                ok = ok and _bind_ro(dev, new + dev)
        for d in ("/tmp", "/proc", "/dev/shm", "/var/tmp"):
            os.makedirs(new + d, mode=0o755, exist_ok=True)
        ok = ok and _mount(
            "tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777"
        )
        ok = ok and _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        os.makedirs(new + "/.old", mode=0o700, exist_ok=True)
        if not ok or _libc.syscall(nr, new.encode(), (new + "/.old").encode()) != 0:
            return False
    except OSError:
        return False
    os.chdir("/")
    _libc.umount2(b"/.old", MNT_DETACH)
    with contextlib.suppress(OSError):
        os.rmdir("/.old")
    _mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    sys.path_importer_cache.clear()
    return True


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


def _become_pid1(iso: Isolation, cgroup: Cgroup | None) -> None:
    """Fork into the new PID namespace; the original process waits and passes the exit on.
    If the engine dies, the original gets SIGTERM (parent-death signal) and takes the worker
    with it; either way it removes the worker's cgroup last."""
    import signal

    pid = os.fork()
    if pid:
        keep = sorted({fd for fd, _ in cgroup.dirs} if cgroup else set())
        for lo, hi in zip([0, *(k + 1 for k in keep)], [*keep, 1 << 16], strict=True):
            os.closerange(lo, hi)  # the PID-1 child owns the protocol pipes now
        signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, 9))
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the engine died before the signal was armed
            os.kill(pid, 9)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if cgroup is not None:
            cgroup.remove()
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    die_with_parent()
    if cgroup is not None and cgroup.join():
        iso.cgroup = cgroup.version
    iso.pidns = True
    iso.private_proc = _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


_CURRENT: dict[str, Cgroup | None] = {"cgroup": None}


def current_cgroup() -> Cgroup | None:
    return (
        _CURRENT["cgroup"] if _CURRENT["cgroup"] and _CURRENT["cgroup"].version != "none" else None
    )


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
    tmp_mb: int = 64
    tmp_inodes: int = 4096
    file_mb: int = 16
    open_files: int = 64
    processes: int = 32


def _set(limit: int, value: int) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(limit, (value, value))


def confine_child(
    limits: Limits,
    uid: int | None,
    workdir: str,
    out_fd: int,
    result_fd: int,
    seccomp: Seccomp | None = None,
) -> None:
    """In the forked child, before compiling the candidate. Order matters: limits and fds while
    still privileged, then drop the uid (after which no hard limit can be raised again), the
    seccomp filter last."""
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
    if seccomp is not None and not seccomp.install():
        raise OSError("seccomp filter could not be installed")


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


# -- per-candidate namespaces ------------------------------------------------------------------

CLONE_NEWIPC = 0x08000000
PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
MNT_DETACH = 2


class PidNamespaces:
    """A fresh PID namespace for each candidate, created from the worker: `setns` back to the
    worker's own namespace, then `unshare(CLONE_NEWPID)`, and the next fork is PID 1 of a new
    one. That PID 1 is our small init (`candidate_init`), the candidate its child: when the
    init exits or is killed, the kernel kills every process the candidate made, so no sweep
    helper (which a candidate could SIGSTOP) is needed."""

    def __init__(self) -> None:
        self.fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        self.ok = self.next() and self.restore()

    def next(self) -> bool:
        return _libc_call("setns", self.fd, CLONE_NEWPID) and _unshare(CLONE_NEWPID)

    def restore(self) -> bool:
        return _libc_call("setns", self.fd, CLONE_NEWPID)


def candidate_init(tmp_mb: int, tmp_inodes: int) -> tuple[bool, bool]:
    """In the forked PID 1 (still root): own mount and IPC namespaces, a fresh size- and
    inode-capped tmpfs on /tmp (also /dev/shm and /var/tmp), a /proc of this namespace. Then
    fork the candidate; this process only waits for it and exits with its status (128 + signal
    when it was killed), taking the namespace with it. Returns (fresh_tmp, ipc) in the child."""
    ipc = _unshare(CLONE_NEWNS | CLONE_NEWIPC)
    fresh = False
    if ipc:
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        opts = f"size={tmp_mb}m,nr_inodes={tmp_inodes},mode=1777"
        fresh = _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts)
        if fresh:
            for extra in ("/dev/shm", "/var/tmp"):
                if os.path.isdir(extra):
                    _mount("/tmp", extra, None, MS_BIND)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    candidate_oom_first()
    pid = os.fork()
    if pid == 0:
        return fresh, ipc
    os.closerange(0, 1 << 16)
    while True:
        try:
            got, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(70)
        if got == pid:
            break
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def unshare_candidate_ns(tmp: bool = False) -> bool:
    """The probe of what `candidate_init` does (run in a throwaway child)."""
    if not _unshare(CLONE_NEWNS | CLONE_NEWIPC):
        return False
    if not tmp:
        return True
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    return _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=16")


def die_with_parent() -> bool:
    """SIGKILL when the parent goes (the engine, the worker): nothing is left behind."""
    return _prctl(PR_SET_PDEATHSIG, 9)


# -- seccomp: no new user namespaces, no kernel keyring ------------------------------------------

_SYSCALLS = {
    # name: (x86_64, aarch64)
    "unshare": (272, 97),
    "clone": (56, 220),
    "clone3": (435, 435),
    "setns": (308, 268),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
}
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EPERM, _ENOSYS = 1, 38


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _bpf_program() -> list[tuple[int, int, int, int]] | None:
    """A classic-BPF seccomp filter: unshare/clone with CLONE_NEWUSER, setns, keyctl, add_key,
    request_key fail with EPERM; clone3 with ENOSYS (its flags live in memory a filter cannot
    read; libc then falls back to clone); x32 syscalls and foreign architectures fail too."""
    import platform

    machine = platform.machine()
    if machine not in _AUDIT_ARCH:
        return None
    col = 0 if machine == "x86_64" else 1
    nr = {name: numbers[col] for name, numbers in _SYSCALLS.items()}
    ld_w, jeq, jset, jge, ret = 0x20, 0x15, 0x45, 0x35, 0x06
    deny = _RET_ERRNO | _EPERM
    prog: list[tuple[int, int, int, int]] = [
        (ld_w, 0, 0, 4),  # arch
        (jeq, 1, 0, _AUDIT_ARCH[machine]),
        (ret, 0, 0, deny),
        (ld_w, 0, 0, 0),  # syscall number
    ]
    if machine == "x86_64":
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, deny)]  # x32 ABI
    # flags checks: unshare(flags), clone(flags, ...): args[0], low word at offset 16
    prog += [
        (jeq, 0, 1, nr["clone3"]),
        (ret, 0, 0, _RET_ERRNO | _ENOSYS),
        (jeq, 2, 0, nr["unshare"]),
        (jeq, 1, 0, nr["clone"]),
        (0x05, 0, 0, 3),  # ja +3: not a flags syscall
        (ld_w, 0, 0, 16),
        (jset, 0, 1, CLONE_NEWUSER),
        (ret, 0, 0, deny),
        (ld_w, 0, 0, 0),
    ]
    for name in ("setns", "keyctl", "add_key", "request_key"):
        prog += [(jeq, 0, 1, nr[name]), (ret, 0, 0, deny)]
    prog.append((ret, 0, 0, _RET_ALLOW))
    return prog


class Seccomp:
    """The filter, built once in the worker; `install()` in each candidate (a few µs)."""

    def __init__(self) -> None:
        prog = _bpf_program()
        self.available = prog is not None and hasattr(_libc, "prctl")
        self._filters = (_SockFilter * len(prog or []))(*(prog or []))
        self._fprog = _SockFprog(len(prog or []), self._filters)

    def install(self) -> bool:
        if not self.available:
            return False
        return (
            _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._fprog), 0, 0) == 0
        )


# -- cgroup: memory (memfd, shm and tmpfs pages count) and pids per worker ---------------------

CGROUP_ROOT = "/sys/fs/cgroup"
WORKER_OVERHEAD_MB = 128


class Cgroup:
    """A cgroup of its own for the worker and its candidates (root only): v2 where the unified
    hierarchy has the memory controller, else v1 memory + pids. Unlike RLIMIT_AS it counts
    every page a candidate makes the kernel hold (memfd, SysV/POSIX shm, its tmpfs files).
    The limit follows the jobs' memory_mb through a file descriptor kept open (the worker's
    root has no /sys). The worker is shielded from the OOM killer (oom_score_adj -1000); each
    candidate is its first choice (1000)."""

    def __init__(self, name: str) -> None:
        self.version = "none"
        self.dirs: list[tuple[int, str]] = []  # (parent dir fd, name) to remove at exit
        self.procs: list[int] = []
        self.limit_fd: int | None = None
        self.pids_fd: int | None = None
        self.limit_mb = 0
        with contextlib.suppress(OSError):
            self._setup(name)

    def _own(self, controller: str) -> str | None:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if controller in ctrls.split(","):
                    return path
        return None

    def _make(self, base: str, name: str) -> str:
        _remove_stale(base, name.rsplit("-", 1)[0] + "-")
        parent = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        os.mkdir(name, 0o755, dir_fd=parent)
        self.dirs.append((parent, name))
        return os.path.join(base, name)

    def _setup(self, name: str) -> None:
        v2_root = CGROUP_ROOT
        controllers = ""
        with contextlib.suppress(OSError), open(f"{v2_root}/cgroup.controllers") as fh:
            controllers = fh.read()
        if "memory" in controllers.split():
            path = None  # v2: the "0::/path" line
            with open("/proc/self/cgroup") as fh:
                for line in fh:
                    if line.startswith("0::"):
                        path = line[3:].strip()
            if path is not None:
                d = self._make(v2_root + path.rstrip("/"), name)
                self.limit_fd = os.open(f"{d}/memory.max", os.O_WRONLY | os.O_CLOEXEC)
                with contextlib.suppress(OSError):
                    self.pids_fd = os.open(f"{d}/pids.max", os.O_WRONLY | os.O_CLOEXEC)
                with contextlib.suppress(OSError):
                    os.close(os.open(f"{d}/memory.swap.max", os.O_WRONLY))
                self.procs.append(os.open(f"{d}/cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
                self.version = "v2"
                return
        mem = self._own("memory")
        if mem is None or not os.path.isdir(f"{CGROUP_ROOT}/memory"):
            return
        d = self._make(f"{CGROUP_ROOT}/memory" + mem.rstrip("/"), name)
        self.limit_fd = os.open(f"{d}/memory.limit_in_bytes", os.O_WRONLY | os.O_CLOEXEC)
        self.procs.append(os.open(f"{d}/cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
        with contextlib.suppress(OSError):
            # swap would let a candidate hold more than its limit: cap memory+swap too
            self.memsw = os.open(f"{d}/memory.memsw.limit_in_bytes", os.O_WRONLY | os.O_CLOEXEC)
        pids = self._own("pids")
        if pids is not None and os.path.isdir(f"{CGROUP_ROOT}/pids"):
            with contextlib.suppress(OSError):
                p = self._make(f"{CGROUP_ROOT}/pids" + pids.rstrip("/"), name)
                self.pids_fd = os.open(f"{p}/pids.max", os.O_WRONLY | os.O_CLOEXEC)
                self.procs.append(os.open(f"{p}/cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
        self.version = "v1"

    def join(self) -> bool:
        """Move the calling process (the worker) in, and shield it from the OOM killer."""
        if self.version == "none":
            return False
        try:
            for fd in self.procs:
                os.write(fd, b"0")
        except OSError:
            self.version = "none"
            return False
        _write_file("/proc/self/oom_score_adj", "-1000")
        return True

    def set_limits(self, memory_mb: int, slots: int, processes: int) -> None:
        want = (memory_mb + WORKER_OVERHEAD_MB) * max(1, slots)
        if self.limit_fd is None or want == self.limit_mb:
            return
        value = str(want << 20).encode()
        with contextlib.suppress(OSError):
            memsw = getattr(self, "memsw", None)
            if memsw is not None and want > self.limit_mb:  # memsw >= limit at all times
                os.pwrite(memsw, value, 0)
            os.pwrite(self.limit_fd, value, 0)
            if memsw is not None:
                os.pwrite(memsw, value, 0)
            self.limit_mb = want
        if self.pids_fd is not None:
            with contextlib.suppress(OSError):
                os.pwrite(self.pids_fd, str((processes + 8) * max(1, slots) + 16).encode(), 0)

    def remove(self) -> None:
        """From the process that stays outside (the worker's parent), once the worker is gone."""
        for parent, name in self.dirs:
            for _ in range(50):
                try:
                    os.rmdir(name, dir_fd=parent)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    import time

                    time.sleep(0.02)


def _remove_stale(base: str, prefix: str) -> None:
    """Cgroups of workers that were SIGKILLed before their parent could remove them: empty
    ones whose worker pid is gone (rmdir refuses a cgroup that still has processes)."""
    with contextlib.suppress(OSError):
        for entry in os.listdir(base):
            pid = entry[len(prefix) :]
            if entry.startswith(prefix) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(base, entry))


def candidate_oom_first() -> None:
    """In the candidate's init: the memory cgroup's OOM killer picks a candidate first."""
    _write_file("/proc/self/oom_score_adj", "1000")
