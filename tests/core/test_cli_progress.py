"""core.cli.progress: the rich display on a terminal (phase, done/total, tok/s, ETA), the plain
lines off one, and `ekt sample` / `verify` / `eval` drawing it when stderr is a terminal (forced
here: CliRunner's stderr is not one)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import core.cli.eval_cmds
import core.cli.sample_cmds
import core.cli.verify_cmds
from core.cli import cli
from core.cli.progress import CliProgress, phase_text
from core.project import ASSETS
from tests.core.evaluate.conftest import add_problems
from tests.core.evaluate.test_eval_teacher import ANSWERS, _use_teacher
from tests.core.sampling.conftest import answers
from tests.fake_openai import FakeOpenAIServer

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _plain(text: str) -> str:
    return ANSI.sub("", text)


def test_live_display_shows_phase_counts_rate_and_eta() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140)
    with CliProgress(
        phase_text("local", "smollm2"), live=True, unit="requests", total=10, console=console
    ) as p:
        assert "loading model smollm2 …" in _plain(out.getvalue())  # drawn at once
        p.phase("sampling run-a")
        p.update(done=4, tokens=400)
    text = _plain(out.getvalue())
    assert "sampling run-a" in text and "4/10" in text and "requests" in text
    assert "tok/s" in text and "ETA" in text


def test_plain_mode_prints_the_given_lines_only(capsys: pytest.CaptureFixture[str]) -> None:
    lines = iter(["one", "two"])
    with CliProgress("x", live=False, plain=lambda: next(lines), plain_every_s=0.0) as p:
        p.update(done=1)
        p.update(done=2)
    with CliProgress("y", live=False) as q:  # no plain line: silent off a terminal
        q.update(done=1, total=3)
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["one", "two"] and captured.out == ""


def test_throttled_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with CliProgress("x", live=False, plain=lambda: "line", plain_every_s=3600.0) as p:
        for i in range(5):
            p.update(done=i)
        p.update(done=5, force=True)
    assert capsys.readouterr().err.splitlines() == ["line"]


def test_rate_counts_tokens_from_the_first_item() -> None:
    p = CliProgress("x", live=False)
    assert p.rate() is None
    p.update(done=1, tokens=50)
    rate = p.rate()
    assert rate is not None and rate > 0


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A project with the shipped math problems (the sampling tests' fake teacher knows them)."""
    root = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    samples = str(ASSETS / "samples" / "math-train.jsonl")
    imported = CliRunner().invoke(cli, ["-p", str(root), "import", samples, "--format", "gsm8k"])
    assert imported.exit_code == 0, imported.output
    return root


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command believes stderr is a terminal."""
    for module in (core.cli.sample_cmds, core.cli.verify_cmds, core.cli.eval_cmds):
        monkeypatch.setattr(module, "live_terminal", lambda as_json=False: not as_json)


def test_sample_draws_the_live_display(tty: None, demo: Path) -> None:
    with FakeOpenAIServer(answers) as srv:
        url = srv.base_url
        args = ["--teacher", "openai", "--base-url", url, "--model", "fake"]
        result = CliRunner().invoke(
            cli, ["-p", str(demo), "sample", *args, "--limit", "3", "--n", "2"]
        )
    assert result.exit_code == 0, result.output
    err = _plain(result.stderr)
    assert f"starting fake@{url} …" in err
    assert "sampling fake-" in err and "3/3" in err and "requests" in err and "ETA" in err
    assert "requests 3 done, 0 failed of 3 planned" in result.stdout  # the summary as before


def test_sample_json_keeps_stderr_plain(tty: None, demo: Path) -> None:
    with FakeOpenAIServer(answers) as srv:
        args = ["--teacher", "openai", "--base-url", srv.base_url, "--model", "fake"]
        result = CliRunner().invoke(
            cli, ["-p", str(demo), "sample", *args, "--limit", "2", "--n", "1", "--json"]
        )
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stderr and "ETA" not in result.stderr
    assert result.stdout.strip().startswith("{")


def test_verify_draws_the_live_display(tty: None, demo: Path) -> None:
    with FakeOpenAIServer(answers) as srv:
        args = ["--teacher", "openai", "--base-url", srv.base_url, "--model", "fake"]
        sampled = CliRunner().invoke(
            cli, ["-p", str(demo), "sample", *args, "--limit", "2", "--n", "2", "--no-verify"]
        )
    assert sampled.exit_code == 0, sampled.output
    result = CliRunner().invoke(cli, ["-p", str(demo), "verify"])
    assert result.exit_code == 0, result.output
    err = _plain(result.stderr)
    assert "verifying" in err and "4/4" in err and "candidates" in err
    assert result.stdout.startswith("verified 4 candidates")


def test_eval_says_what_it_waits_for(tty: None, tmp_path: Path) -> None:
    from core.project import init_project

    root = init_project(tmp_path / "proj")
    add_problems(root)
    with FakeOpenAIServer() as srv:
        srv.answers = ANSWERS
        srv.default_answer = "\n    return 0\n"
        _use_teacher(root, srv.base_url)
        result = CliRunner().invoke(
            cli, ["-p", str(root), "eval", "--teacher", "--n", "2", "--k", "1"]
        )
    assert result.exit_code == 0, result.output
    err = _plain(result.stderr)
    assert "starting the teacher …" in err  # before the first problem
    assert "3/3" in err and "problems" in err
    assert "pass@1" in result.stdout
