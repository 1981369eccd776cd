"""The root click group and the error boundary shared by every command."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from core.errors import EktError
from core.project import DB_NAME, Project
from core.store.db import unreadable
from core.version import ekt_version

T = TypeVar("T")


class EktGroup(click.Group):
    """Turns EktError (and Ctrl-C) into one line on stderr and a non-zero exit; a store that
    SQLite finds corrupt only mid-query is the same one line as one refused on open."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EktError as exc:
            click.echo(f"ekt: error: {exc}", err=True)
            sys.exit(1)
        except sqlite3.DatabaseError as exc:
            db = (ctx.obj or Path(".")) / DB_NAME
            click.echo(f"ekt: error: {unreadable(db, exc)}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("ekt: interrupted", err=True)
            sys.exit(130)


@click.group(cls=EktGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-p",
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project folder (holds ekt.toml and ekt.db).",
)
@click.version_option(
    ekt_version(), "-V", "--version", prog_name="ekt", message="%(prog)s %(version)s"
)
@click.pass_context
def cli(ctx: click.Context, project: Path) -> None:
    """ekt: Explicit Knowledge Transfer, headless."""
    ctx.obj = project


def project_dir() -> Path:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


def stop_on_signals(stop: Callable[[], None]) -> None:
    """In the running loop: the first Ctrl-C (or SIGTERM) calls `stop` (the run ends cleanly and
    stays resumable), a second aborts ("ekt: interrupted", status 130). Where the loop has no
    signal handlers (Windows), Python's default Ctrl-C stays."""
    loop = asyncio.get_running_loop()
    hits = 0

    def on_signal() -> None:
        nonlocal hits
        hits += 1
        if hits > 1:
            raise KeyboardInterrupt
        click.echo("\nekt: stopping (Ctrl-C again to abort)", err=True)
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)


def run(coro_fn: Callable[[Project], Awaitable[T]], *, readonly: bool = False) -> T:
    """Open the current project, run `coro_fn(project)` on a fresh event loop, close it."""

    async def go() -> T:
        project = await Project.open(project_dir(), readonly=readonly)
        try:
            return await coro_fn(project)
        finally:
            await project.close()

    return asyncio.run(go())


def main() -> None:
    cli(prog_name="ekt")
