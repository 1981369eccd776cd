"""Human edits, shared by the TUI inspector and `ekt candidates` (gold marks: core.gold).

A hand edit is a new `edit` candidate linked to its parent (the parent is never changed), verified
in the sandbox at once so the person sees the verdict of exactly what they wrote.
"""

from __future__ import annotations

from core.candidates import NewCandidate, add_edit, insert_candidates
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
