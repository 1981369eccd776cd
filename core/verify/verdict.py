"""One verdict model for every candidate, and how a problem row becomes a check.

The expected answer of an answer-checked problem stays here, in the engine: the worker only
learns what the program returned, and the comparison happens in `make_verdict`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import VerifierSection
from core.errors import VerifyError

MAX_DETAIL = 300


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # pass | fail | error | timeout | memory | syntax | crashed | output-limit
    detail: str
    passed: int | None = None
    total: int | None = None
    returned: str | None = None
    expected: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    trace: str | None = None
    output: str = ""
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """What a program is checked against; built from a `problems` row (see CONTRACTS)."""

    kind: str  # answer | asserts | check | program (just run it)
    answer: str | None = None
    tests: list[str] = field(default_factory=list)
    setup: str = ""
    test_code: str = ""
    entry_point: str = ""


def spec_from_problem(row: Mapping[str, Any] | CheckSpec) -> CheckSpec:
    if isinstance(row, CheckSpec):
        return row
    kind = row["kind"]
    pid = row["id"] if "id" in row.keys() else "?"  # noqa: SIM118  (sqlite3.Row has no __contains__ by key)
    if kind == "answer":
        return CheckSpec("answer", answer=str(row["answer"] or ""))
    if kind == "asserts":
        try:
            tests = json.loads(row["tests"] or "[]")
        except ValueError:
            raise VerifyError(f"problem {pid}: tests is not a JSON list of asserts") from None
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            raise VerifyError(f"problem {pid}: tests is not a JSON list of asserts")
        return CheckSpec("asserts", tests=tests, setup=row["setup"] or "")
    if kind == "check":
        return CheckSpec(
            "check", test_code=row["tests"] or "", entry_point=row["entry_point"] or ""
        )
    raise VerifyError(f"problem {pid}: unknown kind {kind!r}")


def make_job(code: str, spec: CheckSpec, config: VerifierSection) -> dict[str, Any]:
    """The worker's job: everything the child needs, and nothing it must not see."""
    job: dict[str, Any] = {
        "kind": spec.kind,
        "code": code,
        "timeout_s": config.timeout_s,
        "memory_mb": config.memory_mb,
        "output_limit": config.output_limit_kb * 1024,
        "max_processes": config.max_processes,
    }
    if spec.kind == "answer":
        job["entry"] = config.entry
    elif spec.kind == "asserts":
        job["tests"], job["setup"] = spec.tests, spec.setup
    elif spec.kind == "check":
        job["test_code"], job["entry_point"] = spec.test_code, spec.entry_point
    return job


def parse_number(text: str) -> float | None:
    text = text.strip().replace(",", "").lstrip("$").rstrip("%").strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def _compare(report: dict[str, Any], expected: str, tolerance: float) -> tuple[str, str]:
    returned = report.get("returned", "")
    want = parse_number(expected)
    got = report.get("number")
    if want is not None:
        ok = got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=tolerance)
    else:
        ok = returned.strip("'\"") == expected.strip()
    if ok:
        return "pass", f"returned {returned} (expected {expected})"
    return "fail", f"returned {returned}, expected {expected}"


def _detail(status: str, r: dict[str, Any], spec: CheckSpec) -> str:
    etype, msg, trace = r.get("error_type"), r.get("error_message") or "", r.get("trace")
    failed = r.get("failed_test")
    if status == "pass":
        if spec.kind == "asserts":
            return f"all {r.get('total', 0)} asserts passed"
        return "check(...) passed" if spec.kind == "check" else "ran to completion"
    if status == "fail":
        if spec.kind == "asserts":
            return f"{r.get('passed')}/{r.get('total')} asserts passed; first failing: {failed}"
        return f"check failed at {failed}" if failed else "check failed"
    if status in ("error", "syntax"):
        text = f"{etype}: {msg}" if etype else msg
        if trace:
            text += f" ({trace})"
        if failed:
            text += f" in {failed}"
        return text
    if status == "memory":
        return f"{etype or 'MemoryError'}: out of memory (address-space limit) {msg}".strip()
    return msg or status


def make_verdict(report: dict[str, Any], spec: CheckSpec, tolerance: float) -> Verdict:
    """Turn the worker's report into the stored verdict (answers are compared here)."""
    status = report.get("status", "error")
    if status == "sandbox-error":
        raise VerifyError(f"sandbox setup failed: {report.get('error_message')}")
    expected = spec.answer if spec.kind == "answer" else None
    if status == "returned":
        status, detail = _compare(report, expected or "", tolerance)
    else:
        detail = _detail(status, report, spec)
    return Verdict(
        status=status,
        detail=_one_line(detail),
        passed=report.get("passed"),
        total=report.get("total"),
        returned=report.get("returned"),
        expected=expected,
        error_type=report.get("error_type"),
        error_message=report.get("error_message"),
        trace=report.get("trace") or report.get("failed_test"),
        output=report.get("output", ""),
        duration_s=float(report.get("duration_s", 0.0)),
    )
