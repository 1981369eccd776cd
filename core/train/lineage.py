"""Where a student's training data came from, recorded with every checkpoint.

The lineage names the teacher runs behind the gold (teacher, sampling parameters, prompt
versions), hand edits, the verifier configuration, the gold policy and the SFT set's hash, so a
checkpoint can always be traced back to the exact data it learned from. `core.evaluate.labels`
reads `method`, `teacher` and `prompt_id` from it to label evaluations. A run of several problem
kinds has several prompt versions (`run_prompts`): all of them are recorded, per run and overall;
`prompt_id` is set only when the gold came from exactly one version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from core.config import VerifierSection
from core.gold import GoldExample
from core.queries.candidates import candidate_runs
from core.queries.runs import runs_by_id, teacher_model
from core.store import Store


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
    gold_sources: Sequence[str] | None = None,
) -> dict[str, Any]:
    run_of = await candidate_runs(store, [g.candidate_id for g in gold])
    per_run = Counter(run_of.get(g.candidate_id) for g in gold)
    identities = await runs_by_id(store, sorted(r for r in per_run if r is not None))
    runs: list[dict[str, Any]] = [
        {
            "id": r.id,
            "name": r.name,
            "teacher": r.teacher,
            "sampling": r.params,
            "prompt_ids": {k: p.id for k, p in sorted(r.prompts.items())},
            "prompts": r.prompt_labels,
            "gold": per_run[r.id],
        }
        for r in identities
    ]
    teachers = sorted({teacher_model(r.teacher) for r in identities} - {""})
    prompts = sorted({label for r in identities for label in r.prompt_labels})
    prompt_ids = sorted({p.id for r in identities for p in r.prompts.values()})
    sources = Counter(g.source for g in gold)
    return {
        # ILF: refinements (source = refine) in the SFT set make it EKT + ILF
        "method": "ekt+ilf" if sources.get("refine") else "ekt-sft",
        "gold_sources": list(gold_sources) if gold_sources is not None else None,
        "base_model": base_model,
        "teacher": teachers[0] if len(teachers) == 1 else teachers,
        "prompt_id": prompt_ids[0] if len(prompt_ids) == 1 else None,
        "prompt_ids": prompt_ids,
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
