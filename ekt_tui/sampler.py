"""Start / pause / resume / stop a sampling run inside the app's event loop.

The engine (`core.sampling.sample`) runs as a plain async worker in the app's loop, so its
events reach the dashboard through the project bus with no thread hop. `RunControl` is the
engine's own pause/stop switch.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from core import RefineOptions, RunControl, RunSummary, SampleOptions, refine, sample

if TYPE_CHECKING:
    from ekt_tui.app import EktApp


class Sampler:
    """One run at a time from this app; its state is what the dashboard's buttons show."""

    def __init__(self, app: EktApp) -> None:
        self.app = app
        self.control: RunControl | None = None
        self.worker: Worker[RunSummary] | None = None
        self.state = "idle"  # idle | running | paused | stopping
        self.last_summary: RunSummary | None = None
        self.run_name: str | None = None  # the `run` option of the current/last start

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.is_finished

    def start(self, **options: Any) -> Worker[RunSummary] | None:
        """Start sampling with the project's config (plus `options`); None if already running.
        The engine opens the configured `Teacher` itself (and closes it when the run ends)."""
        if self.running:
            self.app.notify("A sampling run is already in progress", severity="warning")
            return None
        try:
            opts = SampleOptions(**options)
        except (TypeError, ValueError) as exc:  # an option this engine does not know
            self.app.notify(f"Cannot start sampling: {exc}", severity="error")
            return None
        self.control = RunControl()
        self.run_name = options.get("run")
        self.state = "running"
        self.worker = self.app.run_worker(
            self._run(opts), group="sampling", exit_on_error=False, name="sampling"
        )
        return self.worker

    def start_refine(self, options: RefineOptions) -> Worker[RunSummary] | None:
        """A refine run (core.refine) in the same slot: the dashboard shows it like sampling."""
        if self.running:
            self.app.notify("A sampling run is already in progress", severity="warning")
            return None
        self.control = RunControl()
        self.run_name = options.run
        self.state = "running"
        self.worker = self.app.run_worker(
            self._run(options), group="sampling", exit_on_error=False, name="sampling"
        )
        return self.worker

    async def _run(self, options: SampleOptions | RefineOptions) -> RunSummary:
        try:
            if isinstance(options, RefineOptions):
                summary = await refine(self.app.project, options, control=self.control)
            else:
                summary = await sample(self.app.project, options, control=self.control)
            self.last_summary = summary
            verdicts = ", ".join(f"{k} {v}" for k, v in sorted(summary.verdicts.items()))
            message = f"Run {summary.name}: {summary.state}, {summary.samples} samples"
            message += f" ({verdicts})" if verdicts else ""
            if summary.message:
                message += f" — {summary.message}"
            self.app.notify(
                message,
                severity="warning"
                if summary.budget_exhausted or summary.state == "incomplete"
                else "information",
            )
            return summary
        finally:
            self.state = "idle"
            self.app.live.dirty = True

    def pause(self) -> None:
        if self.running and self.control is not None and self.state == "running":
            self.control.pause()
            self.state = "paused"

    def resume(self) -> None:
        if self.running and self.control is not None and self.state == "paused":
            self.control.resume()
            self.state = "running"

    async def stop(self, timeout: float | None = None) -> None:
        """Ask the engine to stop (requests in flight are cancelled and stay pending, the run
        is marked stopped) and wait for it, at most `timeout` seconds."""
        if self.running and self.control is not None:
            self.state = "stopping"
            self.control.stop()
            if self.worker is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.worker.wait(), timeout)
