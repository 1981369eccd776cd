"""`ekt import`: read a source, turn every selected row into a problem, write them in one go.

All-or-nothing: every row is converted before the store is touched, and the write is one
transaction, so a malformed row (without --skip-bad) leaves the store exactly as it was.
Re-importing is idempotent: ids are stable and an id already stored is never rewritten (a
source whose content changed under the same id is reported, not silently merged).
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.datasets.formats import (
    FORMATS,
    BadRow,
    FieldMap,
    NewProblem,
    from_gsm8k,
    from_humaneval,
    from_mapped,
    from_mbpp,
)
from core.datasets.sources import (
    RawRow,
    is_local,
    read_hub,
    read_local,
    split_from_name,
    strip_split,
)
from core.errors import DatasetError
from core.queries.problems import last_problem_seq, stored_problem_contents
from core.store.db import Store

_CHUNK = 500  # ids per `IN (…)` query, well under SQLite's parameter limit
_HUB_SUBSETS = {"gsm8k": "main", "openai/gsm8k": "main"}
_INSERT = (
    "INSERT INTO problems(id, seq, dataset, split, kind, question, answer, tests, setup,"
    " entry_point, prompt, meta, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(id) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    format: str
    split: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    skip_bad: bool = False
    dataset: str | None = None
    subset: str | None = None
    fields: FieldMap = field(default_factory=FieldMap)
    split_preset: str | None = None  # SPLIT_PRESETS: a paper's splits by task id


@dataclass(slots=True)
class ImportReport:
    source: str
    format: str
    dataset: str
    rows: int = 0
    inserted: int = 0
    existing: int = 0
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        splits = ", ".join(f"{k or '-'} {v}" for k, v in sorted(self.splits.items()))
        return (
            f"imported {self.inserted} new problems from {self.source} ({self.format}, dataset "
            f"{self.dataset}, split {splits}) in {self.seconds:.2f} s; {self.existing} already "
            f"present, {len(self.skipped)} bad rows skipped"
        )


def _mbpp_split(task_id: Any) -> str:
    """The MBPP paper's fixed ranges: 1-10 prompt, 11-510 test, 511-600 validation, rest train."""
    try:
        n = int(task_id)
    except (TypeError, ValueError):
        return "train"
    return "prompt" if n <= 10 else "test" if n <= 510 else "validation" if n <= 600 else "train"


def _ilf_split(task_id: Any) -> str:
    """ILF's MBPP splits (seed 002): refine 111-310, train 311-974, test 11-110, 1-10 prompt."""
    try:
        n = int(task_id)
    except (TypeError, ValueError):
        return "train"
    return "prompt" if n <= 10 else "test" if n <= 110 else "refine" if n <= 310 else "train"


SPLIT_PRESETS = {"ilf": _ilf_split}


def _default_dataset(source: str, fmt: str, local: bool) -> str:
    if fmt in {"gsm8k", "mbpp", "humaneval"}:
        return fmt
    if not local:
        return source.rstrip("/").rsplit("/", 1)[-1].lower()
    path = Path(source).expanduser()
    return (strip_split(path.stem) or path.resolve().parent.name or "data").lower()


def _validate_options(opts: ImportOptions) -> None:
    if opts.format not in FORMATS:
        raise DatasetError(f"unknown format {opts.format!r} (expected {', '.join(FORMATS)})")
    mapped = opts.format in {"jsonl", "csv"}
    f = opts.fields
    if not mapped and (f != FieldMap()):
        raise DatasetError(f"--*-field flags apply to jsonl/csv, not to --format {opts.format}")
    if mapped and f.answer and f.tests:
        raise DatasetError("give --answer-field or --tests-field, not both")
    if opts.split_preset is not None:
        if opts.split_preset not in SPLIT_PRESETS:
            known = ", ".join(SPLIT_PRESETS)
            raise DatasetError(f"unknown split preset {opts.split_preset!r} (expected {known})")
        if opts.format != "mbpp":
            raise DatasetError(f"--split-preset {opts.split_preset} applies to --format mbpp")
        if opts.split:
            raise DatasetError("give --split or --split-preset, not both")
    for name, value in (("--limit", opts.limit), ("--sample", opts.sample)):
        if value is not None and value < 1:
            raise DatasetError(f"{name} must be at least 1, got {value}")


def _read(source: str, opts: ImportOptions) -> tuple[list[RawRow], bool]:
    local = is_local(source)
    if local:
        rows = list(read_local(Path(source).expanduser(), opts.limit))
    else:
        subset = opts.subset or _HUB_SUBSETS.get(source.lower())
        rows = list(read_hub(source, subset, opts.split, opts.limit))
    return rows, local


def _pick_mapping(opts: ImportOptions, rows: list[RawRow]) -> FieldMap:
    """jsonl/csv without --answer-field/--tests-field: use `answer` or `tests`/`test_list`."""
    f = opts.fields
    if f.answer or f.tests:
        return f
    first = next((r.data for r in rows if r.data is not None), {})
    for name, kw in (("answer", "answer"), ("tests", "tests"), ("test_list", "tests")):
        if name in first:
            return dataclasses.replace(f, **{kw: name})
    raise DatasetError(
        "cannot tell how to check these problems: give --answer-field or --tests-field"
        f" (columns: {', '.join(first) or 'none'})"
    )


def _convert(
    rows: list[RawRow], opts: ImportOptions, dataset: str, local: bool, source: str
) -> tuple[list[NewProblem], list[str]]:
    fields = _pick_mapping(opts, rows) if opts.format in {"jsonl", "csv"} else FieldMap()
    named_split = split_from_name(Path(source)) if local else ""
    problems: list[NewProblem] = []
    bad: list[str] = []
    seen: dict[str, str] = {}
    for row in rows:
        if row.data is None:
            bad.append(f"{row.where}: {row.error}")
            continue
        if opts.split:
            split = opts.split
        elif opts.split_preset is not None and "task_id" in row.data:
            split = SPLIT_PRESETS[opts.split_preset](row.data["task_id"])
        elif opts.format == "mbpp" and dataset == "mbpp" and "task_id" in row.data:
            split = _mbpp_split(row.data["task_id"])
        else:
            split = row.split or named_split or "train"
        try:
            if opts.format == "gsm8k":
                problem = from_gsm8k(row, row.data, dataset, split)
            elif opts.format == "mbpp":
                problem = from_mbpp(row, row.data, dataset, split)
            elif opts.format == "humaneval":
                problem = from_humaneval(row, row.data, dataset, split)
            else:
                problem = from_mapped(row, row.data, dataset, split, fields)
        except BadRow as exc:
            bad.append(f"{row.where}: {exc}")
            continue
        if problem.id in seen:
            bad.append(f"{row.where}: duplicate id {problem.id!r} (first at {seen[problem.id]})")
            continue
        seen[problem.id] = row.where
        problems.append(problem)
    return problems, bad


def _select(rows: list[RawRow], opts: ImportOptions) -> list[RawRow]:
    if opts.sample is None or opts.sample >= len(rows):
        return rows
    keep = sorted(random.Random(opts.seed).sample(range(len(rows)), opts.sample))
    return [rows[i] for i in keep]


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


async def write_problems(store: Store, problems: list[NewProblem], report: ImportReport) -> None:
    """One transaction: new ids appended in source order, stored ids left alone (and compared)."""
    now = time.time()
    async with store.transaction() as conn:
        stored: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks([p.id for p in problems]):
            stored.update(await stored_problem_contents(conn, chunk))
        seq = await last_problem_seq(conn)
        fresh = []
        for p in problems:
            if p.id in stored:
                report.existing += 1
                if stored[p.id] != p.content():
                    report.changed.append(p.id)
                continue
            seq += 1
            fresh.append(
                (
                    p.id,
                    seq,
                    p.dataset,
                    p.split,
                    p.kind,
                    p.question,
                    p.answer,
                    p.tests,
                    p.setup,
                    p.entry_point,
                    p.prompt,
                    p.meta,
                    now,
                )
            )
        await conn.executemany(_INSERT, fresh)
        report.inserted = len(fresh)


async def import_dataset(
    store: Store, source: str, opts: ImportOptions, *, check_leaks: bool = True
) -> ImportReport:
    """Import SOURCE (a local file or a hub dataset id) into the store; see the module doc."""
    started = time.perf_counter()
    _validate_options(opts)
    rows, local = _read(source, opts)
    dataset = opts.dataset or _default_dataset(source, opts.format, local)
    report = ImportReport(source=source, format=opts.format, dataset=dataset)
    selected = _select(rows, opts)
    problems, bad = _convert(selected, opts, dataset, local, source)
    report.rows = len(selected)
    if bad and not opts.skip_bad:
        more = f" (and {len(bad) - 1} more bad rows)" if len(bad) > 1 else ""
        raise DatasetError(f"{bad[0]}{more}; nothing imported (--skip-bad imports the rest)")
    report.skipped = bad
    if not problems:
        why = f"all {len(bad)} rows are bad" if bad else "the source has no rows"
        raise DatasetError(f"{source}: nothing to import: {why}")
    for p in problems:
        report.splits[p.split] = report.splits.get(p.split, 0) + 1
        report.kinds[p.kind] = report.kinds.get(p.kind, 0) + 1
    await write_problems(store, problems, report)
    if check_leaks:
        from core.prompts import find_leaks_for_kinds

        report.leaks = await find_leaks_for_kinds(store, sorted(report.kinds))
    report.seconds = time.perf_counter() - started
    return report


def report_json(report: ImportReport) -> str:
    return json.dumps(dataclasses.asdict(report), indent=2)
