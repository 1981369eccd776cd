"""Split test asserts into what runs in the candidate and what is compared outside it.

A test of a known shape (`assert CALL == EXPR`, `!=`, `is None/True/False`, `math.isclose(CALL,
EXPR, ...)`, `abs(CALL - EXPR) < TOL`, `assert CALL`, `assert not CALL`) becomes a `Probe`: only
CALL is evaluated in the candidate's process (its value comes back in the strict encoding of
`values`), EXPR is evaluated outside (a literal here, anything else in a clean sandboxed child
that never saw the candidate), and the engine compares. Tests of other shapes still run inside
the candidate's interpreter, and the verdict says so (`trusted_harness: false`).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from core.verify import values

SAFE_NAMES = frozenset(
    {
        "set", "sorted", "list", "tuple", "dict", "frozenset", "abs", "round", "float", "int",
        "str", "len", "range", "sum", "min", "max", "bool", "math", "complex", "reversed", "zip",
        "map", "enumerate", "any", "all", "chr", "ord", "bytes", "pow", "divmod", "inf", "nan",
    }
)  # fmt: skip
"""Free names an EXPR side may use: evaluated in a clean interpreter (with `math` imported),
they mean what Python means by them, whatever the candidate redefined."""

LITERAL_WRAPPERS = {"set": set, "sorted": sorted, "list": list, "tuple": tuple, "frozenset": set}


@dataclass(frozen=True, slots=True)
class Probe:
    """One trusted test: `call` runs in the candidate (or outside when it names nothing of
    the candidate's), `outside` maps each operand name to an expression evaluated outside."""

    op: str  # eq | ne | is | truthy | isclose | absdiff
    source: str  # the test as written (for the detail)
    call: str
    call_outside: bool = False
    outside: dict[str, str] = field(default_factory=dict)
    strict: bool = True  # absdiff: `<` (True) or `<=`


@dataclass(frozen=True, slots=True)
class Plan:
    """How a problem's tests are checked: probes first (in test order), then untrusted tests."""

    probes: list[tuple[int, Probe]]  # (test index, probe)
    untrusted: list[tuple[int, str]]  # (test index, source) run in the candidate's process
    total: int

    @property
    def trusted(self) -> bool:
        return not self.untrusted

    def outside_exprs(self) -> list[str]:
        exprs: list[str] = []
        for _, p in self.probes:
            if p.call_outside:
                exprs.append(p.call)
            exprs.extend(p.outside.values())
        return list(dict.fromkeys(exprs))


def _free_names(node: ast.AST) -> set[str]:
    bound: set[str] = set()
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.comprehension):
            for t in ast.walk(sub.target):
                if isinstance(t, ast.Name):
                    bound.add(t.id)
        elif isinstance(sub, ast.Lambda):
            bound.update(a.arg for a in sub.args.args)
        elif isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            names.add("<impure>")
    return names - bound


def _is_outside(node: ast.AST, candidate_names: frozenset[str] | None) -> bool:
    free = _free_names(node)
    if candidate_names is None:  # asserts: anything not plainly Python is the candidate's
        return free <= SAFE_NAMES
    return not (free & candidate_names) and free <= SAFE_NAMES


def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def probe_of(test: str, candidate_names: frozenset[str] | None = None) -> Probe | None:
    """The probe for one `assert` statement, or None when it does not fit a known shape."""
    try:
        tree = ast.parse(test.strip())
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    return _probe_of_assert(tree.body[0], test.strip(), candidate_names)


def _probe_of_assert(stmt: ast.Assert, source: str, names: frozenset[str] | None) -> Probe | None:
    node = stmt.test

    def outside(n: ast.AST) -> bool:
        return _is_outside(n, names)

    def in_candidate(n: ast.AST) -> bool:
        """Asserts name no candidate function explicitly: only a literal side is surely not
        the candidate's (MBPP has a task whose function is called `sum`)."""
        if names is None:
            return not shapes_literal(n)
        return not outside(n)

    def pair(op: str, a: ast.expr, b: ast.expr, **extra: Any) -> Probe | None:
        if shapes_literal(b) or (outside(b) and in_candidate(a)):
            call, want = a, b
        elif shapes_literal(a) or (outside(a) and in_candidate(b)):
            call, want = b, a
        elif outside(b):
            call, want = a, b
        else:
            return None
        return Probe(op, source, _src(call), not in_candidate(call), {"want": _src(want)}, **extra)

    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(op, ast.Eq):
            return pair("eq", left, right)
        if isinstance(op, ast.NotEq):
            return pair("ne", left, right)
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant):
            return pair("is", left, right)
        if isinstance(op, ast.Lt | ast.LtE) and _is_abs_diff(left) and outside(right):
            assert isinstance(left, ast.Call) and isinstance(left.args[0], ast.BinOp)
            probe = pair(
                "absdiff", left.args[0].left, left.args[0].right, strict=isinstance(op, ast.Lt)
            )
            if probe is None:
                return None
            return Probe(
                probe.op, source, probe.call, probe.call_outside,
                {**probe.outside, "tol": _src(right)}, probe.strict,
            )  # fmt: skip
        return None
    if (
        isinstance(node, ast.Call)
        and _dotted(node.func) == "math.isclose"
        and len(node.args) == 2
        and all(k.arg in ("rel_tol", "abs_tol") and outside(k.value) for k in node.keywords)
    ):
        probe = pair("isclose", node.args[0], node.args[1])
        if probe is None:
            return None
        kw = {str(k.arg): _src(k.value) for k in node.keywords}
        return Probe(probe.op, source, probe.call, probe.call_outside, {**probe.outside, **kw})
    # Truthiness is the candidate's own word about its own object (`not` cannot be patched):
    # evaluated there, sent back as a plain bool.
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return Probe("truthy", source, f"not ({_src(node.operand)})", not in_candidate(node))
    if isinstance(node, ast.Call | ast.Name | ast.Attribute | ast.Subscript | ast.Constant):
        return Probe("truthy", source, f"not not ({_src(node)})", not in_candidate(node))
    return None


def shapes_literal(node: ast.AST) -> bool:
    return literal_value(_src(node))[0]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_abs_diff(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _dotted(node.func) in ("abs", "math.fabs")
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Sub)
    )


def plan_asserts(tests: list[str]) -> Plan:
    probes: list[tuple[int, Probe]] = []
    untrusted: list[tuple[int, str]] = []
    for i, test in enumerate(tests):
        probe = probe_of(test)
        if probe is None:
            untrusted.append((i, test))
        else:
            probes.append((i, probe))
    return Plan(probes, untrusted, len(tests))


def plan_check(test_code: str) -> Plan | None:
    """A HumanEval `check(candidate)` as probes when every statement of its body fits (module
    level may only hold constants and imports besides it); None otherwise."""
    try:
        tree = ast.parse(test_code)
    except (SyntaxError, ValueError):
        return None
    check: ast.FunctionDef | None = None
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "check":
            check = stmt
        elif isinstance(stmt, ast.Import | ast.ImportFrom | ast.Expr) or (
            isinstance(stmt, ast.Assign) and _is_literal(stmt.value)
        ):
            continue
        else:
            return None
    if check is None or len(check.args.args) != 1:
        return None
    arg = check.args.args[0].arg
    probes: list[tuple[int, Probe]] = []
    for stmt in check.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring or bare string
        if isinstance(stmt, ast.Import) and all(
            a.name == "math" and not a.asname for a in stmt.names
        ):
            continue
        if not isinstance(stmt, ast.Assert):
            return None
        probe = _probe_of_assert(stmt, _src(stmt), frozenset({arg}))
        if probe is None:
            return None
        if arg != "candidate":
            return None
        probes.append((len(probes), probe))
    if not probes:
        return None
    return Plan(probes, [], len(probes))


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def literal_value(expr: str) -> tuple[bool, Any]:
    """(True, value) when `expr` is a literal, possibly inside set()/sorted()/list()/tuple();
    the value is computed here, in the engine, from plain data."""
    try:
        node = ast.parse(expr, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False, None
    wrappers: list[Any] = []
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in LITERAL_WRAPPERS
        and len(node.args) == 1
        and not node.keywords
    ):
        wrappers.append(LITERAL_WRAPPERS[node.func.id])
        node = node.args[0]
    if isinstance(node, ast.Name) and node.id in ("inf", "nan"):
        return False, None
    if isinstance(node, ast.Attribute) and _dotted(node) in ("math.pi", "math.e", "math.inf"):
        value: Any = {"math.pi": math.pi, "math.e": math.e, "math.inf": math.inf}[_dotted(node)]
    else:
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False, None
    try:
        for wrap in reversed(wrappers):
            value = wrap(value)
    except TypeError:
        return False, None
    return True, value


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: tuple[str, str] | None = None  # (type, message) when the comparison itself raised
    got: str = ""


def compare(probe: Probe, got: Any, want: dict[str, Any]) -> Outcome:
    """Run the probe's comparison here, on decoded values only."""
    shown = values.show(got)
    op = probe.op
    if isinstance(got, values.Opaque) and op != "ne":
        return Outcome(False, got=shown)
    try:
        if op == "eq":
            ok = bool(got == want["want"])
        elif op == "ne":
            ok = not isinstance(got, values.Opaque) and bool(got != want["want"])
        elif op == "is":
            ok = got is want["want"] or (
                type(got) is type(want["want"])
                and got == want["want"]
                and want["want"] in (None, True, False)
            )
        elif op == "truthy":
            ok = got is True
        elif op == "isclose":
            kw = {k: want[k] for k in ("rel_tol", "abs_tol") if k in want}
            ok = math.isclose(_num(got), _num(want["want"]), **kw)
        elif op == "absdiff":
            diff = abs(_num(got) - _num(want["want"]))
            ok = diff < _num(want["tol"]) if probe.strict else diff <= _num(want["tol"])
        else:
            return Outcome(False, ("ProbeError", f"unknown comparison {op}"), shown)
    except (TypeError, ValueError, OverflowError) as exc:
        return Outcome(False, (type(exc).__name__, str(exc)), shown)
    return Outcome(ok, got=shown)


def _num(v: Any) -> Any:
    if type(v) in (int, float, complex, bool) or isinstance(v, values.Fraction | values.Decimal):
        return v
    raise TypeError(f"{type(v).__name__} is not a number")
