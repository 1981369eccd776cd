"""One verdict model for every candidate, and how a problem row becomes a check.

Expected values stay here, in the engine: the worker only learns the expressions to evaluate in
the candidate (the CALL side of each test) and sends back their values strictly encoded; the
comparison happens in `make_verdict`, on decoded plain data. Expected sides that are not
literals are computed once per problem in a clean child that never ran a candidate
(`prepare`). Whatever a child reports is validated: anything outside the protocol is a
`crashed` verdict, never an engine error.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import VerifierSection
from core.errors import VerifyError
from core.sanitize import clean_text
from core.verify import shapes, values

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
    flags: tuple[str, ...] = ()
    """`untrusted-harness`: some test ran inside the candidate's interpreter (its result could
    be forged there); `spurious`: a pass that does not compute its answer (see spurious.py)."""

    @property
    def trusted_harness(self) -> bool:
        return "untrusted-harness" not in self.flags

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["flags"] = list(self.flags)
        out["trusted_harness"] = self.trusted_harness
        return out


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """What a program is checked against; built from a `problems` row (see CONTRACTS)."""

    kind: str  # answer | asserts | check | program (just run it)
    answer: str | None = None
    tests: list[str] = field(default_factory=list)
    setup: str = ""
    test_code: str = ""
    entry_point: str = ""
    question: str = ""  # answer kind: for the spurious-pass check (never sent to the child)


def spec_from_problem(row: Mapping[str, Any] | CheckSpec) -> CheckSpec:
    if isinstance(row, CheckSpec):
        return row
    kind = row["kind"]
    pid = row["id"] if "id" in row.keys() else "?"  # noqa: SIM118  (sqlite3.Row has no __contains__ by key)
    if kind == "answer":
        question = row["question"] if "question" in row.keys() else ""  # noqa: SIM118
        return CheckSpec("answer", answer=str(row["answer"] or ""), question=str(question or ""))
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


Runner = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A spec with its plan and the expected sides evaluated outside any candidate."""

    spec: CheckSpec
    plan: shapes.Plan | None = None  # None: answer/program kinds, or an untrusted check()
    outside: dict[str, Any] = field(default_factory=dict)  # expr -> value | Failure


@dataclass(frozen=True, slots=True)
class Failure:
    """An expression that raised (or could not be evaluated) outside the candidate."""

    error_type: str
    message: str


@functools.lru_cache(maxsize=4096)
def _plan(kind: str, tests: tuple[str, ...], test_code: str) -> shapes.Plan | None:
    if kind == "asserts":
        return shapes.plan_asserts(list(tests))
    if kind == "check":
        return shapes.plan_check(test_code)
    return None


def plan_for(spec: CheckSpec) -> shapes.Plan | None:
    return _plan(spec.kind, tuple(spec.tests), spec.test_code)


async def prepare(spec: CheckSpec, run: Runner, config: VerifierSection) -> Prepared:
    """Evaluate the expected sides: literals here, the rest in one clean child."""
    plan = plan_for(spec)
    if plan is None:
        return Prepared(spec)
    outside: dict[str, Any] = {}
    todo: list[str] = []
    for expr in plan.outside_exprs():
        ok, value = shapes.literal_value(expr)
        if ok:
            outside[expr] = value
        else:
            todo.append(expr)
    if todo:
        job = {
            "kind": "eval", "code": "", "exprs": todo, "timeout_s": max(config.timeout_s, 5.0),
            "memory_mb": config.memory_mb, "output_limit": 65536,
            "max_processes": config.max_processes,
        }  # fmt: skip
        result = await run(job)
        report = result.get("report") if result.get("status") == "reported" else None
        got = report.get("values") if isinstance(report, dict) else None
        if not isinstance(got, list) or len(got) != len(todo):
            why = str(result.get("error_message") or result.get("status") or "no report")
            got = [{"!": ["EvaluationError", f"expected value not computed: {why}", ""]}] * len(
                todo
            )
        for expr, item in zip(todo, got, strict=True):
            outside[expr] = _item(item)
    return Prepared(spec, plan, outside)


def _item(item: Any) -> Any:
    """One `{"v": encoded}` / `{"!": [type, message, trace]}` entry, decoded strictly."""
    if type(item) is dict and len(item) == 1:
        if "v" in item:
            return values.decode(item["v"])
        err = item.get("!")
        if type(err) is list and len(err) == 3 and all(type(x) is str for x in err):
            return Failure(
                clean_text(err[0])[:100],
                clean_text(err[1])[:2000] + (f" ({clean_text(err[2])[:300]})" if err[2] else ""),
            )
    raise values.DecodeError("bad value entry")


def make_job(
    code: str, spec: CheckSpec, config: VerifierSection, prepared: Prepared | None = None
) -> dict[str, Any]:
    """The worker's job: everything the child needs, and nothing it must not see (no
    expected answer, no expected side of a trusted test)."""
    job: dict[str, Any] = {
        "kind": spec.kind,
        "code": code,
        "timeout_s": config.timeout_s,
        "memory_mb": config.memory_mb,
        "output_limit": config.output_limit_kb * 1024,
        "max_processes": config.max_processes,
    }
    plan = prepared.plan if prepared is not None else plan_for(spec)
    if spec.kind == "answer":
        job["entry"] = config.entry
    elif plan is not None:
        job["kind"] = "probes"
        job["calls"] = [p.call for _, p in plan.probes if not p.call_outside]
        job["untrusted"] = [t for _, t in plan.untrusted]
        if spec.kind == "asserts":
            job["setup"] = spec.setup
        else:
            job["entry_point"] = spec.entry_point
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


class BadReport(ValueError):
    """The child's report is outside the protocol (forged, truncated, wrong shape)."""


CHILD_STATUSES = {
    "answer": {"returned", "error", "syntax", "memory"},
    "probes": {"probed", "error", "syntax", "memory"},
    "check": {"pass", "fail", "error", "syntax", "memory"},
    "program": {"pass", "error", "syntax", "memory"},
}
PARENT_STATUSES = {"timeout", "output-limit", "crashed", "error", "memory"}


def _text(value: Any, n: int = 2000) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise BadReport(f"a text field is {type(value).__name__}")
    text = clean_text(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _compare_answer(value: Any, expected: str, tolerance: float) -> tuple[str, str, str]:
    shown = values.show(value)
    want = parse_number(expected)
    if want is not None:
        got = values.to_number(value)
        ok = got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=tolerance)
    else:
        text = value if type(value) is str else shown
        ok = text.strip().strip("'\"") == expected.strip()
    if ok:
        return "pass", f"returned {shown} (expected {expected})", shown
    return "fail", f"returned {shown}, expected {expected}", shown


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


def _probed(report: dict[str, Any], prepared: Prepared) -> dict[str, Any]:
    """Weigh the candidate's values against the expected ones, test by test, in test order."""
    plan = prepared.plan
    assert plan is not None
    got, untrusted = report.get("values"), report.get("untrusted")
    n_calls = sum(not p.call_outside for _, p in plan.probes)
    if type(got) is not list or len(got) != n_calls:
        raise BadReport("wrong number of values")
    if type(untrusted) is not list or len(untrusted) != len(plan.untrusted):
        raise BadReport("wrong number of test results")
    outcomes: dict[int, tuple[str, Any, str]] = {}  # index -> (pass|fail|error, info, returned)
    it = iter(got)
    for index, probe in plan.probes:
        value = prepared.outside.get(probe.call) if probe.call_outside else _item(next(it))
        if isinstance(value, Failure):
            outcomes[index] = ("error", (value.error_type, value.message), "")
            continue
        want = {k: prepared.outside.get(e) for k, e in probe.outside.items()}
        failed = next((w for w in want.values() if isinstance(w, Failure)), None)
        if failed is not None:
            outcomes[index] = ("error", (failed.error_type, failed.message), "")
            continue
        out = shapes.compare(probe, value, want)
        if out.error:
            outcomes[index] = ("error", out.error, out.got)
        else:
            outcomes[index] = ("pass" if out.ok else "fail", None, out.got)
    for (index, _), res in zip(plan.untrusted, untrusted, strict=True):
        if res is True:
            outcomes[index] = ("pass", None, "")
        elif res is False:
            outcomes[index] = ("fail", None, "")
        elif type(res) is list and len(res) == 3 and all(type(x) is str for x in res):
            outcomes[index] = ("error", (res[0], res[1] + (f" ({res[2]})" if res[2] else "")), "")
        else:
            raise BadReport("bad test result")
    sources = _sources(prepared)
    passed = sum(o[0] == "pass" for o in outcomes.values())
    out: dict[str, Any] = {"status": "pass", "passed": passed, "total": plan.total}
    for index in sorted(outcomes):
        state, info, shown = outcomes[index]
        if state == "pass":
            continue
        out["failed_test"] = sources[index][:500]
        out["returned"] = shown or None
        if state == "fail":
            out["status"] = "fail"
        else:
            out.update(status="error", error_type=info[0], error_message=info[1])
        break
    return out


def _sources(prepared: Prepared) -> dict[int, str]:
    plan = prepared.plan
    assert plan is not None
    src = {i: p.source for i, p in plan.probes}
    src.update(dict(plan.untrusted))
    return src


def make_verdict(
    result: dict[str, Any], spec: CheckSpec, tolerance: float, prepared: Prepared | None = None
) -> Verdict:
    """Turn the worker's result into the stored verdict. Never raises for anything a
    candidate can send: a report outside the protocol is a `crashed` verdict."""
    prepared = prepared or Prepared(spec, plan_for(spec))
    try:
        verdict = _make_verdict(result, spec, tolerance, prepared)
        texts = {
            k: clean_text(v)
            for k in ("detail", "returned", "error_type", "error_message", "trace", "output")
            if isinstance(v := getattr(verdict, k), str)
        }
        return dataclasses.replace(verdict, **texts)
    except (BadReport, values.DecodeError, KeyError, TypeError, ValueError, RecursionError) as exc:
        return Verdict(
            status="crashed",
            detail=_one_line(f"invalid report from the sandbox: {clean_text(str(exc))}"),
            error_type="BadReport",
            output=clean_text(str(result.get("output") or "")),
            duration_s=_duration(result),
            flags=_flags(spec, prepared),
        )


def _duration(result: dict[str, Any]) -> float:
    d = result.get("duration_s", 0.0)
    return float(d) if type(d) in (int, float) and math.isfinite(d) else 0.0


def _flags(spec: CheckSpec, prepared: Prepared) -> tuple[str, ...]:
    if spec.kind in ("asserts", "check") and (prepared.plan is None or not prepared.plan.trusted):
        return ("untrusted-harness",)
    return ()


def _make_verdict(
    result: dict[str, Any], spec: CheckSpec, tolerance: float, prepared: Prepared
) -> Verdict:
    status = result.get("status")
    expected = spec.answer if spec.kind == "answer" else None
    r: dict[str, Any] = {}
    returned: str | None = None
    detail: str | None = None
    if status == "reported":
        report = result.get("report")
        if type(report) is not dict:
            raise BadReport("the report is not an object")
        status = report.get("status")
        job_kind = "probes" if prepared.plan is not None else spec.kind
        if status == "sandbox-error":
            status = "crashed"
            r["error_message"] = "sandbox setup failed in the child: " + str(
                _text(report.get("error_message"), 500)
            )
        elif status not in CHILD_STATUSES.get(job_kind, set()):
            raise BadReport(f"status {clean_text(str(status))[:40]!r} is not one a check sends")
        else:
            for key in ("error_type", "error_message", "trace", "failed_test"):
                r[key] = _text(report.get(key))
        if status == "returned":
            status, detail, returned = _compare_answer(
                values.decode(report.get("value")), expected or "", tolerance
            )
        elif status == "probed":
            r = _probed(report, prepared)
            status = r["status"]
            returned = r.get("returned")
            r = {k: (_text(v) if isinstance(v, str) else v) for k, v in r.items()}
        elif spec.kind == "check" and status in ("pass", "fail"):
            r["passed"], r["total"] = (1 if status == "pass" else 0), 1
    elif status in PARENT_STATUSES:
        for key in ("error_type", "error_message"):
            r[key] = _text(result.get(key))
    else:
        raise BadReport(f"unknown result status {clean_text(str(status))[:40]!r}")
    if detail is None:
        detail = _detail(str(status), r, spec)
    return Verdict(
        status=status,
        detail=_one_line(detail),
        passed=r.get("passed"),
        total=r.get("total"),
        returned=returned,
        expected=expected,
        error_type=r.get("error_type"),
        error_message=r.get("error_message"),
        trace=r.get("trace") or r.get("failed_test"),
        output=clean_text(str(result.get("output") or "")),
        duration_s=_duration(result),
        flags=_flags(spec, prepared),
    )
