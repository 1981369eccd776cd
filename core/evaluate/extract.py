"""Completion text → candidate program, by the contract every generator follows.

code = code_prefix + completion cut at the first stop sequence — unless the completion holds a
fenced code block (chat-style output), which is then taken whole.
"""

from __future__ import annotations

import re

from core.prompts import RenderedPrompt

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)(?:```|\Z)", re.S)


def cut_at_stop(text: str, stops: tuple[str, ...] | list[str]) -> str:
    cut = min((i for s in stops if s and (i := text.find(s)) != -1), default=len(text))
    return text[:cut]


def completion_to_code(rendered: RenderedPrompt, completion: str) -> str:
    """The complete program a completion stands for under its rendered prompt."""
    fenced = _FENCE.search(completion)
    if fenced and "```" in completion:
        return fenced.group(1).rstrip() + "\n"
    return rendered.code_prefix + cut_at_stop(completion, rendered.stop)
