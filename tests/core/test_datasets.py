"""Dataset import: every format, ids, idempotence, all-or-nothing on bad rows, selection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.datasets import FieldMap, ImportOptions, canonical_answer, entry_point_of, import_dataset
from core.datasets.formats import BadRow
from core.errors import DatasetError
from core.project import ASSETS
from core.store import Store

SAMPLES = ASSETS / "samples"
DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "ekt.db")
    yield s
    await s.close()


async def _rows(store: Store, sql: str = "SELECT * FROM problems ORDER BY seq") -> list[dict]:
    return [dict(r) for r in await store.fetchall(sql)]


def _gsm8k(tmp_path: Path, lines: list[str], name: str = "train.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _good_lines(n: int) -> list[str]:
    return [
        json.dumps({"question": f"What is {i} plus {i}?", "answer": f"{i}+{i}=\n#### {2 * i}"})
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("x\n#### 1,080", "1080"), ("#### -3.5", "-3.5"), ("$14", "14"), ("007", "7"), ("+2", "2")],
)
def test_canonical_answer(raw: str, expected: str) -> None:
    assert canonical_answer(raw) == expected


def test_canonical_answer_rejects_words() -> None:
    with pytest.raises(BadRow, match="not a number"):
        canonical_answer("#### twelve")


def test_entry_point_skips_builtins_but_falls_back() -> None:
    assert entry_point_of(["assert set(f(1, 2)) == {3}"]) == "f"
    assert entry_point_of(["assert sum(10, 15) == 6"]) == "sum"


async def test_gsm8k_sample_import(store: Store) -> None:
    opts = ImportOptions(format="gsm8k", dataset="sample-math")
    report = await import_dataset(store, str(SAMPLES / "math-test.jsonl"), opts)
    rows = await _rows(store)
    assert report.inserted == len(rows) == 9
    assert rows[0]["id"] == "sample-math/test/0"
    assert {r["kind"] for r in rows} == {"answer"}
    answers = [r["answer"] for r in rows]
    assert "14700" in answers  # "#### 14,700": thousands separator stripped
    assert "-16" in answers and "14.7" in answers
    assert "####" in json.loads(rows[0]["meta"])["rationale"]
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


async def test_reimport_is_idempotent(store: Store) -> None:
    opts = ImportOptions(format="gsm8k", dataset="sample-math")
    src = str(SAMPLES / "math-train.jsonl")
    await import_dataset(store, src, opts)
    before = await _rows(store, "SELECT id, seq FROM problems ORDER BY seq")
    again = await import_dataset(store, src, opts)
    assert again.inserted == 0 and again.existing == 24 and not again.changed
    assert await _rows(store, "SELECT id, seq FROM problems ORDER BY seq") == before


async def test_changed_source_is_reported_not_merged(store: Store, tmp_path: Path) -> None:
    path = _gsm8k(tmp_path, _good_lines(3))
    await import_dataset(store, str(path), ImportOptions(format="gsm8k"))
    lines = _good_lines(3)
    lines[1] = json.dumps({"question": "Something else entirely?", "answer": "#### 9"})
    _gsm8k(tmp_path, lines)
    report = await import_dataset(store, str(path), ImportOptions(format="gsm8k"))
    assert report.changed == ["gsm8k/train/1"] and report.inserted == 0
    row = await store.fetchone("SELECT question FROM problems WHERE id = 'gsm8k/train/1'")
    assert row is not None and row[0] == "What is 1 plus 1?"


async def test_broken_line_5_aborts_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    await import_dataset(store, str(SAMPLES / "math-test.jsonl"), ImportOptions(format="gsm8k"))
    before = await _rows(store)
    lines = _good_lines(8)
    lines[4] = '{"question": "unterminated'
    path = _gsm8k(tmp_path, lines)
    with pytest.raises(DatasetError) as info:
        await import_dataset(store, str(path), ImportOptions(format="gsm8k"))
    message = str(info.value)
    assert f"{path}:5:" in message and "invalid JSON" in message and "\n" not in message
    assert await _rows(store) == before


async def test_bad_row_reason_names_line(store: Store, tmp_path: Path) -> None:
    lines = _good_lines(4)
    lines[2] = json.dumps({"question": "No final answer here?", "answer": "it is 4"})
    path = _gsm8k(tmp_path, ["", *lines])  # a blank first line shifts line numbers, not rows
    with pytest.raises(DatasetError, match=r":4: field 'answer' has no '#### "):
        await import_dataset(store, str(path), ImportOptions(format="gsm8k"))
    assert await _rows(store) == []


async def test_skip_bad_imports_the_rest_with_stable_ids(store: Store, tmp_path: Path) -> None:
    lines = _good_lines(6)
    lines[4] = "not json"
    lines[1] = json.dumps({"question": "Q?", "answer": "#### many"})
    path = _gsm8k(tmp_path, lines)
    report = await import_dataset(store, str(path), ImportOptions(format="gsm8k", skip_bad=True))
    assert report.inserted == 4
    assert [s.split(": ", 1)[0] for s in report.skipped] == [f"{path}:2", f"{path}:5"]
    ids = [r["id"] for r in await _rows(store)]
    assert ids == ["gsm8k/train/0", "gsm8k/train/2", "gsm8k/train/3", "gsm8k/train/5"]


async def test_all_bad_is_an_error_even_with_skip_bad(store: Store, tmp_path: Path) -> None:
    path = _gsm8k(tmp_path, ["[1]", "2"])
    with pytest.raises(DatasetError, match="nothing to import: all 2 rows are bad"):
        await import_dataset(store, str(path), ImportOptions(format="gsm8k", skip_bad=True))


async def test_missing_file_is_one_line(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        await import_dataset(store, str(tmp_path / "nope.jsonl"), ImportOptions(format="gsm8k"))


async def test_mbpp_tests_setup_entry_point_and_split(store: Store) -> None:
    opts = ImportOptions(format="mbpp", dataset="sample-code")
    await import_dataset(store, str(SAMPLES / "code-train.jsonl"), opts)
    rows = await _rows(store)
    assert len(rows) == 12 and {r["split"] for r in rows} == {"train"}
    first = rows[0]
    assert first["id"] == "sample-code/1" and first["kind"] == "asserts"
    assert json.loads(first["tests"])[0].startswith("assert count_digits(")
    assert first["entry_point"] == "count_digits"
    assert "def count_digits" in json.loads(first["meta"])["code"]


async def test_mbpp_paper_ranges_give_the_split(store: Store) -> None:
    await import_dataset(store, str(DATA / "mbpp-ranges.jsonl"), ImportOptions(format="mbpp"))
    rows = await _rows(store)
    assert [(r["id"], r["split"]) for r in rows] == [
        ("mbpp/5", "prompt"),
        ("mbpp/20", "test"),
        ("mbpp/550", "validation"),
        ("mbpp/700", "train"),
    ]
    assert rows[2]["setup"] == "import math"


async def test_humaneval_check_problems(store: Store) -> None:
    opts = ImportOptions(format="humaneval", dataset="sample-check")
    await import_dataset(store, str(SAMPLES / "check-test.jsonl"), opts)
    rows = await _rows(store)
    assert rows[0]["id"] == "sample-check/0" and rows[0]["kind"] == "check"
    assert rows[0]["entry_point"] == "running_max"
    assert rows[0]["prompt"].startswith("from typing import List")
    assert rows[0]["question"].startswith("Return a list whose i-th item")
    assert "def check(candidate)" in rows[0]["tests"]


async def test_jsonl_mapping_answer_field(store: Store) -> None:
    fields = FieldMap(id="uid", question="prompt_text", answer="final")
    opts = ImportOptions(format="jsonl", fields=fields)
    await import_dataset(store, str(DATA / "mapped-answers.jsonl"), opts)
    rows = await _rows(store)
    assert [(r["id"], r["kind"], r["answer"]) for r in rows] == [
        ("shop-1", "answer", "14"),
        ("shop-2", "answer", "1050"),
        ("shop-3", "answer", "4.5"),
    ]
    assert json.loads(rows[0]["meta"]) == {"topic": "money"}


async def test_jsonl_mapping_tests_field(store: Store) -> None:
    fields = FieldMap(id="name", question="task", tests="checks", setup="pre", entry_point="func")
    await import_dataset(
        store, str(DATA / "mapped-tests.jsonl"), ImportOptions(format="jsonl", fields=fields)
    )
    rows = await _rows(store)
    assert [(r["id"], r["kind"], r["entry_point"]) for r in rows] == [
        ("fn-add", "asserts", "add"),
        ("fn-sq", "asserts", "square"),  # empty column: taken from the first assert
    ]
    assert json.loads(rows[0]["tests"]) == ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]
    assert rows[1]["setup"] == "import math"


async def test_csv_with_multiline_cell_and_line_numbers(store: Store, tmp_path: Path) -> None:
    opts = ImportOptions(format="csv", fields=FieldMap(id="id", answer="answer"))
    await import_dataset(store, str(DATA / "mapped.csv"), opts)
    rows = await _rows(store)
    assert [(r["id"], r["answer"]) for r in rows] == [("c1", "24"), ("c2", "11"), ("c3", "2.5")]
    assert rows[1]["question"] == "A question written\nover two lines: 5 + 6?"
    broken = tmp_path / "broken.csv"
    broken.write_text((DATA / "mapped.csv").read_text() + "c4,What?,lots,x\n")
    with pytest.raises(DatasetError, match=r"broken\.csv:6: final answer 'lots' is not a number"):
        await import_dataset(store, str(broken), opts)


async def test_mapping_guesses_answer_column_and_names_the_dataset(
    store: Store, tmp_path: Path
) -> None:
    shutil.copy(DATA / "mapped.csv", tmp_path / "quiz-test.csv")
    await import_dataset(store, str(tmp_path / "quiz-test.csv"), ImportOptions(format="csv"))
    rows = await _rows(store)
    assert [r["id"] for r in rows] == ["quiz/test/0", "quiz/test/1", "quiz/test/2"]


async def test_mapping_errors(store: Store, tmp_path: Path) -> None:
    both = ImportOptions(format="jsonl", fields=FieldMap(answer="a", tests="t"))
    with pytest.raises(DatasetError, match="not both"):
        await import_dataset(store, str(DATA / "mapped-tests.jsonl"), both)
    wrong = ImportOptions(format="gsm8k", fields=FieldMap(id="uid"))
    with pytest.raises(DatasetError, match="apply to jsonl/csv"):
        await import_dataset(store, str(DATA / "mapped-tests.jsonl"), wrong)
    nothing = ImportOptions(format="jsonl", fields=FieldMap(question="task"))
    with pytest.raises(DatasetError, match="give --answer-field or --tests-field"):
        await import_dataset(store, str(DATA / "mapped-answers.jsonl"), nothing)


async def test_duplicate_ids_are_bad_rows(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text('{"k": "a", "question": "x y z?", "answer": "1"}\n' * 2)
    opts = ImportOptions(format="jsonl", fields=FieldMap(id="k", answer="answer"))
    with pytest.raises(DatasetError, match=r"dup\.jsonl:2: duplicate id 'a' \(first at .*:1\)"):
        await import_dataset(store, str(path), opts)


async def test_limit_sample_and_seed(store: Store, tmp_path: Path) -> None:
    path = _gsm8k(tmp_path, _good_lines(20))
    report = await import_dataset(store, str(path), ImportOptions(format="gsm8k", limit=3))
    assert report.inserted == 3
    ids = [r["id"] for r in await _rows(store)]
    assert ids == ["gsm8k/train/0", "gsm8k/train/1", "gsm8k/train/2"]

    async def sampled(seed: int, db: str) -> list[str]:
        async with await Store.open(tmp_path / db) as s:
            opts = ImportOptions(format="gsm8k", sample=5, seed=seed)
            await import_dataset(s, str(path), opts)
            return [r["id"] for r in await _rows(s)]

    first, again, other = (
        await sampled(1, "a.db"),
        await sampled(1, "b.db"),
        await sampled(2, "c.db"),
    )
    assert len(first) == 5 and first == again and first != other
    assert all(pid.startswith("gsm8k/train/") for pid in first)  # source row index, not position
    with pytest.raises(DatasetError, match="--sample must be at least 1"):
        await import_dataset(store, str(path), ImportOptions(format="gsm8k", sample=0))


async def test_hub_source_through_datasets_offline(store: Store, tmp_path: Path) -> None:
    """A parquet file goes through `datasets.load_dataset` (no network for local files)."""
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "mini.parquet"
    datasets.Dataset.from_list(
        [
            {"question": "One plus one?", "answer": "#### 2"},
            {"question": "Two?", "answer": "#### 2"},
        ]
    ).to_parquet(str(path))
    report = await import_dataset(store, str(path), ImportOptions(format="gsm8k", dataset="pq"))
    assert report.inserted == 2
    assert [r["id"] for r in await _rows(store)] == ["pq/train/0", "pq/train/1"]


async def test_local_folder_imports_every_split(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    folder = tmp_path / "ds"
    folder.mkdir()
    shutil.copy(SAMPLES / "math-train.jsonl", folder / "train.jsonl")
    shutil.copy(SAMPLES / "math-test.jsonl", folder / "test.jsonl")
    report = await import_dataset(store, str(folder), ImportOptions(format="gsm8k"))
    assert report.splits == {"train": 24, "test": 9}
    rows = await _rows(store, "SELECT id FROM problems WHERE id = 'gsm8k/test/8'")
    assert len(rows) == 1
