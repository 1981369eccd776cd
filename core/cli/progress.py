"""Live progress of the long CLI commands (`ekt sample`, `ekt verify`, `ekt eval`).

On a terminal (stderr is a tty, no --json) it is a rich progress display: what is happening
(e.g. "loading model …" before the first item, with the elapsed time ticking), items done/total,
tokens/s where the command produces tokens, elapsed time and ETA. Otherwise it prints the plain
lines these commands always printed (or nothing), which scripts and tests parse. Commands feed
it from the engine's events or callbacks; it never reads the store.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def live_terminal(as_json: bool = False) -> bool:
    """Whether to draw a live display: stderr is a terminal and the output is not JSON."""
    return not as_json and sys.stderr.isatty()


class CliProgress:
    """One command's progress; use as a context manager around the work.

    `plain` (non-terminal mode) returns the line to print, at most every `plain_every_s`
    seconds (0: on every update); without it nothing is printed off a terminal."""

    def __init__(
        self,
        what: str,
        *,
        live: bool,
        unit: str = "items",
        total: int | None = None,
        plain: Callable[[], str] | None = None,
        plain_every_s: float = 5.0,
        console: Console | None = None,
    ) -> None:
        self.what, self.live, self.unit = what, live, unit
        self.total = total
        self.plain, self.plain_every_s = plain, plain_every_s
        self.done = 0
        self.tokens = 0
        self.started = time.monotonic()
        self.first_item: float | None = None  # tokens/s counts from the first request on
        self._last_plain = self.started
        self._phase = what
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._console = console

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> CliProgress:
        if self.live:
            console = self._console or Console(file=sys.stderr, force_terminal=True)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[eta]}"),
                TimeRemainingColumn(),
                console=console,
                refresh_per_second=4,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                self.what, total=self.total, unit=self.unit, rate="", eta=self._eta_label()
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            if exc_type is None:
                self._redraw()
            self._progress.stop()
            self._progress = None

    # -- feeding ----------------------------------------------------------------------------------
    def phase(self, text: str) -> None:
        """What is happening now (e.g. "loading model smollm2 …"); shown before the counts."""
        self._phase = text
        self._redraw()

    def update(
        self,
        *,
        done: int | None = None,
        total: int | None = None,
        tokens: int | None = None,
        force: bool = False,
    ) -> None:
        """Absolute counts (None keeps the last value)."""
        if done is not None:
            if done and self.first_item is None:
                self.first_item = time.monotonic()
            self.done = done
        if total is not None:
            self.total = total
        if tokens is not None:
            self.tokens = tokens
        if self.live:
            self._redraw()
        else:
            self._plain(force)

    def rate(self) -> float | None:
        """Tokens per second since the first item (None before there is one)."""
        if not self.tokens:
            return None
        since = self.first_item if self.first_item is not None else self.started
        return self.tokens / max(time.monotonic() - since, 1e-6)

    def _redraw(self) -> None:
        if self._progress is None or self._task is None:
            return
        rate = self.rate()
        self._progress.update(
            self._task,
            description=self._phase,
            completed=self.done,
            total=self.total,
            rate=f"{rate:,.0f} tok/s" if rate is not None else "",
            eta=self._eta_label(),
        )

    def _eta_label(self) -> str:
        return "ETA" if self.total is not None else ""

    def _plain(self, force: bool) -> None:
        if self.plain is None:
            return
        now = time.monotonic()
        if not force and now - self._last_plain < self.plain_every_s:
            return
        self._last_plain = now
        click.echo(self.plain(), err=True)


def phase_text(kind: str, spec: Any) -> str:
    """The waiting line before the first item: a local model loads, an endpoint is opened."""
    return f"loading model {spec} …" if kind == "local" else f"starting {spec} …"
