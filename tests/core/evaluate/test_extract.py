"""Completion → program, and the local generator's per-stop batching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.evaluate.generators import _Local
from core.prompts import RenderedPrompt
from core.prompts.completion import completion_to_code, cut_at_stop

PAL = RenderedPrompt("...\ndef solution():", "def solution():", ("\ndef ", "\n#"))
FRESH = RenderedPrompt("Task: ...\n[BEGIN]\n", "", ("[DONE]",))


def test_prefix_plus_completion_cut_at_first_stop() -> None:
    code = completion_to_code(PAL, "\n    return 4 + 1\n# Question: next\ndef other():")
    assert code == "def solution():\n    return 4 + 1"


def test_fenced_block_is_taken_whole() -> None:
    completion = "Here you go:\n```python\ndef f(x):\n    return x\n```\nDone."
    assert completion_to_code(FRESH, completion) == "def f(x):\n    return x\n"


def test_no_stop_keeps_everything() -> None:
    assert completion_to_code(FRESH, "def g():\n    pass") == "def g():\n    pass"
    assert cut_at_stop("abc", ()) == "abc"
    assert cut_at_stop("a[DONE]b[DONE]", ("[DONE]",)) == "a"


class FakeWorker:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str], dict[str, Any]]] = []

    async def generate(self, prompts: Sequence[str], n: int, stop: list[str], **kw: Any) -> Any:
        self.calls.append((list(prompts), stop, kw))
        return [[f"{p}#{i}[DONE]tail" for i in range(n)] for p in prompts]


async def test_local_generator_groups_by_stop_and_keeps_order() -> None:
    worker = FakeWorker()
    gen = _Local(worker, temperature=0.6)
    a = RenderedPrompt("A", "", ("[DONE]",))
    b = RenderedPrompt("B", "", ("\ndef ",))
    out = await gen.generate([a, b, a], 2)
    assert out == [["A#0", "A#1"], ["B#0[DONE]tail", "B#1[DONE]tail"], ["A#0", "A#1"]]
    assert [c[0] for c in worker.calls] == [["A", "A"], ["B"]]
    assert worker.calls[0][2] == {"temperature": 0.6}


def test_continuation_ends_at_a_stray_fence() -> None:
    # SmolLM2 closes a PAL continuation with markdown; the empty block after it is not the code
    completion = "\n\n    apples = 18\n    return apples * 2\n```\n\n```python"
    assert completion_to_code(PAL, completion) == (
        "def solution():\n\n    apples = 18\n    return apples * 2\n"
    )


def test_answer_opening_with_a_fence_is_that_block_even_with_a_prefix() -> None:
    completion = "\n```python\ndef solution():\n    return 3\n```\nExplanation..."
    assert completion_to_code(PAL, completion) == "def solution():\n    return 3\n"


def test_empty_fenced_blocks_are_skipped() -> None:
    completion = "```\n```\nSo:\n```python\ndef f():\n    return 1\n```"
    assert completion_to_code(FRESH, completion) == "def f():\n    return 1\n"
