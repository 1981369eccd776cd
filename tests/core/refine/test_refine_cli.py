"""`ekt feedback` and `ekt refine` as a user types them: bad input, dry run, kill -9 + rerun."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from core.cli import cli
from tests.core.refine.conftest import refined
from tests.fake_openai import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[3]


def ekt(root: Path, *args: Any) -> Result:
    return CliRunner().invoke(cli, ["-p", str(root), *map(str, args)], catch_exceptions=False)


def flags(srv: FakeOpenAIServer) -> list[str]:
    return ["--teacher", "openai", "--base-url", srv.base_url, "--model", "fake",
            "--mode", "completion"]  # fmt: skip


def counts(root: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(root / "ekt.db")
    try:
        return conn.execute(
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM requests),"
            " (SELECT count(*) FROM candidates), (SELECT count(*) FROM feedback),"
            " (SELECT count(*) FROM prompts)"
        ).fetchone()
    finally:
        conn.close()


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ekt: error: "), result.stderr
    return lines[0]


def scalar(root: Path, sql: str) -> Any:
    conn = sqlite3.connect(root / "ekt.db")
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def failing_project(demo: Path, srv: FakeOpenAIServer, limit: int = 3) -> None:
    res = ekt(demo, "sample", *flags(srv), "--split", "train", "--limit", limit, "--n", 2)
    assert res.exit_code == 0, res.output
    srv.clear()


def test_feedback_add_list_and_bad_input(
    demo: Path, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    failing_project(demo, server)
    cid = scalar(demo, "SELECT min(id) FROM candidates")
    out = ekt(demo, "feedback", "add", cid, "multiply the trays by the rolls")
    assert out.exit_code == 0 and out.output.startswith("feedback #")
    note = tmp_path / "fb.txt"
    note.write_text("second note\nover two lines\n")
    assert ekt(demo, "feedback", "add", cid, "--file", note).exit_code == 0
    rows = [
        json.loads(x)
        for x in ekt(demo, "feedback", "list", "--candidate", cid, "--json").output.splitlines()
    ]
    assert [r["text"] for r in rows] == [
        "multiply the trays by the rolls",
        "second note\nover two lines",
    ]
    assert {r["author"] for r in rows} == {"human"}
    before = counts(demo)
    assert "empty" in one_error_line(ekt(demo, "feedback", "add", cid, "  "))
    assert "no candidate 424242" in one_error_line(ekt(demo, "feedback", "add", 424242, "x"))
    assert counts(demo) == before


def test_refine_bad_input_is_one_line_and_writes_nothing(
    demo: Path, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    failing_project(demo, server)
    before = counts(demo)
    assert "no candidate 424242" in one_error_line(
        ekt(demo, "refine", *flags(server), "--candidates", "424242")
    )
    assert "no selected candidate has human feedback" in one_error_line(
        ekt(demo, "refine", *flags(server), "--feedback", "human")
    )
    # a candidate that already passes: say so, skip it, write nothing
    passing = scalar(demo, "SELECT min(id) FROM candidates")
    conn = sqlite3.connect(demo / "ekt.db")
    with conn:
        conn.execute("UPDATE verdicts SET status = 'pass' WHERE candidate_id = ?", (passing,))
    conn.close()
    before = counts(demo)
    line = one_error_line(ekt(demo, "refine", *flags(server), "--candidates", passing))
    assert f"candidate {passing} already passes" in line
    # a refine prompt without {{feedback}} is refused before anything is written
    bad = tmp_path / "refine.txt"
    bad.write_text("Fix it.\nTask: {{question}}\nProgram:\n{{program}}\nCorrected program:\n")
    assert (
        ekt(demo, "prompt", "set", bad, "--name", "refine", "--note", "no feedback").exit_code == 0
    )
    before = counts(demo)
    line = one_error_line(ekt(demo, "refine", *flags(server)))
    assert "refine prompt refine@v2 has no {{feedback}}" in line
    assert counts(demo) == before and server.completion_requests == []


def test_dry_run_estimates_and_writes_nothing(demo: Path, server: FakeOpenAIServer) -> None:
    failing_project(demo, server)
    before = counts(demo)
    res = ekt(demo, "refine", *flags(server), "--n", 3, "--max-tokens", 50, "--dry-run", "--json")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.output)
    assert (plan["candidates"], plan["requests"], plan["samples"]) == (6, 6, 18)
    assert plan["completion_tokens_bound"] == 18 * 50 and not plan["exists"]
    text = ekt(demo, "refine", *flags(server), "--feedback", "teacher", "--dry-run").output
    assert "critiques to write first 6" in text and "nothing was sent" in text
    assert counts(demo) == before and server.completion_requests == []


def _done(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(
            "SELECT count(*) FROM requests r JOIN runs u ON u.id = r.run_id"
            " WHERE r.status = 'done' AND u.name = 'k9'"
        ).fetchone()[0]
    finally:
        conn.close()


def test_kill_9_mid_refine_then_rerun_loses_nothing_and_resends_nothing(demo: Path) -> None:
    with FakeOpenAIServer(lambda p, i: "\n    return 0\n", refine=refined) as srv:
        failing_project(demo, srv, limit=6)
        srv.token_latency_s = 0.03
        cmd = [
            sys.executable, "-c", "from core.cli import main; main()", "-p", str(demo), "refine",
            *flags(srv), "--n", "2", "--concurrency", "2", "--run", "k9",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while _done(demo / "ekt.db") < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, "finished before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done_at_kill = _done(demo / "ekt.db")
        assert 3 <= done_at_kill < 12
        sent_before = len(srv.completion_requests)
        rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        resent = len(srv.completion_requests) - sent_before
    conn = sqlite3.connect(demo / "ekt.db")
    try:
        rows = conn.execute(
            "SELECT c.feedback_id, c.sample_index, v.status FROM candidates c"
            " JOIN runs u ON u.id = c.run_id LEFT JOIN verdicts v ON v.candidate_id = c.id"
            " WHERE u.name = 'k9'"
        ).fetchall()
        feedback = conn.execute("SELECT count(*) FROM feedback").fetchone()[0]
    finally:
        conn.close()
    assert feedback == 12  # one execution feedback per failing candidate, written once
    assert len(rows) == 24 and len({(f, i) for f, i, _ in rows}) == 24
    assert all(status is not None for _, _, status in rows)  # verified, the rerun included
    assert resent == 12 - done_at_kill  # only what was not done when it died
