"""The three checks (answer, asserts, HumanEval check) and the verdict each status carries."""

from __future__ import annotations

import json
import sys

import pytest

from core.config import VerifierSection
from core.errors import VerifyError
from core.verify.client import WorkerPool
from core.verify.service import check_program
from core.verify.verdict import CheckSpec, spec_from_problem
from tests.core.verify.conftest import ANSWER_18, check

MBPP = CheckSpec(
    "asserts",
    tests=["assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(0, 0) == 0"],
)
HUMANEVAL = CheckSpec(
    "check",
    test_code="def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n",
    entry_point="square",
)


@pytest.mark.parametrize(
    ("returned", "status"),
    [
        ("18", "pass"),
        ("18.0004", "pass"),
        ("18.01", "fail"),
        ("'18'", "pass"),
        ("'$18'", "pass"),
        ("17", "fail"),
        ("None", "fail"),
        ("True", "fail"),
        ("float('nan')", "fail"),
    ],
)
async def test_answer_compared_numerically(pool: WorkerPool, returned: str, status: str) -> None:
    v = await check(pool, f"def solution():\n    return {returned}\n")
    assert v.status == status, v
    assert v.expected == "18"
    if status == "fail":
        assert "expected 18" in v.detail


async def test_answer_with_thousands_separator_and_negative(pool: WorkerPool) -> None:
    v = await check(pool, "def solution():\n    return 1000\n", CheckSpec("answer", answer="1,000"))
    assert v.status == "pass"
    v = await check(pool, "def solution():\n    return -3.5\n", CheckSpec("answer", answer="-3.5"))
    assert v.status == "pass"


async def test_non_numeric_answer_compared_as_text(pool: WorkerPool) -> None:
    spec = CheckSpec("answer", answer="yes")
    assert (await check(pool, "def solution():\n    return 'yes'\n", spec)).status == "pass"
    assert (await check(pool, "def solution():\n    return 'no'\n", spec)).status == "fail"


async def test_configurable_entry_expression(pool: WorkerPool) -> None:
    config = VerifierSection(entry="main(3)")
    v = await check_program("def main(x):\n    return x * 6\n", ANSWER_18, config, pool=pool)
    assert v.status == "pass"


async def test_error_has_type_message_and_last_trace_line(pool: WorkerPool) -> None:
    code = "def helper(x):\n    return x / 0\n\ndef solution():\n    return helper(1)\n"
    v = await check(pool, code)
    assert v.status == "error"
    assert v.error_type == "ZeroDivisionError"
    assert v.error_message == "division by zero"
    assert v.trace == "line 2 in helper: return x / 0"
    assert v.detail.startswith("ZeroDivisionError: division by zero (line 2 in helper")


async def test_missing_solution_is_a_name_error(pool: WorkerPool) -> None:
    v = await check(pool, "x = 1\n")
    assert (v.status, v.error_type) == ("error", "NameError")


async def test_syntax_error(pool: WorkerPool) -> None:
    v = await check(pool, "def solution(:\n    return 1\n")
    assert v.status == "syntax"
    assert v.trace == "line 1"
    assert v.detail.startswith("SyntaxError")


async def test_output_is_captured(pool: WorkerPool) -> None:
    v = await check(pool, "print('thinking', flush=True)\ndef solution():\n    return 18\n")
    assert v.status == "pass"
    assert v.output == "thinking\n"


async def test_mbpp_counts_asserts_and_reports_first_failure(pool: WorkerPool) -> None:
    v = await check(pool, "def add(a, b):\n    return a + b\n", MBPP)
    assert (v.status, v.passed, v.total) == ("fail", 2, 3)
    assert v.detail == "2/3 asserts passed; first failing: assert add(2, 2) == 5"


async def test_mbpp_all_pass_with_setup(pool: WorkerPool) -> None:
    spec = CheckSpec("asserts", tests=["assert add(K, 1) == 11"], setup="K = 10")
    v = await check(pool, "def add(a, b):\n    return a + b\n", spec)
    assert (v.status, v.passed, v.total) == ("pass", 1, 1)


async def test_mbpp_exception_inside_an_assert(pool: WorkerPool) -> None:
    v = await check(pool, "def add(a, b):\n    return a + b + None\n", MBPP)
    assert v.status == "error"
    assert (v.passed, v.total) == (0, 3)
    assert v.error_type == "TypeError"
    assert "in assert add(1, 2) == 3" in v.detail


async def test_humaneval_pass_and_fail(pool: WorkerPool) -> None:
    v = await check(pool, "def square(x):\n    return x * x\n", HUMANEVAL)
    assert v.status == "pass"
    v = await check(pool, "def square(x):\n    return x + x\n", HUMANEVAL)
    assert v.status == "fail"
    assert "candidate(3) == 9" in v.detail


async def test_humaneval_missing_entry_point(pool: WorkerPool) -> None:
    v = await check(pool, "def cube(x):\n    return x ** 3\n", HUMANEVAL)
    assert (v.status, v.error_type) == ("error", "NameError")


def test_spec_from_problem_rows() -> None:
    row = {"id": "p", "kind": "asserts", "tests": json.dumps(["assert 1"]), "setup": None}
    assert spec_from_problem(row).tests == ["assert 1"]
    with pytest.raises(VerifyError, match="problem p: tests is not a JSON list"):
        spec_from_problem({**row, "tests": "assert 1"})
    with pytest.raises(VerifyError, match="unknown kind"):
        spec_from_problem({"id": "p", "kind": "essay"})


async def test_worker_is_lean_even_from_a_heavy_parent(pool: WorkerPool) -> None:
    assert "pydantic" in sys.modules  # this test process is heavy …
    assert pool.isolation["heavy_modules"] == []  # … the worker it started is not


async def test_isolation_report_names_mechanisms(pool: WorkerPool) -> None:
    iso = pool.isolation
    for key in ("netns", "pidns", "private_tmp", "uid_mode", "subreaper", "root"):
        assert key in iso
