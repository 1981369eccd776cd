"""An unexpected error inside the Training or the Evaluation screen (its refresh or one of its
workers) becomes exactly one notification from the app's one handler: not lost, never a
traceback, the app keeps running, and a refresh that keeps failing does not stack them up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ekt_tui.app import EktApp
from ekt_tui.screens import evaluation, training
from ekt_tui.screens.evaluation import EvaluationScreen
from ekt_tui.screens.training import TrainingScreen
from tests.tui.eval_fixture import make_eval_project
from tests.tui.helpers import make_app, settle
from tests.tui.train_fixture import make_train_project


def errors(app: EktApp) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "error"]


def assert_alive(app: EktApp, screen_type: type) -> None:
    assert app.is_running and app._exception is None
    assert isinstance(app.screen, screen_type)


async def until(pilot: Any, condition: Any, timeout_s: float = 10.0) -> None:
    """Settle until `condition()` holds (a debounced worker on a loaded machine), or fail."""
    for _ in range(int(timeout_s / 0.1)):
        if condition():
            return
        await settle(pilot, rounds=1, delay=0.1)
    raise AssertionError("condition never held")


def failing(exc: Exception, times: int, real: Any) -> Any:
    """`real`, except that its first `times` calls raise `exc`."""
    calls = {"n": 0}

    async def fn(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise exc
        return await real(*args, **kw)

    return fn


async def test_training_refresh_error_is_one_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = training.train_checkpoints
    monkeypatch.setattr(
        training, "train_checkpoints", failing(RuntimeError("checkpoints\nunreadable"), 99, real)
    )
    app = make_app(make_train_project(tmp_path / "p"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await until(pilot, lambda: errors(app))
        await settle(pilot, delay=0.35)
        assert errors(app) == ["RuntimeError: checkpoints"]
        for key in ("g", "g", "g"):  # refreshes that fail the same way again
            await pilot.press(key)
            await settle(pilot, delay=0.15)
        assert errors(app) == ["RuntimeError: checkpoints"]
        assert_alive(app, TrainingScreen)
        monkeypatch.setattr(training, "train_checkpoints", real)
        await pilot.press("g")
        await settle(pilot, delay=0.15)
        screen = app.screen
        assert [r["name"] for r in screen.runs] == ["sft-2", "sft-1"]  # type: ignore[attr-defined]
        assert screen.selected == 2  # type: ignore[attr-defined]
        assert screen.query_one("#train-checkpoints").row_count > 0


async def test_training_worker_error_is_one_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        training,
        "preview_method",
        failing(ZeroDivisionError("no tokens"), 1, training.preview_method),
    )
    app = make_app(make_train_project(tmp_path / "p"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await until(pilot, lambda: errors(app))  # the debounced preview worker fails once
        await settle(pilot, delay=0.35)
        assert errors(app) == ["ZeroDivisionError: no tokens"]
        assert_alive(app, TrainingScreen)
        assert app.screen.runs  # type: ignore[attr-defined]  # the refresh itself went on


async def test_evaluation_refresh_error_is_one_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = evaluation.comparison_rows
    monkeypatch.setattr(evaluation, "comparison_rows", failing(KeyError("pass_at_k"), 1, real))
    app = make_app(make_eval_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert errors(app) == ["KeyError: 'pass_at_k'"]
        assert_alive(app, EvaluationScreen)
        await pilot.press("r")  # the next refresh works
        await settle(pilot)
        assert len(app.screen.rows) == 3  # type: ignore[attr-defined]
        assert errors(app) == ["KeyError: 'pass_at_k'"]


async def test_evaluation_error_on_moving_the_cursor_is_one_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(make_eval_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert errors(app) == []
        real = evaluation.comparison_rows
        monkeypatch.setattr(evaluation, "comparison_rows", failing(OSError("disk I/O"), 9, real))
        for key in ("down", "down", "up"):
            await pilot.press(key)
            await settle(pilot)
        assert errors(app) == ["OSError: disk I/O"]
        assert_alive(app, EvaluationScreen)
