"""Completion text → candidate program, by the contract every generator follows.

With a code prefix (completion mode, e.g. a PAL prompt ending at `def solution():`) the completion
*continues* the program: code = prefix + completion, cut at the first stop sequence or the first
markdown fence (small models close their code with a stray fence). Only when the answer opens
with a fence, or there is no prefix (chat answers), is the first non-empty fenced block the
program; without one, the whole answer cut at the stops is.
"""

from __future__ import annotations

import re

from core.prompts.template import RenderedPrompt

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)(?:```|\Z)", re.S)


def cut_at_stop(text: str, stops: tuple[str, ...] | list[str]) -> str:
    cut = min((i for s in stops if s and (i := text.find(s)) != -1), default=len(text))
    return text[:cut]


def _fenced_block(text: str) -> str | None:
    """The first fenced block with any code in it, or None."""
    for match in _FENCE.finditer(text):
        if match.group(1).strip():
            return match.group(1).rstrip() + "\n"
    return None


def completion_to_code(rendered: RenderedPrompt, completion: str) -> str:
    """The complete program a completion stands for under its rendered prompt."""
    opens_with_fence = completion.lstrip().startswith("```")
    if "```" in completion and (opens_with_fence or not rendered.code_prefix):
        block = _fenced_block(completion)
        if block is not None:
            return block
    body = cut_at_stop(completion, rendered.stop)
    if rendered.code_prefix:
        body = body.split("```", 1)[0].rstrip() + "\n" if "```" in body else body
    return rendered.code_prefix + body
