"""Screen 5 launches evaluations: the dialog (pickers from the store, [eval] fields with their
errors), the real runner in a worker with only the model backend scripted (the core boundary:
`core.evaluate.runner._make_generator`), the running list read from the store (this TUI's and
another process's), and cancel with its confirmation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from core.evaluate import runner
from core.prompts import RenderedPrompt
from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.screens.eval_launch import TEACHER, EvalLaunchScreen
from ekt_tui.screens.evaluation import EvaluationScreen
from ekt_tui.widgets.eval_running import EvalRunningTable
from tests.core.evaluate.conftest import add_problems
from tests.tui.eval_fixture import T0, make_eval_project
from tests.tui.helpers import settle

ANSWERS = {"What is 2 + 3?": "5", "What is 4 * 6?": "24", "What is 10 - 7?": "-1"}


def make_launch_project(root: Path) -> tuple[Path, Path]:
    """The evaluation fixture plus three test problems and a finished run's checkpoint (a
    folder with a config: nothing loads it, the backend is scripted)."""
    make_eval_project(root)
    add_problems(root)
    ckpt = root / "checkpoints" / "sft-1" / "checkpoint-4"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text("{}")
    conn = connect_sync(root / "ekt.db")
    try:
        conn.execute(
            "INSERT INTO train_runs(id, name, status, lineage, created_at, updated_at)"
            " VALUES (1, 'sft-1', 'done', ?, ?, ?)",
            (json.dumps({"method": "ekt-sft", "teacher": "big-teacher"}), T0, T0),
        )
        conn.execute(
            "INSERT INTO checkpoints(train_run_id, step, path, created_at) VALUES (1, 4, ?, ?)",
            (str(ckpt), T0),
        )
    finally:
        conn.close()
    return root, ckpt


class Gated:
    """The model backend: holds generation until `loaded` is set (a model that loads), then
    answers each question (t1 and t2 right, t3 wrong)."""

    def __init__(self) -> None:
        self.loaded = asyncio.Event()
        self.calls = 0

    async def generate(self, prompts: Sequence[RenderedPrompt], n: int) -> list[list[str]]:
        await self.loaded.wait()
        self.calls += 1
        out = []
        for p in prompts:
            answer = next(a for q, a in ANSWERS.items() if q in p.text)
            out.append([f"\n    return {answer}\n"] * n)
        return out


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Gated:
    gen = Gated()

    @contextlib.asynccontextmanager
    async def cm() -> AsyncIterator[Gated]:
        yield gen

    monkeypatch.setattr(runner, "_make_generator", lambda project, plan: cm())
    return gen


def _status(root: Path) -> list[tuple[str, str, str]]:
    conn = connect_sync(root / "ekt.db")
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT name, model, status FROM evals WHERE id > 3 ORDER BY id")]  # fmt: skip
    finally:
        conn.close()


async def _open_dialog(pilot: Pilot[None]) -> EvalLaunchScreen:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    await pilot.press("l")
    for _ in range(50):
        await pilot.pause(0.05)
        if isinstance(pilot.app.screen, EvalLaunchScreen):
            break
    screen = pilot.app.screen
    assert isinstance(screen, EvalLaunchScreen)
    await pilot.pause()
    return screen


def _fill(dialog: EvalLaunchScreen, **values: str) -> None:
    for key, value in values.items():
        widget = dialog.query_one(f"#el-{key}")
        widget.value = value  # type: ignore[attr-defined]


def _message(dialog: EvalLaunchScreen) -> str:
    return str(dialog.query_one("#el-message", Static).render())


async def _wait(pilot: Pilot[None], cond: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)
        await pilot.app.refresh_now()  # type: ignore[attr-defined]


async def test_dialog_offers_models_checkpoints_prompts_and_marks_errors(tmp_path: Path) -> None:
    root, ckpt = make_launch_project(tmp_path / "p")
    app = EktApp(root, poll=False)
    async with app.run_test(size=(140, 40)) as pilot:
        dialog = await _open_dialog(pilot)
        models = dict((v, label) for label, v in dialog.choices.models)
        assert models[str(ckpt)] == "checkpoint: sft-1 step 4"
        assert TEACHER in models and "smollm2" in models
        prompts = [label for label, _ in dialog.choices.prompts]
        assert prompts[:2] == ["default: few-shot (zero-shot for a checkpoint)", "zero-shot"]
        assert "few-shot: gsm8k@v1" in prompts
        assert dialog.choices.splits == ["test", "train"]
        # the [eval] fields start at the project's values
        assert dialog.query_one("#el-n", Input).value == "20"
        assert dialog.query_one("#el-k", Input).value == "[1, 10, 20]"
        _fill(dialog, n="0")
        await pilot.pause()
        assert "[eval] n" in _message(dialog)
        assert dialog.query_one("#el-n").has_class("-invalid")
        assert dialog.options() is None
        _fill(dialog, n="5")
        await pilot.pause()
        assert "k" in _message(dialog) and "exceeds" in _message(dialog)  # k 10, 20 > n 5
        _fill(dialog, k="1,5", limit="x")
        await pilot.pause()
        assert "limit 'x'" in _message(dialog)
        assert not dialog.query_one("#el-n").has_class("-invalid")
        _fill(dialog, limit="2")
        await pilot.pause()
        assert dialog.query_one("#el-limit").has_class("-invalid") is False
        assert _message(dialog) == "the first 2 problems of split 'test' × 5 samples, pass@1,5"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, EvaluationScreen)
        assert _status(root) == []


async def test_launch_lists_it_running_then_done(tmp_path: Path, backend: Gated) -> None:
    root, ckpt = make_launch_project(tmp_path / "p")
    app = EktApp(root, poll=False)
    async with app.run_test(size=(160, 44)) as pilot:
        dialog = await _open_dialog(pilot)
        dialog.query_one("#el-model", Select).value = str(ckpt)
        _fill(dialog, n="2", k="1,2", name="ckpt-eval")
        await pilot.pause()
        await pilot.press("ctrl+s")
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        table = screen.query_one(EvalRunningTable)
        await _wait(pilot, lambda: bool(screen.running), "the running row")
        assert table.display
        ev = screen.running[0]
        assert (ev.name, ev.model, ev.problems, ev.samples) == ("ckpt-eval", "sft-1@step4", 3, 0)
        assert ev.id in screen.jobs
        state = str(table.get_row(str(ev.id))[5])
        assert state.startswith("loading model… ")
        assert table.get_row(str(ev.id))[6] == "this TUI"
        backend.loaded.set()
        await _wait(pilot, lambda: not screen.running, "the evaluation to finish")
        await settle(pilot)
        assert not table.display and not screen.jobs
        assert _status(root) == [("ckpt-eval", "sft-1@step4", "done")]
        row = next(r for r in screen.rows if r.model == "sft-1@step4")
        assert row.method == "ekt-sft" and row.pass_at[1].value == pytest.approx(2 / 3)


async def test_cancel_asks_then_marks_it_cancelled(tmp_path: Path, backend: Gated) -> None:
    root, _ = make_launch_project(tmp_path / "p")
    app = EktApp(root, poll=False)
    async with app.run_test(size=(160, 44)) as pilot:
        dialog = await _open_dialog(pilot)
        _fill(dialog, n="1", k="1", name="held")
        dialog.query_one("#el-model", Select).value = TEACHER
        await pilot.pause()
        await pilot.press("ctrl+s")
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        await _wait(pilot, lambda: bool(screen.running), "the running row")
        assert "waiting for the teacher" in str(
            screen.query_one(EvalRunningTable).get_row(str(screen.running[0].id))[5]
        )
        # settle() would wait for the held evaluation's worker: pause instead
        await pilot.press("c")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep it running
        await pilot.pause(0.2)
        assert screen.jobs and _status(root)[0][2] == "running"
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.press("y")
        await _wait(pilot, lambda: not screen.running, "the cancelled evaluation")
        await settle(pilot)
        assert _status(root)[0][0] == "held" and _status(root)[0][2] == "cancelled"
        assert not screen.jobs and backend.calls == 0


async def test_lists_another_process_eval_and_does_not_cancel_it(tmp_path: Path) -> None:
    root, _ = make_launch_project(tmp_path / "p")
    conn = connect_sync(root / "ekt.db")
    try:
        params = json.dumps({"n": 2, "problem_ids": ["t1", "t2", "t3"]})
        eval_id = conn.execute(
            "INSERT INTO evals(name, model, method, split, params, status, created_at,"
            " updated_at) VALUES ('cli-eval', 'other', 'few-shot', 'test', ?, 'running', ?, ?)",
            (params, T0, T0),
        ).lastrowid
        conn.executemany(
            "INSERT INTO candidates(problem_id, source, eval_id, sample_index, code, code_hash,"
            " created_at) VALUES (?, 'student', ?, ?, 'x', 'h', ?)",
            [("t1", eval_id, 0, T0 + 5), ("t1", eval_id, 1, T0 + 6), ("t2", eval_id, 0, T0 + 7)],
        )
    finally:
        conn.close()
    app = EktApp(root, poll=False, clock=lambda: T0 + 75)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        table = screen.query_one(EvalRunningTable)
        cells = [str(c) for c in table.get_row(str(eval_id))]
        assert cells == ["cli-eval", "other", "1/3", "3", "0", "evaluating · 0:01:15", "elsewhere"]
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, EvaluationScreen)  # nothing to confirm: not ours
        assert _status(root) == [("cli-eval", "other", "running")]


async def test_quit_cancels_a_running_eval(tmp_path: Path, backend: Gated) -> None:
    root, ckpt = make_launch_project(tmp_path / "p")
    app = EktApp(root, poll=False)
    async with app.run_test(size=(160, 44)) as pilot:
        dialog = await _open_dialog(pilot)
        dialog.query_one("#el-model", Select).value = str(ckpt)
        _fill(dialog, n="1", k="1", name="on-quit")
        await pilot.pause()
        await pilot.press("ctrl+s")
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        await _wait(pilot, lambda: bool(screen.running), "the running row")
        await pilot.press("q")
        await pilot.pause(0.5)
    assert _status(root) == [("on-quit", "sft-1@step4", "cancelled")]
