"""`ekt select`: a diverse subset by k-center greedy over embeddings, stored by name, printed
beside a seeded random subset's radius; `ekt select list` shows the stored ones."""

from __future__ import annotations

import json
from typing import Any

import click

from core.cli.app import cli as root
from core.cli.app import run
from core.cli.progress import CliProgress, live_terminal
from core.project import Project


def _text(sel: Any) -> str:
    ratio = sel.radius / sel.random_radius if sel.random_radius else float("nan")
    p = sel.params
    return (
        f"selection {sel.name}: {len(sel.ids)} of {p.get('pool', '?')} by {sel.by}"
        f" (from {p.get('from')}{', split ' + p['split'] if p.get('split') else ''};"
        f" embedder {p.get('embedder')})\n"
        f"  coverage radius {sel.radius:.4f} vs random {sel.random_radius:.4f}"
        f" (×{ratio:.2f})"
    )


@root.group("select", invoke_without_command=True)
@click.option("--k", "k", type=int, metavar="K", help="How many items to pick.")
@click.option(
    "--by", type=click.Choice(["question", "code"]), default="question", show_default=True,
    help="Embed problems' questions or gold programs.",
)  # fmt: skip
@click.option(
    "--from", "source", type=click.Choice(["all", "unsolved", "gold"]), default="all",
    show_default=True, help="The pool: every problem, those without gold, those with gold.",
)  # fmt: skip
@click.option("--split", help="Only problems of this split.")
@click.option(
    "--embedder", metavar="MODEL", help='Hub id or folder (default "smollm2", the student).'
)
@click.option("--name", help="Name to store it under (default from by/from/split/K).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.pass_context
def select_cmd(
    ctx: click.Context,
    k: int | None,
    by: str,
    source: str,
    split: str | None,
    embedder: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """Pick the K most diverse problems (or gold programs): k-center greedy over embeddings."""
    if ctx.invoked_subcommand is not None:
        return
    from core.errors import ConfigError
    from core.select import make_selection

    if k is None:
        raise ConfigError("ekt select needs --k K")
    live = live_terminal(as_json)
    display = CliProgress(f"embedding {by}s", live=live, unit="items", plain_every_s=0)

    async def go(project: Project) -> Any:
        def progress(done: int, total: int) -> None:
            display.update(done=done, total=total)

        with display:
            return await make_selection(
                project.store, k=k, by=by, source=source, split=split, embedder=embedder,
                name=name, on_progress=progress,
            )  # fmt: skip

    sel = run(go)
    if as_json:
        click.echo(json.dumps({
            "name": sel.name, "ids": sel.ids, "radius": sel.radius,
            "random_radius": sel.random_radius, "by": sel.by, "params": sel.params,
        }))  # fmt: skip
    else:
        click.echo(_text(sel))


@select_cmd.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON list on stdout.")
def list_cmd(as_json: bool) -> None:
    """Stored selections: size, radius vs random."""
    from core.queries.selections import list_selections

    async def go(project: Project) -> Any:
        return await list_selections(project.store)

    sels = run(go, readonly=True)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in sels]))
        return
    if not sels:
        click.echo("no selections yet (ekt select --k K)")
    for s in sels:
        click.echo(_text(s))
