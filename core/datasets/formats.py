"""Turning raw source rows into problems, one function per source format.

Id scheme (stable, so re-importing is idempotent):
  gsm8k              <dataset>/<split>/<row>      row = 0-based row index in the source
  mbpp               <dataset>/<task_id>
  humaneval          <dataset>/<n>                from task_id "HumanEval/<n>" (else task_id)
  jsonl/csv          value of --id-field verbatim, else <dataset>/<split>/<row>
A row that cannot become a problem raises BadRow with the reason; the importer adds where.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass
from typing import Any

from core.datasets.sources import RawRow

FORMATS = ("gsm8k", "mbpp", "humaneval", "jsonl", "csv")
_BUILTINS = frozenset(dir(builtins))
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


class BadRow(Exception):
    """A row that cannot be imported; str(exc) is the reason."""


@dataclass(slots=True)
class NewProblem:
    id: str
    dataset: str
    split: str
    kind: str  # answer | asserts | check
    question: str
    answer: str | None = None
    tests: str | None = None  # JSON list of asserts (asserts) or test code (check)
    setup: str | None = None
    entry_point: str | None = None
    prompt: str | None = None
    meta: str = "{}"

    def content(self) -> tuple[Any, ...]:
        """The fields a re-import compares to notice a source that changed."""
        return (
            self.kind,
            self.question,
            self.answer,
            self.tests,
            self.setup,
            self.entry_point,
            self.prompt,
        )


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Column names for jsonl/csv sources (the --*-field flags)."""

    id: str | None = None
    question: str = "question"
    answer: str | None = None
    tests: str | None = None
    setup: str | None = None
    entry_point: str | None = None

    def used(self) -> set[str]:
        return {
            f
            for f in (self.id, self.question, self.answer, self.tests, self.setup, self.entry_point)
            if f
        }


def canonical_answer(value: Any) -> str:
    """`"... #### 1,080"` → "1080": the number after `####`, thousands separators and $ gone."""
    text = str(value).strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip()
    cleaned = text.replace(",", "").replace("$", "").strip().rstrip(".").strip()
    if not _NUMBER.fullmatch(cleaned):
        raise BadRow(f"final answer {text[:40]!r} is not a number")
    if re.fullmatch(r"[-+]?\d+", cleaned):
        return str(int(cleaned))
    return cleaned.lstrip("+")


def _text(data: dict[str, Any], field: str, *, what: str | None = None) -> str:
    if field not in data or data[field] is None:
        raise BadRow(f"missing field {field!r}" + (f" ({what})" if what else ""))
    value = data[field]
    if not isinstance(value, str | int | float):
        raise BadRow(f"field {field!r} should be text, got {type(value).__name__}")
    text = str(value)
    if not text.strip():
        raise BadRow(f"field {field!r} is empty")
    return text


def entry_point_of(tests: list[str]) -> str | None:
    """The function the first assert tests: `assert set(f(x)) == …` → f (a non-builtin name
    first; else the first call, for tasks that shadow a builtin such as `def sum(a, b)`)."""
    if not tests:
        return None
    calls = [
        node.func.id
        for node in ast.walk(ast.parse(tests[0]))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    return next((c for c in calls if c not in _BUILTINS), calls[0] if calls else None)


def _asserts(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                raise BadRow(f"field {field!r} is not a JSON list of asserts") from None
        else:
            value = [line for line in stripped.splitlines() if line.strip()]
    if not isinstance(value, list) or not value:
        raise BadRow(f"field {field!r} should be a non-empty list of assert statements")
    tests = []
    for i, test in enumerate(value, 1):
        if not isinstance(test, str) or not test.strip():
            raise BadRow(f"test {i} in {field!r} is not a string")
        try:
            ast.parse(test)
        except SyntaxError as exc:
            raise BadRow(f"test {i} in {field!r} is not valid Python ({exc.msg})") from None
        tests.append(test.strip())
    return tests


def _meta(data: dict[str, Any], used: set[str], **extra: Any) -> str:
    meta = {k: v for k, v in data.items() if k not in used}
    meta.update(extra)
    return json.dumps(meta, ensure_ascii=False, default=str)


def from_gsm8k(row: RawRow, data: dict[str, Any], dataset: str, split: str) -> NewProblem:
    question = _text(data, "question")
    full = _text(data, "answer")
    if "####" not in full:
        raise BadRow("field 'answer' has no '#### <final answer>' line")
    return NewProblem(
        id=f"{dataset}/{split}/{row.index}",
        dataset=dataset,
        split=split,
        kind="answer",
        question=question.strip(),
        answer=canonical_answer(full),
        meta=_meta(data, {"question", "answer"}, rationale=full),
    )


def _task_key(data: dict[str, Any]) -> str:
    key = str(_text(data, "task_id")).strip()
    return key.rsplit("/", 1)[1] if "/" in key else key


def from_mbpp(row: RawRow, data: dict[str, Any], dataset: str, split: str) -> NewProblem:
    field = "text" if data.get("text") is not None else "prompt"  # the hub copy says "prompt"
    question = _text(data, field, what="the task description")
    if "test_list" not in data:
        raise BadRow("missing field 'test_list'")
    tests = _asserts(data["test_list"], "test_list")
    setup = data.get("test_setup_code") or ""
    if not setup and isinstance(data.get("test_imports"), list):
        setup = "\n".join(data["test_imports"])
    if not isinstance(setup, str):
        raise BadRow("field 'test_setup_code' should be text")
    used = {"task_id", field, "test_list", "test_setup_code", "test_imports"}
    return NewProblem(
        id=f"{dataset}/{_task_key(data)}",
        dataset=dataset,
        split=split,
        kind="asserts",
        question=question.strip(),
        tests=json.dumps(tests),
        setup=setup,
        entry_point=entry_point_of(tests),
        meta=_meta(data, used, task_id=data["task_id"]),
    )


def _docstring(prompt: str, entry_point: str) -> str:
    try:
        tree = ast.parse(prompt + "\n    pass\n")
    except SyntaxError:
        return prompt.strip()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return (ast.get_docstring(node) or prompt).strip()
    return prompt.strip()


def from_humaneval(row: RawRow, data: dict[str, Any], dataset: str, split: str) -> NewProblem:
    prompt = _text(data, "prompt")
    test = _text(data, "test")
    entry = _text(data, "entry_point").strip()
    if "def check(" not in test:
        raise BadRow("field 'test' does not define check(candidate)")
    used = {"task_id", "prompt", "test", "entry_point"}
    return NewProblem(
        id=f"{dataset}/{_task_key(data)}",
        dataset=dataset,
        split=split,
        kind="check",
        question=_docstring(prompt, entry),
        tests=test,
        entry_point=entry,
        prompt=prompt,
        setup="",
        meta=_meta(data, used, task_id=data["task_id"]),
    )


def from_mapped(
    row: RawRow, data: dict[str, Any], dataset: str, split: str, fields: FieldMap
) -> NewProblem:
    """jsonl/csv: an answer field makes a GSM8K-like problem, a tests field an MBPP-like one."""
    question = _text(data, fields.question, what="--question-field")
    pid = (
        _text(data, fields.id, what="--id-field") if fields.id else f"{dataset}/{split}/{row.index}"
    )
    common = {"id": pid, "dataset": dataset, "split": split, "question": question.strip()}
    if fields.answer:
        answer = canonical_answer(_text(data, fields.answer, what="--answer-field"))
        return NewProblem(kind="answer", answer=answer, meta=_meta(data, fields.used()), **common)
    assert fields.tests
    if fields.tests not in data:
        raise BadRow(f"missing field {fields.tests!r} (--tests-field)")
    tests = _asserts(data[fields.tests], fields.tests)
    setup = str(data.get(fields.setup) or "") if fields.setup else ""
    entry = str(data.get(fields.entry_point) or "").strip() if fields.entry_point else ""
    return NewProblem(
        kind="asserts",
        tests=json.dumps(tests),
        setup=setup,
        entry_point=entry or entry_point_of(tests),
        meta=_meta(data, fields.used()),
        **common,
    )
