"""Spurious passes: an `answer` program that passes without computing its answer.

A passing program is flagged `spurious` when it returns a literal, when the expected answer
appears as a literal in its code but not in the question, or when its result does not change
once the question's numbers are perturbed in its source (re-run in the sandbox). A flagged
pass keeps `status: pass`; gold excludes it unless `[gold] allow_spurious = true` or a hand
override says otherwise.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from typing import Any

from core.config import VerifierSection
from core.verify.verdict import CheckSpec, Runner, Verdict, make_job, make_verdict, parse_number

NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def question_numbers(question: str) -> set[float]:
    out: set[float] = set()
    for m in NUMBER.finditer(question):
        value = parse_number(m.group(0))
        if value is not None:
            out.add(value)
    return out


def _numbers(node: ast.AST) -> list[ast.Constant]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, int | float)
        and not isinstance(n.value, bool)
    ]


def _entry_function(tree: ast.Module, entry: str) -> ast.FunctionDef | None:
    name = entry.split("(", 1)[0].strip()
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt
    return None


def _is_literal(node: ast.AST | None) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and node.value is not None


def static_reason(code: str, question: str, expected: str, entry: str) -> str | None:
    """Why the program is spurious on its face, or None."""
    try:
        tree = ast.parse(code.removeprefix("\ufeff"))
    except (SyntaxError, ValueError):
        return None
    fn = _entry_function(tree, entry)
    if fn is not None:
        returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
        if returns and all(_is_literal(r.value) for r in returns):
            return "returns a literal"
    want = parse_number(expected)
    if want is not None and want not in question_numbers(question):
        for const in _numbers(tree):
            if math.isclose(float(const.value), want, rel_tol=1e-9, abs_tol=1e-9):
                return "the expected answer is a literal in the code, not in the question"
    return None


class _Perturb(ast.NodeTransformer):
    """Each distinct question number gets its own offset, 7·2^i (the i-th distinct value met):
    a shared offset cancels out in sums like `42 - 9 + 5 - 12` (+7 four times changes nothing),
    and no signed sum of distinct powers of two is zero, so a program that adds and subtracts
    the question's numbers always sees its result move."""

    def __init__(self, numbers: set[float]) -> None:
        self.numbers = numbers
        self.changed = 0
        self.rank: dict[float, int] = {}

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        v = node.value
        if isinstance(v, int | float) and not isinstance(v, bool) and float(v) in self.numbers:
            self.changed += 1
            i = self.rank.setdefault(float(v), min(len(self.rank), 20))
            new: Any = v + 7 * 2**i if isinstance(v, int) else v * 1.5 + 0.25 * 2**i
            return ast.copy_location(ast.Constant(new), node)
        return node


def perturbed(code: str, question: str) -> str | None:
    """The program with every number of the question it uses changed; None if it uses none."""
    try:
        tree = ast.parse(code.removeprefix("\ufeff"))
    except (SyntaxError, ValueError):
        return None
    numbers = question_numbers(question)
    if not numbers:
        return None
    changer = _Perturb(numbers)
    tree = changer.visit(tree)
    if not changer.changed:
        return None
    return ast.unparse(ast.fix_missing_locations(tree))


async def flag_spurious(
    verdict: Verdict, code: str, spec: CheckSpec, run: Runner, config: VerifierSection
) -> Verdict:
    """`verdict` with `spurious` added to its flags when the pass is spurious."""
    if verdict.status != "pass" or spec.kind != "answer" or not config.spurious_check:
        return verdict
    reason = static_reason(code, spec.question, spec.answer or "", config.entry)
    if reason is None:
        source = perturbed(code, spec.question)
        if source is not None:
            again = make_verdict(await run(make_job(source, spec, config)), spec, 0.0)
            if again.returned is not None and again.returned == verdict.returned:
                reason = "the result does not change when the question's numbers do"
    if reason is None:
        return verdict
    # The detail stays the check's own; the flag says it (static_reason/perturbed tell why).
    return dataclasses.replace(verdict, flags=(*verdict.flags, "spurious"))
