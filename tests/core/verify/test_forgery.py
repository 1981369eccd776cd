"""Forged verdicts: a program that attacks the harness from inside its own process must not pass.

Each attack runs against a program that cannot pass honestly; then a good program on the same
pool must still pass (the verifier keeps going).
"""

from __future__ import annotations

import pytest

from core.sanitize import clean_text, sanitize_for_terminal
from core.verify.client import WorkerPool
from core.verify.verdict import CheckSpec
from tests.core.verify.conftest import GOOD, check
from tests.core.verify.test_hostile import contained

MBPP = CheckSpec("asserts", tests=["assert add(1, 2) == 3", "assert add(2, 2) == 4"])
HUMANEVAL = CheckSpec(
    "check",
    test_code="def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n",
    entry_point="square",
)
NON_LITERAL = CheckSpec("asserts", tests=["assert add(1, 2) == sum([1, 2])"])

# Read the nonce from the harness frames, write a "pass" report and leave before the check.
FORGE_REPORT = """
import os, sys, json
f = sys._getframe()
nonce = None
while f is not None:
    if 'nonce' in f.f_locals:
        nonce = f.f_locals['nonce']
    f = f.f_back
body = {REPORT}
os.write(3, (nonce + json.dumps(body) + '\\n').encode())
os._exit(0)
"""


def forge(report: str) -> str:
    return FORGE_REPORT.replace("{REPORT}", report)


@pytest.mark.parametrize("spec", [CheckSpec("answer", answer="18"), MBPP, HUMANEVAL])
@pytest.mark.parametrize(
    "report",
    [
        '{"status": "pass"}',
        '{"status": "pass", "passed": 2, "total": 2}',
        '{"status": "pass", "passed": 0, "total": 0}',
        '{"status": "returned", "returned": "18", "number": 18.0}',
        '{"status": "probed", "values": [], "untrusted": []}',
        '{"status": "probed", "values": [{"v": 3}], "untrusted": []}',
        '{"status": "sandbox-error", "error_message": "forged"}',
        '{"status": "timeout", "error_message": "\\ud800\\u001b[32mpass"}',
        '["not", "an", "object"]',
    ],
)
async def test_forged_report_never_passes(pool: WorkerPool, spec: CheckSpec, report: str) -> None:
    v = await check(pool, forge(report), spec)
    await contained(pool, v, "crashed", "error", "fail", "timeout")
    clean_text(v.detail + (v.error_message or "")).encode("utf-8")  # storable


async def test_forged_sandbox_error_does_not_stop_the_verifier(pool: WorkerPool) -> None:
    v = await check(pool, forge('{"status": "sandbox-error", "error_message": "x"}'), MBPP)
    assert v.status == "crashed"
    assert "sandbox setup failed" in v.detail


async def test_patching_the_checks_table(pool: WorkerPool) -> None:
    code = (
        "import sys\n"
        "checks = sys.modules.get('checks') or sys.modules.get('core.verify.checks')\n"
        "for k in list(checks.CHECKS):\n"
        "    checks.CHECKS[k] = lambda ns, job: {'status': 'pass', 'passed': 2, 'total': 2}\n"
        "def solution():\n    return None\n"
        "def add(a, b):\n    return None\n"
        "def square(x):\n    return None\n"
    )
    for spec in (CheckSpec("answer", answer="18"), MBPP, HUMANEVAL):
        v = await check(pool, code, spec)
        await contained(pool, v, "crashed")
        assert "invalid report" in v.detail


async def test_frame_walk_finds_no_expected_value(pool: WorkerPool) -> None:
    """Every object reachable from the harness frames: the expected answer is in none."""
    code = (
        "import sys, gc\n"
        "def solution():\n"
        "    seen = repr([f.f_locals for f in [sys._getframe(i) for i in range(1, 6)]])\n"
        "    heap = repr([o for o in gc.get_objects() if isinstance(o, (dict, list, str))])\n"
        "    needle = str(123456789 * 8)\n"  # the answer, never as a literal in this code
        "    return int(needle) if needle in seen + heap else 0\n"
    )
    v = await check(pool, code, CheckSpec("answer", answer="987654312"))
    await contained(pool, v, "fail")
    v = await check(pool, code.replace("solution", "add").replace("():", "(a, b):"),
                    CheckSpec("asserts", tests=["assert add(1, 2) == 987654312"]))  # fmt: skip
    await contained(pool, v, "fail")


async def test_lying_eq_does_not_pass(pool: WorkerPool) -> None:
    code = (
        "class Yes:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = object.__hash__\n"
        "    def __repr__(self):\n        return '18'\n"
        "def solution():\n    return Yes()\n"
        "def add(a, b):\n    return Yes()\n"
        "def square(x):\n    return Yes()\n"
    )
    for spec in (CheckSpec("answer", answer="18"), MBPP, HUMANEVAL, NON_LITERAL):
        v = await check(pool, code, spec)
        await contained(pool, v, "fail")
    assert "18" not in (v.returned or "")


async def test_lying_float_subclass_shows_its_true_value(pool: WorkerPool) -> None:
    code = (
        "class F(float):\n"
        "    def __repr__(self):\n        return '18'\n"
        "    __str__ = __repr__\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = float.__hash__\n"
        "def solution():\n    return F(17.0)\n"
    )
    v = await check(pool, code)
    await contained(pool, v, "fail")
    assert v.detail == "returned 17.0, expected 18"


async def test_patched_exec_and_assertion_error(pool: WorkerPool) -> None:
    code = (
        "import builtins\n"
        "builtins.exec = lambda *a, **k: None\n"
        "builtins.eval = lambda *a, **k: True\n"
        "class Never(Exception):\n    pass\n"
        "builtins.AssertionError = Never\n"
        "def add(a, b):\n    return 0\n"
        "def square(x):\n    return 0\n"
    )
    for spec in (MBPP, HUMANEVAL, NON_LITERAL):
        v = await check(pool, code, spec)
        await contained(pool, v, "fail", "crashed")


async def test_non_literal_expected_side_is_computed_outside(pool: WorkerPool) -> None:
    good = "def add(a, b):\n    return a + b\n"
    v = await check(pool, good, NON_LITERAL)
    assert (v.status, v.trusted_harness) == ("pass", True)
    # The candidate redefines `sum`: the expected side still means Python's sum.
    evil = "import builtins\nbuiltins.sum = lambda xs: 0\ndef add(a, b):\n    return 0\n"
    v = await check(pool, evil, NON_LITERAL)
    await contained(pool, v, "fail")


async def test_untrusted_shape_is_marked(pool: WorkerPool) -> None:
    spec = CheckSpec(
        "asserts", tests=["assert add(1, 2) == 3", "for i in range(3): assert add(i, 0) == i"]
    )
    v = await check(pool, "def add(a, b):\n    return a + b\n", spec)
    assert (v.status, v.passed, v.total) == ("pass", 2, 2)
    assert v.trusted_harness is False and "untrusted-harness" in v.flags
    assert v.to_dict()["trusted_harness"] is False
    v = await check(pool, "def add(a, b):\n    return a + b\n", MBPP)
    assert v.trusted_harness is True and v.to_dict()["flags"] == []


@pytest.mark.parametrize(
    ("test", "good", "bad"),
    [
        ("assert f(2) != 5", "return 4", "return 5"),
        ("assert set(f(2)) == set([1, 2])", "return [2, 1, 1]", "return [3]"),
        ("assert sorted(f(2)) == [1, 2]", "return (2, 1)", "return (2, 2)"),
        ("assert tuple(f(2)) == (1, 2)", "return [1, 2]", "return [2, 1]"),
        ("assert math.isclose(f(2), 0.3, rel_tol=1e-9)", "return 0.1 + 0.2", "return 0.31"),
        ("assert abs(f(2) - 1.5) < 1e-6", "return 1.5000001", "return 1.6"),
        ("assert f(2)", "return [0]", "return []"),
        ("assert not f(2)", "return ''", "return 'x'"),
        ("assert f(2) is None", "return None", "return 0"),
        ("assert f(2) == (1, [{3: 'a'}], {4}, b'x')", "return (1, [{3: 'a'}], {4}, b'x')",
         "return [1, [{3: 'a'}], {4}, b'x']"),
    ],
)  # fmt: skip
async def test_shapes_compared_outside(pool: WorkerPool, test: str, good: str, bad: str) -> None:
    spec = CheckSpec("asserts", tests=[test])
    v = await check(pool, f"def f(x):\n    {good}\n", spec)
    assert (v.status, v.trusted_harness) == ("pass", True), v
    v = await check(pool, f"def f(x):\n    {bad}\n", spec)
    assert v.status == "fail", v


async def test_surrogate_and_escapes_in_messages(pool: WorkerPool) -> None:
    code = "def solution():\n    raise ValueError('\\ud800\\x1b[32mpass\\x1b]52;c;ZXZpbA==\\x07')\n"
    v = await check(pool, code)
    await contained(pool, v, "error")
    (v.detail + (v.error_message or "")).encode("utf-8")
    shown = sanitize_for_terminal(v.detail)
    assert "\x1b" not in shown and "\x07" not in shown and "pass" in shown


def test_sanitize_for_terminal() -> None:
    text = "ok\x1b[2J\x1b[32mPASS\x1b[0m\x1b]52;c;aGk=\x07\x1bP+q\x1b\\\r\x00\u202eend\ud800"
    out = sanitize_for_terminal(text)
    assert out == "okPASS\nend?"
    assert sanitize_for_terminal("a\nb", keep_newlines=False) == "a b"


async def test_bom_is_stripped(pool: WorkerPool) -> None:
    v = await check(pool, "\ufeff" + GOOD)
    assert v.status == "pass", v
