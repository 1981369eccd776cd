"""The read model is the only way into the store: the TUI, the CLI and `ekt status` hold no SQL,
every SELECT lives in core/queries or core/store, and Rich stays in the CLI's rendering."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# SQL as it appears in code: a keyword followed by what makes it a statement (prose such as
# "select a problem" or "polls PRAGMA data_version" in a docstring is not code; docstrings are
# skipped anyway).
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bSELECT\s+(\d|\?|coalesce|count|max|min)"
    r"|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(TABLE|INDEX|VIEW|TRIGGER|UNIQUE)\b|\bPRAGMA\s+\w+",
)
SELECT = re.compile(r"\bSELECT\b")


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string literal that is not a docstring; the pieces of an f-string
    are joined so that SQL split by a placeholder still reads as SQL."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
            inside_fstring.update(id(v) for v in node.values)
            yield node.lineno, " {} ".join(str(p) for p in parts)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in inside_fstring
        ):
            yield node.lineno, node.value


def _files(*folders: str) -> list[Path]:
    out: list[Path] = []
    for f in folders:
        p = ROOT / f
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_tui_cli_and_status_contain_no_sql() -> None:
    offenders = [
        f"{_rel(p)}:{line}: {text.strip()[:60]!r}"
        for p in _files("ekt_tui", "core/cli", "core/status.py")
        for line, text in _literals(p)
        if SQL.search(text)
    ]
    assert offenders == []


def test_every_select_lives_in_the_store_or_the_read_model() -> None:
    offenders = [
        f"{_rel(p)}:{line}"
        for p in _files("core", "ekt_tui")
        if not _rel(p).startswith(("core/store/", "core/queries/"))
        for line, text in _literals(p)
        if SELECT.search(text)
    ]
    assert offenders == []


def test_rich_only_in_the_cli_within_core() -> None:
    offenders = []
    for p in _files("core"):
        if _rel(p).startswith("core/cli/"):
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "rich" or n.startswith("rich.") for n in names):
                offenders.append(_rel(p))
    assert offenders == []


def test_the_checks_see_sql_where_it_is() -> None:
    """The detectors are not vacuous: they find the SQL of the read model itself."""
    found = [t for p in _files("core/queries/runs.py") for _, t in _literals(p) if SQL.search(t)]
    assert len(found) >= 5
    assert not SQL.search("Select a problem from the list")
    assert SQL.search("PRAGMA data_version") and SQL.search("UPDATE runs SET status = ?")
