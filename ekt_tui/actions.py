"""Writes the inspector makes, through core: a hand edit (verified at once) and gold overrides."""

from __future__ import annotations

from typing import Any

from core import Project
from core.candidates import add_edit, set_gold_override
from core.verify.service import VerifierService


async def save_edit(project: Project, parent_id: int, code: str) -> tuple[int, Any]:
    """Store `code` as an edit of `parent_id`, verify it in the sandbox; (new id, Verdict)."""
    new_id = await add_edit(project.store, parent_id, code)
    async with VerifierService(project, workers=1) as vs:
        verdict = await vs.verify(new_id)
    return new_id, verdict


async def toggle_gold(project: Project, candidate: dict[str, Any]) -> bool:
    """Flip whether a candidate is gold; returns the new state. A human override only where the
    verdict alone would say otherwise, so unmarking a forced one returns it to its verdict."""
    passes = candidate.get("v_status") == "pass"
    override = candidate.get("gold_override")
    gold = override == 1 or (override is None and passes)
    value = (False if passes else None) if gold else (None if passes else True)
    await set_gold_override(project.store, candidate["id"], value)
    return not gold
