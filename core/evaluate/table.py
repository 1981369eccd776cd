"""The comparison table: few-shot student vs EKT student vs teacher, the shape of the EKT paper.

One row per (model, method, teacher, prompt version, split) — the latest finished evaluation
wins, so re-running an evaluation replaces its row instead of duplicating it. Split is part of
the key because numbers on different splits are not comparable. A student row is flagged when
its pass@1 beats the evaluation of its own teacher on the same split.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.evaluate.passk import Estimate
from core.queries.evals import list_evals
from core.store import Store

METHOD_ORDER = {"zero-shot": 0, "few-shot": 1, "kd": 2, "expert-iteration": 3, "ekt-sft": 4,
                "ekt+ilf": 4.5, "teacher": 5}  # the seeds' table: baselines, then EKT, its teacher


@dataclass(frozen=True, slots=True)
class TableRow:
    eval_id: int
    name: str
    model: str
    method: str
    teacher: str
    prompt: str
    split: str
    problems: int
    samples: int
    created_at: float
    pass_at: dict[int, Estimate] = field(default_factory=dict)
    teacher_pass1: float | None = None

    @property
    def pass1(self) -> float | None:
        est = self.pass_at.get(1)
        return None if est is None else est.value

    @property
    def beats_teacher(self) -> bool:
        return (
            self.method != "teacher"
            and self.teacher_pass1 is not None
            and self.pass1 is not None
            and self.pass1 > self.teacher_pass1
        )

    @property
    def date(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.created_at))


def prompt_label(name: str | None, version: int | None) -> str:
    return "zero-shot" if name is None else f"{name}@v{version}"


async def comparison_rows(store: Store) -> list[TableRow]:
    """Finished evaluations, one per key, ordered split → method (paper order) → model."""
    latest: dict[tuple[str, ...], TableRow] = {}
    for r in await list_evals(store, done_only=True):
        results = r.results
        row = TableRow(
            eval_id=r.id,
            name=r.name,
            model=r.model,
            method=r.method,
            teacher=r.teacher,
            prompt=prompt_label(r.prompt_name, r.prompt_version),
            split=r.split,
            problems=int(results.get("problems", 0)),
            samples=int(results.get("samples", 0)),
            created_at=r.created_at,
            pass_at={
                int(k): Estimate(float(v["value"]), float(v["lo"]), float(v["hi"]))
                for k, v in results.get("pass_at_k", {}).items()
            },
        )
        latest[(row.model, row.method, row.teacher, row.prompt, row.split)] = row
    return _with_teacher_scores(list(latest.values()))


def _with_teacher_scores(rows: list[TableRow]) -> list[TableRow]:
    teachers = {(r.split, r.model): r.pass1 for r in rows if r.method == "teacher"}
    out = [
        TableRow(**{**_fields(r), "teacher_pass1": teachers.get((r.split, r.teacher))})
        if r.method != "teacher" and r.teacher
        else r
        for r in rows
    ]
    return sorted(out, key=lambda r: (r.split, METHOD_ORDER.get(r.method, 9), r.model, r.eval_id))


def _fields(r: TableRow) -> dict[str, object]:
    return {name: getattr(r, name) for name in TableRow.__dataclass_fields__}


def table_ks(rows: Sequence[TableRow]) -> list[int]:
    return sorted({k for r in rows for k in r.pass_at})


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _cell(est: Estimate | None) -> str:
    if est is None:
        return "—"
    return f"{_pct(est.value)} ({_pct(est.lo)}–{_pct(est.hi)})"


HEADERS = ("model", "method", "teacher", "prompt", "split")


def render_markdown(rows: Sequence[TableRow]) -> str:
    """A GitHub-flavoured Markdown table; pass@k in percent with the 95% interval."""
    ks = table_ks(rows)
    head = [*HEADERS, *(f"pass@{k} %" for k in ks), "problems", "date", "vs teacher"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        cells = [r.model, r.method, r.teacher or "—", r.prompt, r.split or "—"]
        cells += [_cell(r.pass_at.get(k)) for k in ks]
        cells += [str(r.problems), r.date, _versus(r)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _versus(r: TableRow) -> str:
    if r.teacher_pass1 is None or r.pass1 is None:
        return ""
    delta = 100 * (r.pass1 - r.teacher_pass1)
    return f"{'beats teacher ' if r.beats_teacher else ''}{delta:+.1f} pts"


def render_csv(rows: Sequence[TableRow]) -> str:
    """One line per row; pass@k as fractions with separate lo/hi columns, for spreadsheets."""
    ks = table_ks(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    head: list[str] = [*HEADERS]
    for k in ks:
        head += [f"pass@{k}", f"pass@{k}_lo", f"pass@{k}_hi"]
    head += ["problems", "samples", "date", "beats_teacher", "teacher_pass@1", "eval"]
    writer.writerow(head)
    for r in rows:
        line: list[object] = [r.model, r.method, r.teacher, r.prompt, r.split]
        for k in ks:
            est = r.pass_at.get(k)
            line += ["", "", ""] if est is None else [
                f"{est.value:.4f}", f"{est.lo:.4f}", f"{est.hi:.4f}"
            ]  # fmt: skip
        line += [
            r.problems,
            r.samples,
            r.date,
            int(r.beats_teacher),
            "" if r.teacher_pass1 is None else f"{r.teacher_pass1:.4f}",
            r.name,
        ]
        writer.writerow(line)
    return buf.getvalue()
