"""What an evaluation is of: model label, training method, teacher, prompt — for the table.

A checkpoint written by `ekt train` carries its lineage (teacher, prompt, method) in the
`checkpoints` table, found by its path; anything else is a base model evaluated few-shot (or
zero-shot). Teacher names are normalised the same way for a teacher evaluation and for a
student's lineage, so "student beats its teacher" can match them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import EktError
from core.queries.evals import checkpoint_records
from core.store import Store


@dataclass(frozen=True, slots=True)
class Lineage:
    """A checkpoint's origin as recorded by training."""

    model: str  # label shown in the table, e.g. "sft-1@step40"
    method: str
    teacher: str
    prompt_id: int | None
    checkpoint_id: int


def teacher_label(model: str) -> str:
    """A teacher's display name: a local model spec becomes its model name ("smollm2" →
    "SmolLM2-135M-Instruct"); an API model name stays as it is."""
    from core.models import resolve_model

    model = (model or "").strip()
    if not model:
        return ""
    try:
        return resolve_model(model).name
    except EktError:
        return model


def _teacher_from(lineage: dict[str, Any]) -> str:
    teacher = lineage.get("teacher") or ""
    if isinstance(teacher, dict):  # a run's teacher JSON: {"backend": ..., "model": ...}
        teacher = teacher.get("model") or ""
    if isinstance(teacher, list):  # gold from several runs: name them all
        return " + ".join(sorted({teacher_label(str(t)) for t in teacher if t}))
    return teacher_label(str(teacher))


async def checkpoint_lineage(store: Store, path: Path) -> Lineage | None:
    """The lineage of the checkpoint stored at `path` (a folder written by `ekt train`)."""
    resolved = str(path.resolve())
    for r in await checkpoint_records(store):
        stored = Path(r.path)
        if str(stored) != resolved and str(stored.resolve()) != resolved:
            continue
        lineage = r.lineage
        prompt_id = lineage.get("prompt_id")
        return Lineage(
            model=f"{r.run_name}@step{r.step}",
            method=str(lineage.get("method") or "ekt-sft"),
            teacher=_teacher_from(lineage),
            prompt_id=int(prompt_id) if isinstance(prompt_id, int) else None,
            checkpoint_id=r.id,
        )
    return None
