"""`ekt sample`: output, dry run, error paths, and kill -9 of a real `ekt sample` process."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from core.cli import cli
from tests.core.sampling.conftest import answers
from tests.fake_openai import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[3]


def ekt(root: Path, *args: Any) -> Result:
    return CliRunner().invoke(cli, ["-p", str(root), *map(str, args)], catch_exceptions=False)


def teacher_flags(srv: FakeOpenAIServer) -> list[str]:
    return ["--teacher", "openai", "--base-url", srv.base_url, "--model", "fake"]


def counts(root: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(root / "ekt.db")
    try:
        return conn.execute(
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM requests),"
            " (SELECT count(*) FROM candidates)"
        ).fetchone()
    finally:
        conn.close()


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ekt: error: "), result.stderr
    return lines[0]


def test_sample_json_summary_and_rerun(demo: Path, server: FakeOpenAIServer) -> None:
    args = [*teacher_flags(server), "--split", "train", "--limit", "3", "--n", "2", "--json"]
    first = ekt(demo, "sample", *args)
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["state"] == "done" and summary["samples"] == 6
    assert sum(summary["verdicts"].values()) == 6  # verified as they arrived
    again = json.loads(ekt(demo, "sample", *args).stdout)
    assert again["name"] == summary["name"] and again["requests_planned"] == 0
    assert len(server.completion_requests) == 3
    text = ekt(demo, "sample", *args[:-1], "--limit", "4", "--no-verify")
    assert text.exit_code == 0 and f"run {summary['name']} (continued" in text.stdout
    assert "requests 1 done, 0 failed of 1 planned" in text.stdout


def test_dry_run_prints_bounds_and_writes_nothing(demo: Path, server: FakeOpenAIServer) -> None:
    before = counts(demo)
    mtime = (demo / "ekt.db").stat().st_mtime_ns
    result = ekt(demo, "sample", *teacher_flags(server), "--limit", "5", "--n", "4",
                 "--max-tokens", "100", "--price-prompt", "1", "--price-completion", "2",
                 "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "requests 5 · samples 20" in result.stdout
    assert "completion tokens ≤ 2000" in result.stdout and "cost ≤ $" in result.stdout
    assert counts(demo) == before and server.completion_requests == []
    assert (demo / "ekt.db").stat().st_mtime_ns == mtime


def test_budget_stop_says_so(demo: Path, server: FakeOpenAIServer) -> None:
    result = ekt(demo, "sample", *teacher_flags(server), "--limit", "6", "--n", "2",
                 "--max-tokens", "10", "--price-completion", "1000", "--budget-usd", "0.03",
                 "--concurrency", "1", "--no-verify")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "budget $0.0300 reached" in result.stderr
    assert len(server.completion_requests) < 6


def test_bad_input_is_one_line_and_writes_nothing(demo: Path, server: FakeOpenAIServer) -> None:
    before = counts(demo)
    assert "n" in one_error_line(ekt(demo, "sample", *teacher_flags(server), "--n", "0"))
    assert "temperature" in one_error_line(
        ekt(demo, "sample", *teacher_flags(server), "--temperature", "7")
    )
    assert "no such problem" in one_error_line(
        ekt(demo, "sample", *teacher_flags(server), "--problems", "x,y")
    )
    line = one_error_line(ekt(demo, "sample", "--teacher", "local", "--model", "./no-such-model"))
    assert "unknown model" in line
    with FakeOpenAIServer() as gone:
        url = gone.base_url
    line = one_error_line(
        ekt(demo, "sample", "--teacher", "openai", "--base-url", url, "--limit", "2")
    )
    assert "cannot reach" in line
    with FakeOpenAIServer(models=["real"]) as srv:
        line = one_error_line(ekt(demo, "sample", *teacher_flags(srv), "--limit", "2"))
    assert "404" in line and "fake" in line
    assert counts(demo) == before


def _done_requests(db: Path) -> set[tuple[str, int]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT problem_id, first_index FROM requests WHERE status = 'done'"
            )
        }
    except sqlite3.OperationalError:  # no tables yet
        return set()
    finally:
        conn.close()


def test_kill_9_mid_run_then_rerun_loses_nothing_and_resends_nothing(demo: Path) -> None:
    n, limit = 2, 12
    with FakeOpenAIServer(answers, token_latency_s=0.03) as srv:
        cmd = [
            sys.executable, "-c", "from core.cli import main; main()", "-p", str(demo), "sample",
            *teacher_flags(srv), "--split", "train", "--limit", str(limit), "--n", str(n),
            "--concurrency", "2", "--run", "k9", "--no-verify",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while len(_done_requests(demo / "ekt.db")) < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, "finished before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done_at_kill = _done_requests(demo / "ekt.db")
        assert 3 <= len(done_at_kill) < limit
        sent_before = Counter(r.prompt for r in srv.completion_requests)
        rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        sent = Counter(r.prompt for r in srv.completion_requests)
    conn = sqlite3.connect(demo / "ekt.db")
    try:
        rows = conn.execute(
            "SELECT c.problem_id, c.sample_index, r.status FROM candidates c"
            " JOIN requests r ON r.id = c.request_id ORDER BY 1, 2"
        ).fetchall()
        question = dict(conn.execute("SELECT id, question FROM problems").fetchall())
        statuses = conn.execute("SELECT status, count(*) FROM requests GROUP BY 1").fetchall()
    finally:
        conn.close()
    # exactly the expected candidates: every (problem, index) once, all from done requests
    assert len(rows) == limit * n and len({(p, i) for p, i, _ in rows}) == limit * n
    assert statuses == [("done", limit)]

    # no completed request was sent again: each prompt went out once, plus at most the
    # requests that were in flight (not completed) when the process died
    def times_sent(problem_id: str) -> int:
        return sum(k for prompt, k in sent.items() if question[problem_id] in prompt[-600:])

    assert all(times_sent(pid) == 1 for pid, _ in done_at_kill)
    # the rerun sent exactly the requests that were not done when the process died
    assert sum(sent.values()) == sum(sent_before.values()) + limit - len(done_at_kill)


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(demo: Path) -> None:
    with FakeOpenAIServer(answers, token_latency_s=0.03) as srv:
        cmd = [
            sys.executable, "-c", "from core.cli import main; main()", "-p", str(demo), "sample",
            *teacher_flags(srv), "--split", "train", "--limit", "10", "--n", "2",
            "--concurrency", "1", "--run", "int", "--no-verify",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while not _done_requests(demo / "ekt.db") and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopping" in err and ": stopped" in out
        rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0 and ": done" in rerun.stdout, rerun.stderr
    assert counts(demo)[2] == 20
