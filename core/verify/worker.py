"""The lean worker parent: reads jobs as JSON lines, forks one confined child per candidate.

Run as a script, `python -I -S core/verify/worker.py --slots N`, never as `-m core.verify…`:
importing the `core` package would load pydantic/aiosqlite into the process every candidate is
forked from (a fork costs more the bigger the parent) and into the memory a candidate can read.
`-I -S` also keeps site-packages and PYTHON* variables out. The engine never sends the expected
answer of an answer-checked problem here, so no child can find it in inherited memory.

Protocol: first line out is {"hello": {...isolation...}}; then one line per job in,
{"id", "kind", "code", ...limits}, and one line per result out, {"id", "status", ...}.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

if not __package__:  # script mode: import the two stdlib-only siblings without `core`
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, _HERE)
    import checks  # type: ignore[import-not-found,no-redef]
    import sandbox  # type: ignore[import-not-found,no-redef]

    sys.path.remove(_HERE)
else:
    from core.verify import checks, sandbox

KEEP_OUTPUT = 8192
MAX_REPORT = 1 << 18
HEAVY = ("torch", "transformers", "textual", "openai", "pydantic", "aiosqlite", "core")


@dataclass
class Running:
    job: dict[str, Any]
    slot: int
    pid: int
    nonce: str
    out_r: int
    res_r: int
    workdir: str
    uid: int | None
    started: float
    deadline: float
    out_limit: int
    out: bytearray = field(default_factory=bytearray)
    res: bytearray = field(default_factory=bytearray)
    killed: str | None = None
    status: int | None = None
    init: bool = False  # pid is the candidate's PID-1 init: exit 128+N means signal N


class Worker:
    def __init__(self, slots: int, iso: sandbox.Isolation, proto_in: int, proto_out: int) -> None:
        self.slots = slots
        self.iso = iso
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.queue: list[dict[str, Any]] = []
        self.running: dict[int, Running] = {}  # by pid
        self.free = list(range(slots))
        self.inbuf = b""
        self.eof = False
        self.sel = selectors.PollSelector()  # poll also accepts a regular file on stdin
        self.base = tempfile.mkdtemp(prefix="ekt-verify-")
        os.chmod(self.base, 0o711)
        self.seq = 0
        self.pidns = sandbox.PidNamespaces() if iso.root or iso.userns else None
        iso.pidns_per_candidate = bool(self.pidns and self.pidns.ok)
        if iso.pidns_per_candidate:
            iso.ipc_per_candidate = _probe(lambda: sandbox.unshare_candidate_ns())
            iso.tmp_per_candidate = _probe(lambda: sandbox.unshare_candidate_ns(tmp=True))
        self.seccomp = sandbox.Seccomp()
        iso.seccomp = self.seccomp.available and _probe(lambda: self.seccomp.install())
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        os.set_blocking(proto_in, False)
        self.sel.register(proto_in, selectors.EVENT_READ, "jobs")
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")

    # -- engine side ---------------------------------------------------------------------------
    def send(self, obj: dict[str, Any]) -> None:
        data = (json.dumps(obj, default=str) + "\n").encode()
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.proto_out, view) :]
            except BlockingIOError:
                time.sleep(0.001)

    def read_jobs(self) -> None:
        try:
            chunk = os.read(self.proto_in, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            self.eof = True
            self.sel.unregister(self.proto_in)
            return
        self.inbuf += chunk
        *lines, self.inbuf = self.inbuf.split(b"\n")
        self.queue.extend(json.loads(line) for line in lines if line.strip())

    # -- children --------------------------------------------------------------------------------
    def start(self, job: dict[str, Any]) -> None:
        slot = self.free.pop()
        uid = sandbox.child_uid(self.iso, slot)
        self.seq += 1
        fresh_ns = self.iso.pidns_per_candidate and bool(self.pidns and self.pidns.next())
        if fresh_ns:
            workdir = "/tmp"  # the candidate's own tmpfs, gone with its namespace
        else:
            workdir = os.path.join(self.base, str(self.seq))
            os.mkdir(workdir, 0o700)
            if uid is not None:
                os.chown(workdir, uid, uid)
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        nonce = os.urandom(12).hex()
        timeout = float(job.get("timeout_s", 5.0))
        limits = sandbox.Limits(
            timeout_s=timeout,
            memory_mb=int(job.get("memory_mb", 1024)),
            processes=int(job.get("max_processes", 32)),
        )
        cgroup = sandbox.current_cgroup()
        if cgroup is not None:
            cgroup.set_limits(limits.memory_mb, self.slots, limits.processes)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            # Nothing of the other jobs stays reachable from the child's frames.
            self.queue.clear()
            self.inbuf = b""
            self.running.clear()
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                if fresh_ns:
                    sandbox.die_with_parent()
                    sandbox.candidate_init(limits.tmp_mb, limits.tmp_inodes)
                seccomp = self.seccomp if self.iso.seccomp else None
                sandbox.confine_child(limits, uid, workdir, out_w, res_w, seccomp)
            except BaseException as exc:
                msg = nonce + json.dumps({"status": "sandbox-error", "error_message": repr(exc)})
                with contextlib.suppress(OSError):
                    os.write(res_w, (msg + "\n").encode())
                os._exit(70)
            checks.run_job(job, nonce)
            os._exit(0)
        if fresh_ns and self.pidns is not None:
            self.pidns.restore()
        os.close(out_w)
        os.close(res_w)
        now = time.monotonic()
        run = Running(
            job, slot, pid, nonce, out_r, res_r, workdir, uid, now, now + timeout,
            int(job.get("output_limit", 65536)), init=fresh_ns,
        )  # fmt: skip
        for fd, what in ((out_r, "out"), (res_r, "res")):
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ, (what, run))
        self.running[pid] = run

    def read_child(self, what: str, run: Running, fd: int, max_chunks: int = 16) -> None:
        """Read what is there, a bounded number of chunks (a child writing as fast as we read
        must not keep the loop from its deadlines), keeping at most the caps."""
        limit = MAX_REPORT if what == "res" else run.out_limit
        buf = run.res if what == "res" else run.out
        for _ in range(max_chunks):
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                with contextlib.suppress(KeyError, ValueError):
                    self.sel.unregister(fd)
                return
            if len(buf) <= limit:
                buf += chunk[: limit + 1 - len(buf)]
            if len(buf) > limit and run.killed is None:
                self.kill(run, "output-limit" if what == "out" else "report-limit")

    def kill(self, run: Running, reason: str) -> None:
        run.killed = run.killed or reason
        for target in (lambda: os.killpg(run.pid, 9), lambda: os.kill(run.pid, 9)):
            with contextlib.suppress(OSError):
                target()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.running:
                self.running[pid].status = status

    def sweep(self, run: Running) -> None:
        """Nothing the candidate started may outlive its check: its group, then any orphan
        (re-parented to us, the subreaper), then everything of its uid."""
        with contextlib.suppress(OSError):
            os.killpg(run.pid, 9)
        for _ in range(1000):
            active = {r.pid for r in self.running.values() if r.status is None}
            orphans = [p for p in sandbox.children_of_self() if p not in active]
            if not orphans:
                break
            if run.uid is not None and self.iso.uid_mode == "per-candidate" and not run.init:
                sandbox.kill_uid(run.uid)
            for pid in orphans:
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)

    def finish(self, run: Running) -> None:
        del self.running[run.pid]
        self.sweep(run)  # first: once nothing of the candidate lives, the pipes run dry
        for fd, what in ((run.out_r, "out"), (run.res_r, "res")):
            if fd in self.sel.get_map():
                self.read_child(what, run, fd, max_chunks=64)
                with contextlib.suppress(KeyError, ValueError):
                    self.sel.unregister(fd)
            os.close(fd)
        self.free.append(run.slot)
        if not run.init:
            shutil.rmtree(run.workdir, ignore_errors=True)
        result = classify(run, time.monotonic() - run.started)
        result["id"] = run.job.get("id")
        self.send(result)

    # -- loop ------------------------------------------------------------------------------------
    def loop(self) -> None:
        while True:
            while self.queue and self.free:
                self.start(self.queue.pop(0))
            if self.eof and not self.running and not self.queue:
                return
            now = time.monotonic()
            deadlines = [r.deadline for r in self.running.values() if r.killed is None]
            timeout = max(0.0, min(deadlines) - now) if deadlines else None
            for key, _ in self.sel.select(timeout):
                if key.data == "jobs":
                    self.read_jobs()
                elif key.data == "wake":
                    with contextlib.suppress(OSError):
                        os.read(self.wake_r, 4096)
                else:
                    what, run = key.data
                    self.read_child(what, run, key.fd)
            self.reap()
            now = time.monotonic()
            for run in list(self.running.values()):
                if run.status is not None:
                    self.finish(run)
                elif run.killed is None and now >= run.deadline:
                    self.kill(run, "timeout")

    def shutdown(self) -> None:
        for run in list(self.running.values()):
            self.kill(run, "shutdown")
        for run in list(self.running.values()):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(run.pid, 0)
            run.status = 0
            self.sweep(run)
        shutil.rmtree(self.base, ignore_errors=True)


def _probe(action: Any) -> bool:
    """Does `action` succeed in a throwaway child (seccomp cannot be undone in this process)?"""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if action() else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _report(run: Running) -> dict[str, Any] | None:
    prefix = run.nonce.encode()
    for line in bytes(run.res).split(b"\n"):
        if line.startswith(prefix):
            try:
                report = json.loads(line[len(prefix) :])
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None


def classify(run: Running, duration: float) -> dict[str, Any]:
    """The child's word (if it reported, nonce-tagged) weighed against what the parent saw."""
    output = bytes(run.out[:KEEP_OUTPUT]).decode("utf-8", "replace")
    result: dict[str, Any] = {"duration_s": round(duration, 6), "output": output}
    timeout = float(run.job.get("timeout_s", 5.0))
    report = _report(run)
    status = run.status or 0
    if run.init and os.WIFEXITED(status) and os.WEXITSTATUS(status) > 128:
        status = os.WEXITSTATUS(status) - 128  # the init relays the candidate's signal
    if run.killed == "output-limit":
        result["status"] = "output-limit"
        result["error_message"] = f"printed more than {run.out_limit // 1024} KB"
    elif run.killed == "report-limit":
        result["status"] = "output-limit"
        result["error_message"] = f"wrote more than {MAX_REPORT // 1024} KB to the report channel"
    elif report is not None:
        result["status"] = "reported"  # the child's word, validated by the engine
        result["report"] = report
    elif run.killed == "timeout":
        result["status"] = "timeout"
        result["error_message"] = f"still running after {timeout:g} s (wall clock)"
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            result["status"] = "timeout"
            result["error_message"] = f"CPU time limit ({int(timeout) + 1} s) exceeded"
        else:
            result["status"] = "crashed"
            result["error_type"] = _signal_name(sig)
            result["error_message"] = f"killed by {_signal_name(sig)}"
    else:
        code = os.waitstatus_to_exitcode(status)
        result["status"] = "error"
        result["error_type"] = "SystemExit"
        result["error_message"] = f"process exited with status {code} before the check finished"
    return result


def main() -> None:
    slots = int(sys.argv[sys.argv.index("--slots") + 1]) if "--slots" in sys.argv else 2
    proto_in, proto_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    iso = sandbox.setup_worker(allow_root_drop="--no-drop" not in sys.argv)
    worker = Worker(slots, iso, proto_in, proto_out)
    checks.prepare()
    heavy = sorted(m for m in HEAVY if m in sys.modules)
    worker.send({"hello": {**iso.__dict__, "heavy_modules": heavy}})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    gc.freeze()  # children share the parent's pages untouched by the collector
    try:
        worker.loop()
    finally:
        worker.shutdown()


if __name__ == "__main__":
    main()
