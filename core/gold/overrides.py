"""Human gold decisions: force a candidate into or out of gold, or back to its verdict. The
override is one column (`candidates.gold_override`) that the gold rule reads."""

from __future__ import annotations

from typing import Any

from core.candidates import set_gold_override
from core.errors import StoreError
from core.project import Project
from core.queries.candidates import candidate_gold, candidate_summary, verdict_gold


async def set_gold(project: Project, candidate_id: int, gold: bool | None) -> bool:
    """Make a candidate gold (True), not gold (False) or follow its verdict (None).

    Only records an override where the verdict alone would decide otherwise, so the store keeps
    the fewest human decisions. Returns whether the candidate is gold afterwards (by the one
    gold rule, read back from the store)."""
    await candidate_row(project, candidate_id)
    by_verdict = await verdict_gold(project.store, candidate_id)
    value = None if gold is None or gold == by_verdict else gold
    await set_gold_override(project.store, candidate_id, value)
    return bool(await candidate_gold(project.store, candidate_id))


async def toggle_gold(project: Project, candidate_id: int) -> bool:
    """Flip whether a candidate is gold; returns the new state. Unmarking a hand-approved one
    returns it to its verdict rather than forcing it out."""
    row = await candidate_row(project, candidate_id)
    by_verdict = await verdict_gold(project.store, candidate_id)
    target = (False if by_verdict else None) if row["gold"] else True
    return await set_gold(project, candidate_id, target)


async def candidate_row(project: Project, candidate_id: int) -> dict[str, Any]:
    """One candidate with its verdict columns (prefixed `v_`) and `gold`, or a StoreError."""
    row = await candidate_summary(project.store, candidate_id)
    if row is None:
        raise StoreError(f"candidate {candidate_id}: no such candidate in {project.db_path}")
    return row
