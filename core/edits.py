"""Human edits and gold decisions, shared by the TUI inspector and `ekt candidates`.

A hand edit is a new `edit` candidate linked to its parent (the parent is never changed), verified
in the sandbox at once so the person sees the verdict of exactly what they wrote.
"""

from __future__ import annotations

from typing import Any

from core.candidates import NewCandidate, add_edit, insert_candidates, set_gold_override
from core.errors import StoreError
from core.project import Project
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


async def save_new(project: Project, problem_id: str, code: str) -> tuple[int, Verdict]:
    """Store a solution written from scratch (an `edit` with no parent) and verify it."""
    if not code.strip():
        raise StoreError(f"{problem_id}: the program is empty")
    [new_id] = await insert_candidates(project.store, [NewCandidate(problem_id, "edit", code)])
    async with VerifierService(project, workers=1) as vs:
        verdict = await vs.verify(new_id)
    return new_id, verdict


def is_gold(verdict_status: str | None, override: int | None) -> bool:
    """The gold rule of the `gold_candidates` view, for one candidate already in memory."""
    return override == 1 or (override is None and verdict_status == "pass")


async def set_gold(project: Project, candidate_id: int, gold: bool | None) -> bool:
    """Make a candidate gold (True), not gold (False) or follow its verdict (None).

    Only records an override where the verdict alone would decide otherwise, so the store keeps
    the fewest human decisions. Returns whether the candidate is gold afterwards."""
    row = await candidate_row(project, candidate_id)
    passes = row["v_status"] == "pass"
    value = None if gold is None or gold == passes else gold
    await set_gold_override(project.store, candidate_id, value)
    return is_gold(row["v_status"], None if value is None else int(value))


async def candidate_row(project: Project, candidate_id: int) -> Any:
    """One candidate with its verdict columns (prefixed `v_`), or a StoreError naming it."""
    row = await project.store.fetchone(
        "SELECT c.*, v.status AS v_status, v.detail AS v_detail, v.duration_s AS v_duration_s"
        " FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE c.id = ?",
        (candidate_id,),
    )
    if row is None:
        raise StoreError(f"candidate {candidate_id}: no such candidate in {project.db_path}")
    return row
