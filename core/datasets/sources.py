"""Reading raw rows from a local file or a Hugging Face dataset, each with where it came from.

Local jsonl and csv are parsed here, not by `datasets`, so that a broken row can be named by its
file and line number and so that a local import never touches the network or pays for
importing `datasets` (~1 s). Anything else goes through `datasets.load_dataset`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import DatasetError

_SPLIT_WORDS = {"train": "train", "test": "test", "validation": "validation", "valid": "validation"}
_SPLIT_RE = re.compile(r"(?:^|[-_.])(train|test|validation|valid)$", re.IGNORECASE)
_LOCAL_SUFFIXES = {".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow"}


@dataclass(frozen=True, slots=True)
class RawRow:
    """One source row. `index` counts rows from 0 (blank lines excluded) and stays stable when
    another row is broken, so ids built from it do not shift under --skip-bad."""

    index: int
    where: str
    data: dict[str, Any] | None
    error: str = ""
    split: str = ""


def split_from_name(path: Path) -> str:
    """`train.jsonl`, `math-test.jsonl` → train / test; '' when the name says nothing."""
    m = _SPLIT_RE.search(path.stem)
    return _SPLIT_WORDS[m.group(1).lower()] if m else ""


def strip_split(stem: str) -> str:
    """`custom-train` → custom; `train` → ''."""
    return _SPLIT_RE.sub("", stem)


def is_local(source: str) -> bool:
    path = Path(source).expanduser()
    return (
        path.exists()
        or path.suffix.lower() in _LOCAL_SUFFIXES
        or source.startswith((".", "/", "~"))
    )


def _jsonl(path: Path, limit: int | None) -> Iterator[RawRow]:
    index = 0
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        for lineno, line in enumerate(fh, 1):
            if limit is not None and index >= limit:
                return
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RawRow(index, where, None, f"invalid JSON ({exc.msg} at column {exc.colno})")
            else:
                if isinstance(data, dict):
                    yield RawRow(index, where, data)
                else:
                    yield RawRow(index, where, None, f"expected a JSON object, got {_kind(data)}")
            index += 1


def _json_array(path: Path, limit: int | None) -> Iterator[RawRow]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))  # {"data": [...]}
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON array of objects (or use .jsonl)")
    for i, item in enumerate(data[:limit] if limit is not None else data):
        where = f"{path}: item {i}"
        if isinstance(item, dict):
            yield RawRow(i, where, item)
        else:
            yield RawRow(i, where, None, f"expected a JSON object, got {_kind(item)}")


def _csv(path: Path, limit: int | None) -> Iterator[RawRow]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))  # long test code cells
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            return
        header = [h.strip() for h in header]
        start = reader.line_num + 1
        for index, values in enumerate(reader):
            if limit is not None and index >= limit:
                return
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if len(values) != len(header):
                msg = f"expected {len(header)} columns, got {len(values)}"
                yield RawRow(index, where, None, msg)
            else:
                yield RawRow(index, where, dict(zip(header, values, strict=True)))


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null"}.get(type(value), "a number")


def read_local(path: Path, limit: int | None = None) -> Iterator[RawRow]:
    if path.is_dir():  # a folder of data files, or a dataset repository cloned locally
        yield from read_hub(str(path), None, None, limit)
        return
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from _jsonl(path, limit)
        elif suffix == ".json":
            yield from _json_array(path, limit)
        elif suffix in {".csv", ".tsv"}:
            yield from _csv(path, limit)
        else:
            yield from read_hub(
                "parquet" if suffix == ".parquet" else "arrow",
                None,
                None,
                limit,
                data_files=str(path),
                label=str(path),
            )
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_hub(
    name: str,
    subset: str | None,
    split: str | None,
    limit: int | None,
    *,
    data_files: str | None = None,
    label: str | None = None,
) -> Iterator[RawRow]:
    """Rows of a Hugging Face dataset; without a split, every split in turn (each row tagged)."""
    try:
        import datasets  # slow import: only for non-local sources
    except ImportError:  # pragma: no cover - datasets is a core dependency
        raise DatasetError(f"{name}: the `datasets` package is needed for hub sources") from None
    label = label or name
    kwargs: dict[str, Any] = {"data_files": data_files} if data_files else {}
    if data_files or Path(name).is_dir():
        datasets.disable_progress_bars()  # local data: no download to watch
    try:
        loaded = datasets.load_dataset(name, subset, split=split or None, **kwargs)
    except Exception as exc:  # datasets raises many types; all mean "cannot load"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"{label}: cannot load dataset: {first}") from None
    parts = loaded.items() if isinstance(loaded, dict) else [(split or "", loaded)]
    for split_name, ds in parts:
        for i, row in enumerate(ds):
            if limit is not None and i >= limit:
                break
            yield RawRow(i, f"{label}[{split_name}] row {i}", dict(row), split=str(split_name))
