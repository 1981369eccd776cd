"""Spurious passes: flagged, still `pass`, on hard-coded programs but not on genuine ones."""

from __future__ import annotations

import pytest

from core.verify.client import WorkerPool
from core.verify.spurious import perturbed, question_numbers, static_reason
from core.verify.verdict import CheckSpec
from tests.core.verify.conftest import check

QUESTION = "Tom has 3 boxes with 6 apples each. How many apples does he have?"
SPEC = CheckSpec("answer", answer="18", question=QUESTION)

GENUINE = "def solution():\n    boxes = 3\n    per_box = 6\n    return boxes * per_box\n"
LITERAL = "def solution():\n    return 18\n"
HIDDEN = "def solution():\n    total = 9 + 9\n    return total\n"  # 18 built from nothing asked
IGNORES = "def solution():\n    boxes = 3\n    x = boxes * 0\n    return x + 2 * 9\n"


def test_question_numbers_and_perturbation() -> None:
    assert question_numbers("Pay $1,000 for 2.5 kg, 3 times") == {1000.0, 2.5, 3.0}
    src = perturbed(GENUINE, QUESTION)
    assert src is not None and "10" in src and "20" in src  # 3 + 7, 6 + 14: an offset per number
    assert perturbed("def solution():\n    return 7\n", QUESTION) is None
    assert static_reason(LITERAL, QUESTION, "18", "solution()") == "returns a literal"
    assert static_reason(GENUINE, QUESTION, "18", "solution()") is None
    assert static_reason("def solution():\n    x = 18\n    return x\n", QUESTION, "18",
                         "solution()") is not None  # fmt: skip


@pytest.mark.parametrize(
    ("code", "spurious"), [(GENUINE, False), (LITERAL, True), (HIDDEN, False), (IGNORES, True)]
)
async def test_flags_on_passing_programs(pool: WorkerPool, code: str, spurious: bool) -> None:
    v = await check(pool, code, SPEC)
    assert v.status == "pass", v
    assert ("spurious" in v.flags) is spurious, v
    assert v.to_dict()["flags"] == (["spurious"] if spurious else [])


async def test_failing_programs_are_not_flagged(pool: WorkerPool) -> None:
    v = await check(pool, "def solution():\n    return 17\n", SPEC)
    assert v.status == "fail" and v.flags == ()


def test_perturbation_does_not_cancel_out_in_sums_and_differences() -> None:
    """+7 on every number left `42 - 9 + 5 - 12` at 26: a genuine program flagged spurious."""
    from core.verify.spurious import perturbed

    question = (
        "A school bus carries 42 students. At the first stop 9 students get off and 5 get on."
        " At the second stop 12 students get off. How many students are on the bus now?"
    )
    source = perturbed("def solution():\n    return 42 - 9 + 5 - 12\n", question)
    assert source is not None
    namespace: dict = {}
    exec(source, namespace)  # our own rewrite of a trusted literal program, not a candidate
    assert namespace["solution"]() != 26
