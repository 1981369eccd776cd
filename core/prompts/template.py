"""Prompt templates: `{{field}}` placeholders, optional `#! key: value` directives, rendering.

A template may start with directive lines (removed from the text sent):
  #! stop: ["[DONE]"]          stop sequences, a JSON list of strings
  #! code_prefix: last-line    what the completion continues: last-line | prompt | none | auto
Without them (`auto`): a rendered text whose last line is a `def …:` line continues that
function (code_prefix = that line), a template ending in `{{prompt}}` continues the problem's
prompt (HumanEval), anything else starts a fresh program (code_prefix = ""). Code-continuing
prompts stop at the next top-level statement, the others at three newlines. `{{` always opens
a placeholder: a template cannot contain a literal `{{`. One trailing newline (editors add it)
is dropped, so a file ending in `def solution():` renders without the newline; end a file with
two newlines to keep one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import PromptError

FIELDS = ("id", "question", "answer", "tests", "setup", "entry_point", "prompt")
# what refine, critique (core/refine) and judge (core/judge) prompts fill in beside the problem's
# fields: `program` is the candidate they are about; problems have none
FEEDBACK_FIELDS = ("program", "feedback", "result")
CODE_STOPS = ("\nclass ", "\ndef ", "\n#", "\nif ", "\nprint(")
PROGRAM_STOPS = ("\n\n\n\n",)
_PREFIX_MODES = ("auto", "last-line", "prompt", "none")
_DIRECTIVE = re.compile(r"#!\s*([A-Za-z_][\w-]*)\s*:\s*(.*)")
_NAME = re.compile(r"[A-Za-z_]\w*")

_KIND_PROMPTS = {"answer": "gsm8k", "asserts": "mbpp", "check": "humaneval"}


def prompt_name_for_kind(kind: str) -> str:
    """The default prompt for a problem kind: answer → gsm8k, asserts → mbpp, check → humaneval."""
    try:
        return _KIND_PROMPTS[kind]
    except KeyError:
        raise PromptError(f"no default prompt for problem kind {kind!r}") from None


def kind_for_prompt_name(name: str) -> str | None:
    """The problem kind a built-in prompt is for; None for a custom name (any kind)."""
    return next((k for k, n in _KIND_PROMPTS.items() if n == name), None)


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """The exact text sent; candidate code = code_prefix + completion cut at the first stop."""

    text: str
    code_prefix: str
    stop: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Template:
    body: str
    placeholders: tuple[str, ...]
    stop: tuple[str, ...] | None
    code_prefix: str


def _directives(lines: list[str]) -> tuple[int, tuple[str, ...] | None, str]:
    stop: tuple[str, ...] | None = None
    prefix = "auto"
    i = 0
    while i < len(lines) and (m := _DIRECTIVE.fullmatch(lines[i].rstrip())):
        key, value = m.group(1), m.group(2).strip()
        if key == "stop":
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, list) or not all(isinstance(s, str) and s for s in parsed):
                raise PromptError(f"template line {i + 1}: stop must be a JSON list of strings")
            stop = tuple(parsed)
        elif key == "code_prefix":
            if value not in _PREFIX_MODES:
                raise PromptError(
                    f"template line {i + 1}: code_prefix {value!r}: expected "
                    + " | ".join(_PREFIX_MODES)
                )
            prefix = value
        else:
            raise PromptError(
                f"template line {i + 1}: unknown directive {key!r} (known: stop, code_prefix)"
            )
        i += 1
    return i, stop, prefix


def parse_template(text: str) -> Template:
    """Validate a template: directives, closed `{{…}}`, known placeholder names."""
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n")
    skip, stop, prefix = _directives(lines)
    body = "\n".join(lines[skip:])
    names: list[str] = []
    pos = 0
    while (start := body.find("{{", pos)) != -1:
        line = skip + body.count("\n", 0, start) + 1
        end = body.find("}}", start + 2)
        if end == -1:
            raise PromptError(f"template line {line}: unclosed '{{{{' (no matching '}}}}')")
        name = body[start + 2 : end].strip()
        if not _NAME.fullmatch(name):
            raise PromptError(f"template line {line}: bad placeholder {{{{{name}}}}}")
        if name not in FIELDS and name not in FEEDBACK_FIELDS:
            raise PromptError(
                f"template line {line}: unknown placeholder {{{{{name}}}}} "
                f"(known: {', '.join(FIELDS + FEEDBACK_FIELDS)})"
            )
        names.append(name)
        pos = end + 2
    if not body.strip():
        raise PromptError("template is empty")
    return Template(body, tuple(dict.fromkeys(names)), stop, prefix)


def _value(problem: Any, name: str) -> Any:
    if isinstance(problem, Mapping):
        return problem.get(name)
    try:
        return problem[name]  # sqlite3.Row
    except (KeyError, IndexError, TypeError):
        return getattr(problem, name, None)


def field_text(problem: Any, name: str) -> str:
    """A problem field as prompt text: asserts one per line, None an error naming the field."""
    value = _value(problem, name)
    if value is None:
        pid = _value(problem, "id") or "?"
        raise PromptError(f"problem {pid} has no {name!r} for {{{{{name}}}}}")
    if name == "tests" and _value(problem, "kind") == "asserts":
        try:
            tests = json.loads(value)
        except (TypeError, json.JSONDecodeError):
            return str(value)
        return "\n".join(str(t) for t in tests)
    return str(value)


def render(template: str | Template, problem: Any) -> RenderedPrompt:
    """Fill the placeholders with the problem's fields (a mapping, sqlite3.Row or object)."""
    tpl = parse_template(template) if isinstance(template, str) else template
    values = {name: field_text(problem, name) for name in tpl.placeholders}
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m.group(1)], tpl.body)
    mode = tpl.code_prefix
    last_line = text.rsplit("\n", 1)[-1]
    if mode == "auto":
        if re.match(r"\s*(async\s+)?def\s", last_line) and last_line.rstrip().endswith(":"):
            mode = "last-line"
        elif re.search(r"\{\{\s*prompt\s*\}\}$", tpl.body):
            mode = "prompt"
        else:
            mode = "none"
    if mode == "last-line":
        prefix = last_line
    elif mode == "prompt":
        prefix = field_text(problem, "prompt")
        if not text.endswith(prefix):
            raise PromptError("code_prefix: prompt needs the template to end with {{prompt}}")
    else:
        prefix = ""
    stop = tpl.stop if tpl.stop is not None else CODE_STOPS if prefix else PROGRAM_STOPS
    return RenderedPrompt(text, prefix, stop)


ZERO_SHOT = {
    "answer": "# Question: {{question}}\n# Write solution() so that it returns the answer.\n\n"
    "def solution():",
    "asserts": '#! stop: ["[DONE]", "\\n[BEGIN]"]\n'
    "You are an expert Python programmer, and here is your task: {{question}} "
    "Your code should pass these tests:\n\n{{tests}}\n[BEGIN]\n\n",
    "check": "{{prompt}}",
}


def render_zero_shot(problem: Any) -> RenderedPrompt:
    """The student's prompt: the teacher's format for the problem's kind, without exemplars."""
    kind = _value(problem, "kind")
    if kind not in ZERO_SHOT:
        raise PromptError(f"problem {_value(problem, 'id')}: unknown kind {kind!r}")
    return render(ZERO_SHOT[kind], problem)
