"""The harness that runs inside the confined child: run the program, evaluate, report.

Stdlib only (imported by the lean worker). The report is one line on a dedicated pipe (fd 3),
prefixed with a per-child random nonce; stdout/stderr are just captured text. Nothing here
decides a verdict: the child sends back what the program's expressions evaluated to (strictly
encoded, see `values`), and the engine, which alone knows the expected values, compares. A
program that tampers with this harness can only change what it reports as its own answer.
Tests that do not fit a known shape still run here as asserts; the verdict marks them untrusted.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import linecache
import os
import sys
import traceback
from typing import Any

if __package__:
    from core.verify.values import encode
else:  # script mode (the worker): a stdlib-only sibling
    from values import encode  # type: ignore[import-not-found,no-redef]

MAX_FIELD = 2000
CANDIDATE_FILE = "<candidate>"
TEST_FILE = "<tests>"
SETUP_FILE = "<setup>"

_write = os.write
_dumps = json.dumps
_stdio: list[Any] = []


def prepare() -> None:
    """In the worker, once: the child's stdio wrappers, built before fork so that each child
    only writes through them (fds 0 and 1 are re-pointed in the child; the objects just name
    the fd numbers)."""
    _stdio[:] = [
        open(1, "w", encoding="utf-8", errors="replace", closefd=False),  # noqa: SIM115
        open(0, encoding="utf-8", closefd=False),  # noqa: SIM115  (/dev/null in the child: EOF)
    ]
    _warm_up()


def _warm_up() -> None:
    """Run the harness once in the parent. The compiler initialises its state lazily on first
    use (~0.8 ms); done here, every forked child inherits it instead of paying it again."""
    source = "def solution():\n    xs = [i * 2 for i in range(3)]\n    return sum(xs) / 3\n"
    ns: dict[str, Any] = {"__name__": "__warmup__", "__builtins__": builtins}
    exec(_compile(source, CANDIDATE_FILE), ns)
    _dumps(_check_answer(ns, {"entry": "solution()"}))
    _dumps(_check_probes(ns, {"calls": ["solution()", "[(1, 2.5), {3}]", "nope"]}))
    try:
        ns["solution"](1)
    except TypeError as exc:
        _dumps(_error(exc), default=str)
    linecache.cache.pop(CANDIDATE_FILE, None)


def _cut(text: str, n: int = MAX_FIELD) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _compile(source: str, filename: str) -> Any:
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec", dont_inherit=True)


def _last_frame(tb: Any) -> str:
    """`line 3 in solution: x = 1/0` for the innermost frame inside candidate or test code."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if f.filename in (CANDIDATE_FILE, TEST_FILE, SETUP_FILE)]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return ""
    where = "tests " if frame.filename == TEST_FILE else ""
    text = f"{where}line {frame.lineno} in {frame.name}"
    return f"{text}: {frame.line.strip()}" if frame.line else text


def _error(exc: BaseException) -> dict[str, Any]:
    etype = type(exc).__name__
    if isinstance(exc, MemoryError):
        return {"status": "memory", "error_type": etype, "error_message": _cut(str(exc))}
    try:
        message = _cut(str(exc))
    except BaseException:
        message = "<unprintable>"
    if isinstance(exc, SystemExit):
        message = f"program called exit({message})"
    return {
        "status": "error",
        "error_type": etype,
        "error_message": message,
        "trace": _last_frame(exc.__traceback__),
    }


def _value(ns: dict[str, Any], expr: str) -> Any:
    """One expression evaluated in the candidate's namespace, sent back strictly encoded."""
    try:
        value = eval(compile(expr, TEST_FILE, "eval", dont_inherit=True), ns)
        return {"v": encode(value)}
    except MemoryError:
        raise
    except BaseException as exc:
        err = _error(exc)
        return {"!": [err["error_type"], err["error_message"], err.get("trace", "")]}


def _check_answer(ns: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    value = eval(compile(job["entry"], "<entry>", "eval", dont_inherit=True), ns)
    return {"status": "returned", "value": encode(value)}


def _check_probes(ns: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """Trusted tests: only the candidate side is evaluated here (the engine compares);
    untrusted ones run as asserts, as they would anywhere."""
    if job.get("setup"):
        exec(_compile(job["setup"], SETUP_FILE), ns)
    entry = job.get("entry_point")
    if entry:
        if entry not in ns:
            return {"status": "error", "error_type": "NameError", "error_message": f"no {entry}()"}
        ns["candidate"] = ns[entry]
    got = [_value(ns, expr) for expr in job.get("calls", [])]
    untrusted: list[Any] = []
    for test in job.get("untrusted", []):
        try:
            exec(_compile(test, TEST_FILE), ns)
            untrusted.append(True)
        except AssertionError:
            untrusted.append(False)
        except Exception as exc:
            err = _error(exc)
            untrusted.append([err["error_type"], err["error_message"], err.get("trace", "")])
    return {"status": "probed", "values": got, "untrusted": untrusted}


def _check_humaneval(ns: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    exec(_compile(job["test_code"], TEST_FILE), ns)
    entry = job["entry_point"]
    if entry not in ns:
        return {"status": "error", "error_type": "NameError", "error_message": f"no {entry}()"}
    try:
        ns["check"](ns[entry])
    except AssertionError as exc:
        return {"status": "fail", "failed_test": _last_frame(exc.__traceback__), "total": 1}
    return {"status": "pass", "passed": 1, "total": 1}


def _evaluate(ns: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """A clean child (no candidate code ran in it): the expected sides of trusted tests."""
    exec("import math", ns)
    ns.update(inf=float("inf"), nan=float("nan"))
    return {"status": "evaluated", "values": [_value(ns, e) for e in job.get("exprs", [])]}


CHECKS = {
    "answer": _check_answer,
    "probes": _check_probes,
    "check": _check_humaneval,
    "eval": _evaluate,
}


def run_job(job: dict[str, Any], nonce: str) -> None:
    """Child side: compile, run, check, write the nonce-tagged report to fd 3, never return."""
    if not _stdio:
        prepare()
    out, sys.stdin = _stdio
    sys.stdout = sys.stderr = out
    report: dict[str, Any]
    try:
        code = _compile(job["code"].removeprefix("\ufeff"), CANDIDATE_FILE)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        msg = getattr(exc, "msg", str(exc))
        report = {"status": "syntax", "error_type": type(exc).__name__, "error_message": msg}
        report["trace"] = f"line {line}" if line else ""
    else:
        ns: dict[str, Any] = {"__name__": "__candidate__", "__builtins__": builtins}
        try:
            exec(code, ns)
            check = CHECKS.get(job["kind"])
            report = check(ns, job) if check else {"status": "pass"}
        except BaseException as exc:
            report = _error(exc)
    with contextlib.suppress(BaseException):
        out.flush()
    try:
        line = nonce + _dumps(report) + "\n"
    except BaseException:
        line = nonce + '{"status": "error", "error_message": "unreportable result"}\n'
    data = line.encode("utf-8", "replace")
    try:
        while data:
            data = data[_write(3, data) :]
    except BaseException:
        pass
    os._exit(0)
