"""`ekt gold export`: gold as JSON lines (problem, prompt, code, source, verdict) and
optionally a Hugging Face dataset folder; files appear whole or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.errors import VerifyError
from core.gold.select import select_gold
from core.prompts import render_zero_shot
from core.queries.gold import verdict_details
from core.queries.problems import problems_by_ids
from core.store import Store


def _prompt_for(problem: Any) -> str:
    """The student's prompt for a problem (the zero-shot format training uses)."""
    return str(render_zero_shot(problem).text)


async def export_gold(
    store: Store,
    out: Path,
    *,
    policy: str = "all-distinct",
    k: int = 4,
    hf_dataset: Path | None = None,
) -> int:
    """Write gold as JSON lines (problem, prompt, code, source, verdict) and optionally as a
    Hugging Face dataset folder; files appear whole or not at all."""
    if hf_dataset is not None and hf_dataset.exists() and any(hf_dataset.iterdir()):
        raise VerifyError(f"{hf_dataset}: folder exists and is not empty (not overwritten)")
    examples = await select_gold(store, policy, k)
    problems = await problems_by_ids(store, sorted({e.problem_id for e in examples}))
    details = await verdict_details(store, [e.candidate_id for e in examples])
    rows = [
        {
            "problem": e.problem_id,
            "prompt": _prompt_for(problems[e.problem_id]),
            "code": e.code,
            "source": e.source,
            "verdict": e.status,
            "detail": details.get(e.candidate_id, ""),
            "candidate_id": e.candidate_id,
        }
        for e in examples
    ]
    _write_jsonl(out, rows)
    if hf_dataset is not None:
        _write_hf(hf_dataset, rows)
    return len(rows)


def _write_jsonl(out: Path, rows: list[dict[str, Any]]) -> None:
    tmp = out.with_name(out.name + ".tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise VerifyError(f"{out}: cannot write gold export: {exc.strerror or exc}") from None


def _write_hf(folder: Path, rows: list[dict[str, Any]]) -> None:
    import shutil

    from datasets import Dataset, disable_progress_bars  # heavy: only when asked for

    disable_progress_bars()
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    columns = ["problem", "prompt", "code", "source", "verdict", "detail", "candidate_id"]
    data = {c: [r[c] for r in rows] for c in columns}
    try:
        Dataset.from_dict(data).save_to_disk(str(tmp))
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise VerifyError(f"{folder}: cannot write dataset: {exc.strerror or exc}") from None
