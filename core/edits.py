"""Human edits and gold decisions, shared by the TUI inspector and `ekt candidates`.

A hand edit is a new `edit` candidate linked to its parent (the parent is never changed), verified
in the sandbox at once so the person sees the verdict of exactly what they wrote.
"""

from __future__ import annotations

from typing import Any

from core.candidates import add_edit, set_gold_override
from core.errors import StoreError
from core.project import Project
from core.queries.candidates import candidate_gold, candidate_summary
from core.verify.service import VerifierService
from core.verify.verdict import Verdict


async def save_edit(project: Project, parent_id: int, code: str) -> tuple[int, Verdict]:
    """Store `code` as an edit of `parent_id` and verify it; (new candidate id, verdict)."""
    if not code.strip():
        raise StoreError(f"candidate {parent_id}: the edited program is empty")
    new_id = await add_edit(project.store, parent_id, code)
    async with VerifierService(project, workers=1) as vs:
        verdict = await vs.verify(new_id)
    return new_id, verdict


async def set_gold(project: Project, candidate_id: int, gold: bool | None) -> bool:
    """Make a candidate gold (True), not gold (False) or follow its verdict (None).

    Only records an override where the verdict alone would decide otherwise, so the store keeps
    the fewest human decisions. Returns whether the candidate is gold afterwards (by the one
    gold rule, read back from the store)."""
    row = await candidate_row(project, candidate_id)
    passes = row["v_status"] == "pass"
    value = None if gold is None or gold == passes else gold
    await set_gold_override(project.store, candidate_id, value)
    return bool(await candidate_gold(project.store, candidate_id))


async def toggle_gold(project: Project, candidate_id: int) -> bool:
    """Flip whether a candidate is gold; returns the new state. Unmarking a hand-approved one
    returns it to its verdict rather than forcing it out."""
    row = await candidate_row(project, candidate_id)
    passes = row["v_status"] == "pass"
    target = (False if passes else None) if row["gold"] else True
    return await set_gold(project, candidate_id, target)


async def candidate_row(project: Project, candidate_id: int) -> dict[str, Any]:
    """One candidate with its verdict columns (prefixed `v_`) and `gold`, or a StoreError."""
    row = await candidate_summary(project.store, candidate_id)
    if row is None:
        raise StoreError(f"candidate {candidate_id}: no such candidate in {project.db_path}")
    return row
