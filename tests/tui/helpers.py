"""Driving EktApp in tests: open a seeded project, wait for the app's workers (not the bus)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual.pilot import Pilot

from ekt_tui.app import EktApp
from tests.tui.seed import T0

NOW = T0 + 100.0
SKIP = {"bus", "sampling"}


def frozen() -> float:
    return NOW


def make_app(root: Path, **kw: object) -> EktApp:
    return EktApp(root, clock=frozen, poll=False, **kw)  # type: ignore[arg-type]


async def settle(pilot: Pilot[None], rounds: int = 3, delay: float | None = None) -> None:
    """Let messages run (`delay` seconds a round: a debounce, the app's refresh tick) and wait
    for every worker except the endless bus follower and a sampling run (which may be paused:
    tests await `app.sampler.worker` themselves)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause(delay)
        for worker in [w for w in app.workers if w.group not in SKIP and not w.is_finished]:
            with contextlib.suppress(Exception):
                await worker.wait()
    await pilot.pause()


async def refreshed(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.app.refresh_now()  # type: ignore[attr-defined]
    await settle(pilot)
