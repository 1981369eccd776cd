"""`ekt-tui [PROJECT]`: open a project (default: this folder if it holds ekt.toml, else the demo).

Only textual and core are imported here: no torch/transformers, so the first paint is fast.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from core import EktError, Project, ensure_demo_project, is_project
from core.project import DB_NAME
from core.store.db import unreadable
from core.version import ekt_version

USAGE = (
    "usage: ekt-tui [PROJECT]\n  PROJECT: a folder with ekt.toml (default: the current"
    " folder if it is one, else the demo project)\n  -V, --version  print the version"
)


def resolve_root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    here = Path.cwd()
    return here if is_project(here) else ensure_demo_project()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in {"-h", "--help"}:
        print(USAGE)
        return
    if args and args[0] in {"-V", "--version"}:
        print(f"ekt-tui {ekt_version()}")
        return
    if args and args[0].startswith("-"):
        print(f"ekt-tui: unknown option {args[0]}\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)
    from ekt_tui.app import EktApp

    root = Path(args[0]) if args else Path.cwd()
    try:
        root = resolve_root(args[0] if args else None)
        asyncio.run(_check(root))
    except EktError as exc:
        print(f"ekt-tui: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except sqlite3.DatabaseError as exc:  # corruption SQLite notices past the open checks
        print(f"ekt-tui: {unreadable(root / DB_NAME, exc)}", file=sys.stderr)
        raise SystemExit(1) from None
    EktApp(root).run()


async def _check(root: Path) -> None:
    """Open and close once, so a bad config or store is one line on stderr, not a screen."""
    project = await Project.open(root)
    await project.close()


if __name__ == "__main__":
    main()
