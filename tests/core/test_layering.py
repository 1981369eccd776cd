"""The engine must stay free of the UI, and heavy ML imports stay in their subprocesses."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_under_core_imports_textual() -> None:
    offenders = [p for p in CORE.rglob("*.py") if "textual" in _imports(p)]
    assert offenders == []


def test_importing_core_and_cli_pulls_no_textual_torch_or_transformers() -> None:
    code = (
        "import sys, core, core.cli; "
        "bad = [m for m in ('textual', 'torch', 'transformers') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
