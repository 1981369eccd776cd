"""`ekt init` and `ekt status`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from core.cli.app import cli, run
from core.cli.status_view import render_status
from core.project import DB_NAME, init_project
from core.prompts import seed_default_prompts
from core.status import project_status
from core.store import Store


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--name", help="Project name (default: the folder's name).")
def init(directory: Path | None, name: str | None) -> None:
    """Create a project: DIRECTORY/ekt.toml (every default, commented) and DIRECTORY/ekt.db."""
    root = directory or click.get_current_context().find_root().obj
    init_project(root, name=name)
    asyncio.run(_seed(root / DB_NAME))
    click.echo(f"created project {root} (edit {root / 'ekt.toml'})")


async def _seed(db: Path) -> None:
    """Default prompts as v1, so `prompt list` and runs name a stored version from the start."""
    async with await Store.open(db) as store:
        await seed_default_prompts(store)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status(as_json: bool) -> None:
    """Problems, candidates, verdicts, gold, requests, tokens and cost, per run."""
    data = run(project_status, readonly=True)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        render_status(data)
