"""The harness that runs inside the confined child: run the program, run the check, report.

Stdlib only (imported by the lean worker). The report is one line on a dedicated pipe (fd 3),
prefixed with a per-child random nonce; stdout/stderr are just captured text, so printing
"pass" proves nothing. For answer-checked problems the child never sees the expected answer: it
reports the returned value and the engine compares, so an answer check cannot be forged at all.
Assert/check tests must run in the candidate's own interpreter; a program that deliberately
tampers with the harness there could subvert them (see README, section sandbox).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import linecache
import math
import os
import sys
import traceback
from fractions import Fraction
from typing import Any

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
    _dumps(_check_answer(ns, {"entry": "solution()"}), default=str)
    try:
        ns["solution"](1)
    except TypeError as exc:
        _dumps(_error(exc), default=str)
    linecache.cache.pop(CANDIDATE_FILE, None)


def _cut(text: str, n: int = MAX_FIELD) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _safe_repr(value: Any) -> str:
    try:
        return _cut(repr(value), 200)
    except BaseException as exc:  # a hostile __repr__
        return f"<unrepresentable {type(exc).__name__}>"


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


def to_number(value: Any) -> float | None:
    """A returned value as a number when it plainly is one ("1,000", "$18", 18.0, Fraction)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Fraction):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").lstrip("$").rstrip("%").strip()
        try:
            return float(text)
        except ValueError:
            return None
    try:
        number = float(value)  # Decimal, numpy scalars
    except BaseException:
        return None
    return number if not isinstance(number, bool) else None


def _check_answer(ns: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    value = eval(compile(job["entry"], "<entry>", "eval", dont_inherit=True), ns)
    number = to_number(value)
    if number is not None and not math.isfinite(number):
        number = None
    return {"status": "returned", "returned": _safe_repr(value), "number": number}


def _check_asserts(ns: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    if job.get("setup"):
        exec(_compile(job["setup"], SETUP_FILE), ns)
    tests: list[str] = job["tests"]
    passed, first = 0, None
    for test in tests:
        try:
            exec(_compile(test, TEST_FILE), ns)
            passed += 1
        except AssertionError:
            first = first or {"status": "fail", "failed_test": _cut(test, 500)}
        except Exception as exc:
            first = first or {**_error(exc), "failed_test": _cut(test, 500)}
    result = first or {"status": "pass"}
    return {**result, "passed": passed, "total": len(tests)}


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


CHECKS = {"answer": _check_answer, "asserts": _check_asserts, "check": _check_humaneval}


def run_job(job: dict[str, Any], nonce: str) -> None:
    """Child side: compile, run, check, write the nonce-tagged report to fd 3, never return."""
    if not _stdio:
        prepare()
    out, sys.stdin = _stdio
    sys.stdout = sys.stderr = out
    report: dict[str, Any]
    try:
        code = _compile(job["code"], CANDIDATE_FILE)
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
        line = nonce + _dumps(report, default=str) + "\n"
    except BaseException:
        line = nonce + '{"status": "error", "error_message": "unreportable result"}\n'
    data = line.encode("utf-8", "replace")
    try:
        while data:
            data = data[_write(3, data) :]
    except BaseException:
        pass
    os._exit(0)
