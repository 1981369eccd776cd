"""The comparison table from `evals` rows: keys, ordering, the beats-teacher flag, MD and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from core.evaluate.table import comparison_rows, render_csv, render_markdown
from core.project import init_project
from core.store import Store

T0 = 1_780_000_000.0  # 2026-05-28 20:26 UTC


def _results(p1: float, p10: float | None = None, problems: int = 10) -> str:
    pk = {"1": {"value": p1, "lo": max(0.0, p1 - 0.05), "hi": min(1.0, p1 + 0.05)}}
    if p10 is not None:
        pk["10"] = {"value": p10, "lo": p10 - 0.1, "hi": p10 + 0.1}
    return json.dumps({"problems": problems, "samples": problems * 10, "pass_at_k": pk})


async def _store(tmp_path: Path) -> Store:
    init_project(tmp_path / "p")
    store = await Store.open(tmp_path / "p" / "ekt.db")
    await store.execute(
        "INSERT INTO prompts(id, name, version, template, created_at)"
        " VALUES (1, 'gsm8k', 2, 't', 0)"
    )
    rows = [
        # name, model, method, teacher, prompt_id, split, status, results, created_at
        ("t", "gpt-big", "teacher", "", 1, "test", "done", _results(0.30, 0.60), T0),
        ("fs", "smollm2", "few-shot", "", 1, "test", "done", _results(0.02, 0.10), T0),
        ("sft-old", "ckpt-a", "ekt-sft", "gpt-big", None, "test", "done", _results(0.1), T0),
        ("sft", "ckpt-a", "ekt-sft", "gpt-big", None, "test", "done", _results(0.35, 0.7), T0 + 60),
        ("sft-b", "ckpt-b", "ekt-sft", "gpt-big", None, "test", "done", _results(0.20), T0),
        ("running", "ckpt-c", "ekt-sft", "gpt-big", None, "test", "running", "{}", T0),
        ("dev", "ckpt-a", "ekt-sft", "gpt-big", None, "dev", "done", _results(0.5), T0),
    ]
    await store.executemany(
        "INSERT INTO evals(name, model, method, teacher, prompt_id, split, status, results,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [(*r, r[-1]) for r in rows],
    )
    return store


async def test_rows_keyed_latest_wins_and_paper_order(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        rows = await comparison_rows(store)
    finally:
        await store.close()
    assert [r.name for r in rows] == ["dev", "fs", "sft", "sft-b", "t"]
    by = {r.name: r for r in rows}
    assert by["fs"].prompt == "gsm8k@v2"
    assert by["sft"].prompt == "zero-shot"
    assert by["sft"].beats_teacher and by["sft"].teacher_pass1 == 0.30
    assert not by["sft-b"].beats_teacher
    assert not by["fs"].beats_teacher  # no teacher label: nothing to compare with
    assert by["dev"].teacher_pass1 is None  # teacher not evaluated on the dev split


async def test_markdown_rendering(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        md = render_markdown(await comparison_rows(store))
    finally:
        await store.close()
    lines = md.splitlines()
    assert lines[0] == (
        "| model | method | teacher | prompt | split | pass@1 % | pass@10 % | problems | date"
        " | vs teacher |"
    )
    assert lines[1] == "|---|---|---|---|---|---|---|---|---|---|"
    assert lines[4] == (
        "| ckpt-a | ekt-sft | gpt-big | zero-shot | test | 35.0 (30.0–40.0) | 70.0 (60.0–80.0)"
        " | 10 | 2026-05-28 20:27 | beats teacher +5.0 pts |"
    )
    assert "| ckpt-b | ekt-sft | gpt-big | zero-shot | test | 20.0 (15.0–25.0) | — |" in md
    assert "-10.0 pts" in md
    assert len(lines) == 2 + 5


async def test_csv_rendering(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        text = render_csv(await comparison_rows(store))
    finally:
        await store.close()
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 5
    sft = next(r for r in table if r["eval"] == "sft")
    assert sft["pass@1"] == "0.3500" and sft["pass@1_lo"] == "0.3000"
    assert sft["pass@10"] == "0.7000"
    assert sft["beats_teacher"] == "1" and sft["teacher_pass@1"] == "0.3000"
    b = next(r for r in table if r["eval"] == "sft-b")
    assert b["pass@10"] == "" and b["beats_teacher"] == "0"


def test_empty_table_renders_header_only() -> None:
    md = render_markdown([])
    assert md.startswith("| model | method | teacher | prompt | split | problems |")
    assert render_csv([]).splitlines() == [
        "model,method,teacher,prompt,split,problems,samples,date,beats_teacher,teacher_pass@1,eval"
    ]
