"""Training screen in a pilot (hosted by the real app, key 4): reattach to stored runs, select,
bad input, a real tiny launch."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Input, Log, Static

from core.store import connect_sync
from ekt_tui.app import EktApp
from ekt_tui.screens.training import TrainingScreen
from ekt_tui.widgets.train_runs import TrainRunsTable
from tests.core.train.conftest import make_gold_project
from tests.tiny_model import make_tiny_model
from tests.tui.helpers import make_app, settle
from tests.tui.train_fixture import make_train_project


@asynccontextmanager
async def training(root: Path) -> AsyncIterator[tuple[EktApp, Pilot[None]]]:
    """The real app on `root`, switched to the Training screen (key 4) and settled."""
    app = make_app(root)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await wait_workers(pilot)
        yield app, pilot


def notes(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def wait_workers(pilot: Pilot[None]) -> None:
    await settle(pilot, delay=0.35)  # the preview is debounced by 0.3 s


def summary_text(screen: TrainingScreen) -> str:
    return str(screen.query_one("#train-summary", Static).render())


async def test_reattaches_selects_and_explains_failures(tmp_path: Path) -> None:
    async with training(make_train_project(tmp_path / "p")) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        assert [r["name"] for r in screen.runs] == ["sft-2", "sft-1"]
        assert screen.selected == 2 and "step 30/30" in summary_text(screen)
        log = screen.query_one(Log)
        assert any("dev pass@1 50.0%" in line for line in log.lines)
        assert "12 examples from 8 problems" in str(
            screen.query_one("#train-preview", Static).render()
        )
        assert screen.query_one("#train-resume", Button).disabled  # a finished run
        screen.query_one(TrainRunsTable).focus()
        await pilot.press("down")
        await wait_workers(pilot)
        assert screen.selected == 1 and "cancelled" in summary_text(screen)
        assert not screen.query_one("#train-resume", Button).disabled
        await pilot.press("r")  # no spec.json behind this seeded run: a clear notification
        await wait_workers(pilot)
        assert any("cannot be resumed" in n for n in notes(app))
        await pilot.press("c")
        await wait_workers(pilot)
        assert any("is not running" in n for n in notes(app))


async def test_preview_follows_the_policy_and_bad_numbers(tmp_path: Path) -> None:
    async with training(make_train_project(tmp_path / "p")) as (app, pilot):
        screen = app.screen
        screen.query_one("#tf-max_per_problem", Input).value = "1"
        from textual.widgets import Select

        screen.query_one("#tf-gold_policy", Select).value = "max-per-problem"
        await wait_workers(pilot)
        preview = screen.query_one("#train-preview", Static)
        assert "8 examples from 8 problems" in str(preview.render())
        screen.query_one("#tf-dev", Input).value = "lots"
        await wait_workers(pilot)
        assert "dev problems: 'lots' is not a valid int" in str(preview.render())


async def test_launch_without_gold_notifies(tmp_path: Path) -> None:
    async with training(make_gold_project(tmp_path / "p", with_gold=False)) as (app, pilot):
        assert "no gold yet" in str(app.screen.query_one("#train-preview", Static).render())
        await pilot.click("#train-launch")
        await wait_workers(pilot)
        assert any("no gold yet" in n for n in notes(app))
        conn = connect_sync(tmp_path / "p" / "ekt.db", readonly=True)
        assert conn.execute("SELECT count(*) FROM train_runs").fetchone()[0] == 0
        conn.close()


async def test_launch_a_tiny_run_from_the_form(tmp_path: Path) -> None:
    model = make_tiny_model(tmp_path / "tiny")
    root = make_gold_project(tmp_path / "p")
    async with training(root) as (app, pilot):
        screen = app.screen
        for field, value in {"student": str(model), "max_steps": "2", "max_length": "64",
                             "batch_size": "4", "name": "from-tui"}.items():  # fmt: skip
            screen.query_one(f"#tf-{field}", Input).value = value
        await pilot.click("#train-launch")
        await wait_workers(pilot)
        assert any("training run started" in n for n in notes(app))
        conn = connect_sync(root / "ekt.db", readonly=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = conn.execute("SELECT status FROM train_runs WHERE name = 'from-tui'").fetchone()
            if row[0] in ("done", "failed"):
                break
            await pilot.pause(0.2)
        conn.close()
        await app.refresh_now()
        await wait_workers(pilot)
        assert [r["name"] for r in screen.runs] == ["from-tui"]
        assert screen.runs[0]["status"] == "done", screen.runs[0]["error"]
        assert "step 2/2" in summary_text(screen)
        assert screen.query_one("#train-checkpoints").row_count == 1


async def test_installed_in_the_app_with_key_and_palette(tmp_path: Path) -> None:
    app = make_app(make_train_project(tmp_path / "p"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, TrainingScreen)
        labels = [entry[0] for entry in app.command_entries()]
        assert "Go to Training" in labels
        assert "Training: cancel the selected run (checkpoint, then stop)" in labels
