"""Writes the inspector makes, through core (the same calls as `ekt candidates edit/gold`)."""

from __future__ import annotations

from typing import Any

from core import Project
from core.edits import save_edit
from core.gold import toggle_gold as _toggle_gold

__all__ = ["save_edit", "toggle_gold"]


async def toggle_gold(project: Project, candidate: dict[str, Any]) -> bool:
    """Flip whether a candidate is gold; returns the new state. Unmarking a hand-approved one
    returns it to its verdict rather than forcing it out."""
    return await _toggle_gold(project, candidate["id"])
