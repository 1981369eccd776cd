"""Gold: the passing (or hand-approved) candidates training learns from, chosen by a policy.

Gold is never stored twice: it is the `gold_candidates` view (verdict pass unless overridden
off, or overridden on) filtered by a policy here: `first` (one per problem), `all-distinct`
(every distinct normalised program) or `max-per-problem` (up to K distinct ones).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import VerifyError
from core.store import Store

POLICIES = ("first", "all-distinct", "max-per-problem")


@dataclass(frozen=True, slots=True)
class GoldExample:
    problem_id: str
    candidate_id: int
    code: str
    source: str
    status: str  # the verdict status, or "override" for a hand-approved candidate


async def select_gold(
    store: Store, policy: str = "all-distinct", k: int = 4, problem_ids: Sequence[str] | None = None
) -> list[GoldExample]:
    """Gold examples in problem import order, lowest candidate id first within a problem."""
    if policy not in POLICIES:
        raise VerifyError(f"unknown gold policy {policy!r} (expected one of {', '.join(POLICIES)})")
    if policy == "max-per-problem" and k < 1:
        raise VerifyError(f"max-per-problem needs K >= 1, got {k}")
    limit = 1 if policy == "first" else k if policy == "max-per-problem" else None
    sql = (
        "SELECT g.id, g.problem_id, g.code, g.code_hash, g.source, g.verdict_status,"
        " g.gold_override FROM gold_candidates g JOIN problems p ON p.id = g.problem_id"
    )
    params: list[Any] = []
    if problem_ids is not None:
        if not problem_ids:
            return []
        sql += f" WHERE g.problem_id IN ({','.join('?' * len(problem_ids))})"
        params = list(problem_ids)
    rows = await store.fetchall(sql + " ORDER BY p.seq, g.id", params)
    out: list[GoldExample] = []
    seen: set[tuple[str, str]] = set()
    per_problem: dict[str, int] = {}
    for r in rows:
        key = (r["problem_id"], r["code_hash"])
        if key in seen or (limit is not None and per_problem.get(r["problem_id"], 0) >= limit):
            continue
        seen.add(key)
        per_problem[r["problem_id"]] = per_problem.get(r["problem_id"], 0) + 1
        status = "override" if r["gold_override"] == 1 else r["verdict_status"]
        out.append(GoldExample(r["problem_id"], r["id"], r["code"], r["source"], status))
    return out


def _prompt_for(problem: Any) -> str:
    """The student's prompt for a problem (zero-shot format when the prompts module is there)."""
    try:
        from core.prompts import render_zero_shot  # type: ignore[attr-defined]
    except ImportError:
        return str(problem["prompt"] or problem["question"])
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
    pids = sorted({e.problem_id for e in examples})
    problems: dict[str, Any] = {}
    for start in range(0, len(pids), 500):
        chunk = pids[start : start + 500]
        sql = f"SELECT * FROM problems WHERE id IN ({','.join('?' * len(chunk))})"
        problems.update({r["id"]: r for r in await store.fetchall(sql, chunk)})
    ids = [e.candidate_id for e in examples]
    details: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT candidate_id, detail FROM verdicts WHERE candidate_id IN ({marks})"
        details.update({r[0]: r[1] for r in await store.fetchall(sql, chunk)})
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
