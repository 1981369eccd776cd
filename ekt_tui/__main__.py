"""`ekt-tui [PROJECT]`: open a project (default: this folder if it holds ekt.toml, else the demo).

Only textual and core are imported here: no torch/transformers, so the first paint is fast.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core import EktError, Project, ensure_demo_project, is_project


def resolve_root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    here = Path.cwd()
    return here if is_project(here) else ensure_demo_project()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in {"-h", "--help"}:
        print(
            "usage: ekt-tui [PROJECT]\n  PROJECT: a folder with ekt.toml (default: the current"
            " folder if it is one, else the demo project)"
        )
        return
    from ekt_tui.app import EktApp

    try:
        root = resolve_root(args[0] if args else None)
        asyncio.run(_check(root))
    except EktError as exc:
        print(f"ekt-tui: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    EktApp(root).run()


async def _check(root: Path) -> None:
    """Open and close once, so a bad config or store is one line on stderr, not a screen."""
    project = await Project.open(root)
    await project.close()


if __name__ == "__main__":
    main()
