"""`ekt judge` against the fake teacher: parsed and unparsable replies stored per candidate, a
low score kept out of gold by --min-judge-score; bad input is one line and writes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from core.cli import cli
from core.gold import select_gold
from core.judge import parse_judgement
from core.queries.judgements import latest_judgements
from core.store import Store, connect_sync
from core.train.sft import build_sft
from tests.fake_openai import FakeOpenAIServer


def ekt(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-p", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def _teacher(srv: FakeOpenAIServer) -> list[str]:
    return ["--teacher", "openai", "--base-url", srv.base_url, "--model", "judge-model"]


def _count(root: Path, table: str) -> int:
    conn = connect_sync(root / "ekt.db")
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_parse_judgement_forms() -> None:
    assert parse_judgement('```json\n{"score": 7, "reason": "ok"}\n```').score == 7
    assert parse_judgement('Sure: {"score": 3, "reason": "meh"} done').reason == "meh"
    for bad in ("no json here", '{"score": 11}', '{"score": "high"}', '{"score": 4.5}', "{"):
        v = parse_judgement(bad)
        assert v.score is None and not v.parsed


def test_judge_then_min_judge_score_filters_gold(project: Path) -> None:
    with FakeOpenAIServer() as srv:
        code, out, err = ekt(project, "judge", *_teacher(srv), "--dry-run", "--json")
        assert code == 0, err
        plan = json.loads(out)
        assert plan["planned"] == 14 and plan["dry_run"] and not srv.completion_requests
        assert _count(project, "judgements") == 0 and _count(project, "prompts") == 1

        code, out, err = ekt(project, "judge", *_teacher(srv), "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["judged"] == 14 and report["unparsed"] == 1
        assert report["scores"] == {"2": 1, "8": 12}
        assert len(srv.completion_requests) == 14
        assert "[ekt-judge]" in srv.completion_requests[0].body["prompt"]

        code, out, _ = ekt(project, "judge", *_teacher(srv), "--json")  # nothing left to judge
        assert json.loads(out)["planned"] == 0 and json.loads(out)["skipped"] == 14

    async def go() -> tuple:
        async with await Store.open(project / "ekt.db") as store:
            ids = [r[0] for r in await store.fetchall("SELECT id FROM candidates ORDER BY id")]
            latest = await latest_judgements(store, ids)
            every = await select_gold(store, "all-distinct")
            kept = await select_gold(store, "all-distinct", min_judge_score=5)
            sft = await build_sft(store, min_judge_score=5)
            return ids, latest, every, kept, sft

    ids, latest, every, kept, sft = asyncio.run(go())
    hard, unsure = ids[-2], ids[-1]
    assert latest[hard].score == 2 and "hard-coded" in latest[hard].reason
    assert latest[unsure].score is None and not latest[unsure].parsed
    assert latest[unsure].raw == "I am not sure how to score this program."
    assert latest[ids[0]].score == 8
    assert hard in {g.candidate_id for g in every}
    assert {g.candidate_id for g in kept} == {g.candidate_id for g in every} - {hard}
    assert unsure in {g.candidate_id for g in kept}  # unparsable: no score to hold against it
    assert hard not in {e.candidate_id for e in sft.examples}


def test_bad_input_one_line_nothing_written(project: Path) -> None:
    with FakeOpenAIServer() as srv:
        bad_prompt = project / "judge.txt"
        bad_prompt.write_text("Judge this: {{question}}\n")
        code, _, err = ekt(
            project, "prompt", "set", str(bad_prompt), "--name", "judge2", "--note", "t"
        )
        assert code == 0, err
        n_prompts = _count(project, "prompts")
        for args, needle in [
            (["--prompt", "judge2"], "lacks {{program}}"),
            (["--limit", "0"], "--limit 0"),
            (["--run", "nope"], "no sampling run 'nope'"),
        ]:
            code, out, err = ekt(project, "judge", *_teacher(srv), *args)
            assert code == 1 and out == "" and err.count("\n") == 1 and needle in err, err
        assert not srv.completion_requests
    assert _count(project, "judgements") == 0 and _count(project, "prompts") == n_prompts
