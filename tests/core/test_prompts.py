"""Prompts: template validation and rendering, versions, zero-shot, leakage guard, tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.datasets import ImportOptions, import_dataset
from core.errors import PromptError
from core.project import ASSETS
from core.prompts import (
    current_prompt,
    default_template,
    exemplar_questions,
    find_leaks,
    find_leaks_for_kinds,
    find_leaks_in_store,
    get_prompt,
    list_prompts,
    parse_template,
    prompt_name_for_kind,
    render,
    render_zero_shot,
    resolve_prompt,
    save_prompt,
)
from core.prompts.template import CODE_STOPS
from core.store import Store
from core.tokens import count_tokens, estimate_tokens

ANSWER = {
    "id": "p/1",
    "kind": "answer",
    "question": "How many legs do 3 cats have?",
    "answer": "12",
}
ASSERTS = {
    "id": "p/2",
    "kind": "asserts",
    "question": "Write add(a, b).",
    "tests": json.dumps(["assert add(1, 2) == 3", "assert add(0, 0) == 0"]),
    "setup": "",
    "entry_point": "add",
}
CHECK = {
    "id": "p/3",
    "kind": "check",
    "question": "Add.",
    "prompt": 'def add(a, b):\n    """Add."""\n',
    "tests": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    "entry_point": "add",
}


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "ekt.db")
    yield s
    await s.close()


def test_default_gsm8k_prompt_ends_at_def_solution() -> None:
    rendered = render(default_template("gsm8k"), ANSWER)
    assert rendered.text.endswith(
        "# Question: How many legs do 3 cats have?\n"
        "# Write solution() so that it returns the answer.\n\n"
        "def solution():"
    )
    assert rendered.code_prefix == "def solution():"
    assert rendered.stop == CODE_STOPS
    assert rendered.text.count("def solution():") == 4  # three exemplars + the query


def test_default_mbpp_and_humaneval_prompts() -> None:
    mbpp = render(default_template("mbpp"), ASSERTS)
    assert mbpp.text.endswith("assert add(1, 2) == 3\nassert add(0, 0) == 0\n[BEGIN]\n")
    assert mbpp.code_prefix == "" and mbpp.stop == ("[DONE]",)
    assert mbpp.text.count("[DONE]") == 3
    he = render(default_template("humaneval"), CHECK)
    assert he.text.endswith(CHECK["prompt"]) and he.code_prefix == CHECK["prompt"]


def test_default_exemplars_are_correct_programs() -> None:
    """The hand-written PAL exemplars return the right answers (13, 190, 23)."""
    body = default_template("gsm8k").split("# Question: {{question}}")[0]
    results = []
    for block in body.split("def solution():")[1:]:
        ns: dict = {}
        exec("def solution():" + block.split("\n\n\n")[0], ns)
        results.append(ns["solution"]())
    assert results == [13, 190, 23]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Q: {{question}} {{answr}}", r"unknown placeholder \{\{answr\}\}"),
        ("line one\nQ: {{question", r"line 2: unclosed '\{\{'"),
        ("{{ 1x }}", "bad placeholder"),
        ('#! stops: ["x"]\n{{question}}', "unknown directive 'stops'"),
        ("#! stop: x\n{{question}}", "stop must be a JSON list"),
        ("#! code_prefix: maybe\n{{question}}", "code_prefix 'maybe'"),
        ("   \n", "empty"),
    ],
)
def test_broken_templates_name_the_problem(template: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_template(template)


def test_missing_field_is_an_error_naming_it() -> None:
    with pytest.raises(PromptError, match=r"problem p/2 has no 'answer' for \{\{answer\}\}"):
        render("{{question}} = {{answer}}", {**ASSERTS, "answer": None})


def test_directives_and_trailing_newline() -> None:
    rendered = render('#! stop: ["END"]\n#! code_prefix: none\nTask {{ id }}\n', ANSWER)
    assert rendered.text == "Task p/1" and rendered.stop == ("END",)
    assert rendered.code_prefix == ""
    two = render("Task {{id}}\n\n", ANSWER)
    assert two.text == "Task p/1\n"


def test_zero_shot_for_each_kind() -> None:
    a = render_zero_shot(ANSWER)
    assert a.text.startswith("# Question: How many legs") and a.text.endswith("def solution():")
    b = render_zero_shot(ASSERTS)
    assert b.text.endswith("[BEGIN]\n") and "assert add(0, 0) == 0" in b.text
    assert b.code_prefix == "" and "[DONE]" in b.stop
    c = render_zero_shot(CHECK)
    assert c.text == CHECK["prompt"] == c.code_prefix
    with pytest.raises(PromptError, match="unknown kind"):
        render_zero_shot({**ANSWER, "kind": "essay"})


def test_prompt_name_for_kind() -> None:
    assert [prompt_name_for_kind(k) for k in ("answer", "asserts", "check")] == [
        "gsm8k",
        "mbpp",
        "humaneval",
    ]
    with pytest.raises(PromptError):
        prompt_name_for_kind("essay")


async def test_versions_are_immutable_with_parent_and_note(store: Store) -> None:
    v1 = await current_prompt(store, "gsm8k")
    assert (v1.version, v1.parent_id, v1.label) == (1, None, "gsm8k@v1")
    assert v1.template == (ASSETS / "prompts" / "gsm8k.txt").read_text()
    assert (await current_prompt(store, "gsm8k")).id == v1.id  # seeded once
    v2 = await save_prompt(store, "gsm8k", v1.template + "\n# more", "longer", v1.id)
    assert (v2.version, v2.parent_id, v2.note) == (2, v1.id, "longer")
    assert (await current_prompt(store, "gsm8k")).id == v2.id
    assert (await get_prompt(store, v1.id)).template == v1.template
    assert [v.label for v in await list_prompts(store, "gsm8k")] == ["gsm8k@v1", "gsm8k@v2"]
    assert (await resolve_prompt(store, "gsm8k@1", "mbpp")).id == v1.id
    assert (await resolve_prompt(store, "v2", "gsm8k")).id == v2.id
    assert (await resolve_prompt(store, f"#{v1.id}", "x")).id == v1.id
    assert (await resolve_prompt(store, None, "gsm8k")).id == v2.id
    with pytest.raises(PromptError, match="no prompt gsm8k@v9"):
        await resolve_prompt(store, "gsm8k@9", "gsm8k")


async def test_save_refuses_broken_templates_and_unknown_names(store: Store) -> None:
    with pytest.raises(PromptError, match="unknown placeholder"):
        await save_prompt(store, "gsm8k", "{{nope}}", "bad")
    with pytest.raises(PromptError, match="no prompt named 'mine'"):
        await current_prompt(store, "mine")
    with pytest.raises(PromptError, match="parent prompt #99"):
        await save_prompt(store, "mine", "{{question}}", "x", parent_id=99)
    assert await list_prompts(store) == []
    saved = await save_prompt(store, "mine", "{{question}}", "custom")
    assert (await current_prompt(store, "mine")).id == saved.id


def test_exemplar_questions_of_defaults() -> None:
    gsm = exemplar_questions(default_template("gsm8k"))
    assert len(gsm) == 3 and gsm[0].startswith("A baker made 4 trays")
    mbpp = exemplar_questions(default_template("mbpp"))
    assert mbpp[0] == "Write a function that returns the running totals of a list of numbers."
    assert len(mbpp) == 3


def test_leaks_exact_and_near_but_not_unrelated() -> None:
    template = default_template("gsm8k")
    exemplar = exemplar_questions(template)[0]
    near = exemplar.replace("neighbours", "neighbors").replace("29", "28")
    problems = [
        ("same", exemplar.upper()),
        ("near", near),
        ("other", "A farmer has 7 rows of tomato plants. How many plants are there?"),
    ]
    leaks = {leak.problem_id: leak for leak in find_leaks(template, problems)}
    assert set(leaks) == {"same", "near"}
    assert leaks["same"].similarity == 1.0 and 0.9 <= leaks["near"].similarity < 1.0
    assert "matches problem near nearly" in leaks["near"].message("gsm8k@v1")


async def test_leak_warnings_after_import(store: Store, tmp_path: Path) -> None:
    exemplar = exemplar_questions(default_template("gsm8k"))[1]
    path = tmp_path / "leaky.jsonl"
    path.write_text(json.dumps({"question": exemplar, "answer": "#### 190"}) + "\n")
    report = await import_dataset(store, str(path), ImportOptions(format="gsm8k"))
    assert len(report.leaks) == 1 and "gsm8k@v1" in report.leaks[0]
    assert "gsm8k/train/0 exactly" in report.leaks[0]
    assert await find_leaks_for_kinds(store, ["answer"]) == report.leaks
    clean = "# Question: An unrelated exemplar about seven blue whales?\n{{question}}"
    assert await find_leaks_in_store(store, clean) == []


def test_token_estimate_is_marked_inexact() -> None:
    count = count_tokens("def solution():\n    return 1 + 2")
    assert not count.exact and count.n == estimate_tokens("def solution():\n    return 1 + 2")
    assert str(count).startswith("≈")
    assert not count_tokens("x", "no-such-model-anywhere").exact


def test_token_count_exact_with_local_tokenizer(tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "def": 1, "solution": 2, "(": 3, ")": 4, ":": 5}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    count = count_tokens("def solution ( ) :", str(tmp_path))
    assert count.exact and count.n == 5 and str(count) == "5"
