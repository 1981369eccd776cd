"""A bare app hosting one ekt screen over a seeded project, for screen-level snapshot tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from core import Project


class SnapApp(App[None]):
    """Opens the project on its own loop (the store belongs to the loop that opened it), then
    pushes `make_screen(project)`. The class name is the title in the stored snapshots."""

    def __init__(self, root: Path, make_screen: Callable[[Project], Screen[Any]]) -> None:
        super().__init__()
        self.root = root
        self.make_screen = make_screen
        self.project: Project | None = None

    async def on_mount(self) -> None:
        self.project = await Project.open(self.root)
        await self.push_screen(self.make_screen(self.project))

    async def on_unmount(self) -> None:
        if self.project is not None:
            await self.project.close()
