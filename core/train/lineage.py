"""Where a student's training data came from, recorded with every checkpoint.

The lineage names the teacher runs behind the gold (teacher, sampling parameters, prompt
versions), hand edits, the verifier configuration, the gold policy and the SFT set's hash, so a
checkpoint can always be traced back to the exact data it learned from. `core.evaluate.labels`
reads `method`, `teacher` and `prompt_id` from it to label evaluations.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from core.config import VerifierSection
from core.store import Store
from core.verify.gold import GoldExample


async def gold_lineage(
    store: Store,
    gold: Sequence[GoldExample],
    *,
    policy: str,
    k: int,
    sft_hash: str,
    verifier: VerifierSection,
    base_model: str,
    dev_ids: Sequence[str],
) -> dict[str, Any]:
    ids = [g.candidate_id for g in gold]
    run_of: dict[int, int | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = await store.fetchall(
            f"SELECT id, run_id FROM candidates WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        run_of.update({r[0]: r[1] for r in rows})
    per_run = Counter(run_of.get(i) for i in ids)
    run_ids = sorted(r for r in per_run if r is not None)
    runs: list[dict[str, Any]] = []
    if run_ids:
        rows = await store.fetchall(
            "SELECT r.id, r.name, r.teacher, r.params, r.prompt_id, p.name AS pname, p.version"
            " FROM runs r LEFT JOIN prompts p ON p.id = r.prompt_id"
            f" WHERE r.id IN ({','.join('?' * len(run_ids))}) ORDER BY r.id",
            run_ids,
        )
        for r in rows:
            runs.append(
                {
                    "id": r["id"],
                    "name": r["name"],
                    "teacher": json.loads(r["teacher"] or "{}"),
                    "sampling": json.loads(r["params"] or "{}"),
                    "prompt_id": r["prompt_id"],
                    "prompt": f"{r['pname']}@v{r['version']}" if r["pname"] else None,
                    "gold": per_run[r["id"]],
                }
            )
    teachers = sorted({_teacher_model(r["teacher"]) for r in runs} - {""})
    prompts = sorted({r["prompt"] for r in runs if r["prompt"]})
    prompt_ids = [r["prompt_id"] for r in runs if r["prompt_id"] is not None]
    sources = Counter(g.source for g in gold)
    return {
        "method": "ekt-sft",
        "base_model": base_model,
        "teacher": teachers[0] if len(teachers) == 1 else teachers,
        "prompt_id": prompt_ids[0] if prompt_ids else None,
        "prompts": prompts,
        "runs": runs,
        "sources": dict(sorted(sources.items())),
        "hand_approved": sum(g.status == "override" for g in gold),
        "verifier": verifier.model_dump(),
        "gold_policy": policy,
        "max_per_problem": k if policy == "max-per-problem" else None,
        "sft_hash": sft_hash,
        "sft_examples": len(gold),
        "sft_problems": len({g.problem_id for g in gold}),
        "dev_problems": list(dev_ids),
    }


def _teacher_model(teacher: dict[str, Any]) -> str:
    """The model named in a run's teacher JSON (`{"description", "config": {...}}`, or flat)."""
    config = teacher.get("config") if isinstance(teacher.get("config"), dict) else teacher
    return str(config.get("model") or "")
