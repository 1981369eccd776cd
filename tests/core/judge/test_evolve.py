"""`ekt prompt evolve NAME --from-gold K`: a new version with K judged, diverse gold exemplars
(note + parent recorded), and the leakage guard keeps those problems out of sampling."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from core.cli import cli
from core.project import Project
from core.prompts import exemplar_questions, list_prompts
from core.sampling import SampleOptions
from core.sampling.plan import build_plan
from tests.fake_openai import FakeOpenAIServer


def ekt(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-p", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_evolve_writes_a_version_and_guards_its_exemplars(project: Path, tiny_model: Path) -> None:
    with FakeOpenAIServer() as srv:
        teacher = ["--teacher", "openai", "--base-url", srv.base_url, "--model", "j"]
        assert ekt(project, "judge", *teacher)[0] == 0
    code, out, err = ekt(
        project, "prompt", "evolve", "gsm8k", "--from-gold", "2", "--embedder", str(tiny_model)
    )
    assert code == 0, err
    assert "saved gsm8k@v2" in out and "parent gsm8k@v1" in out and out.count("exemplar toy/") == 2

    async def go() -> tuple:
        async with await Project.open(project) as p:
            versions = await list_prompts(p.store, "gsm8k")
            plan = await build_plan(p, SampleOptions(), write=False)
            return versions, plan

    versions, plan = asyncio.run(go())
    v1, v2 = versions[0], versions[-1]
    assert v2.version == 2 and v2.parent_id == v1.id and "evolved from gold" in v2.note
    questions = exemplar_questions(v2.template)
    assert len(questions) == 2 and v2.template.endswith("Q: {{question}}\ndef solution():")
    assert "return apples + 2" in v2.template and "return 5" not in v2.template  # judged low
    guarded = {pid for pid, q in _questions(project) if q in questions}
    assert len(guarded) == 2
    assert plan.prompts["answer"].id == v2.id
    assert not guarded & set(plan.problems)  # the exemplar problems are not sampled
    # the toy questions differ in one number: the guard's near matches (ratio ≥ 0.9) drop the
    # other apple problems too; the unrelated one stays
    assert plan.problems == ["toy/t1"]


def test_without_evolve_every_problem_is_planned(project: Path) -> None:
    async def go() -> list[str]:
        async with await Project.open(project) as p:
            return (await build_plan(p, SampleOptions(), write=False)).problems

    assert len(asyncio.run(go())) == 9


def test_evolve_bad_k_is_one_line(project: Path, tiny_model: Path) -> None:
    for k, needle in (("0", "expected K >= 1"), ("50", "only 9 problems with gold")):
        code, out, err = ekt(project, "prompt", "evolve", "gsm8k", "--from-gold", k,
                             "--embedder", str(tiny_model))  # fmt: skip
        assert code == 1 and out == "" and needle in err and err.count("\n") == 1, err


def _questions(root: Path) -> list[tuple[str, str]]:
    from core.store import connect_sync

    conn = connect_sync(root / "ekt.db")
    try:
        return [(r[0], r[1]) for r in conn.execute("SELECT id, question FROM problems")]
    finally:
        conn.close()
