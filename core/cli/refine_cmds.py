"""`ekt feedback` (add / list language feedback on a candidate) and `ekt refine` (a refine run:
the teacher corrects failing candidates given feedback; see core/refine).

`ekt refine` takes every [teacher] and [sampling] flag `ekt sample` takes (derived from the
field table) and shows the same progress and summary."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import click

from core.cli.app import cli as root
from core.cli.app import run, stop_on_signals
from core.cli.options import config_options, overrides
from core.cli.progress import CliProgress, live_terminal
from core.cli.sample_cmds import _dry_text, _Progress, _split_ids, _summary_text, _watch
from core.errors import ConfigError
from core.project import Project


@root.group()
def feedback() -> None:
    """Language feedback on candidates (human, execution, teacher): what refine starts from."""


@feedback.command("add")
@click.argument("candidate_id", type=int)
@click.argument("text", required=False)
@click.option("--file", "path", type=click.Path(path_type=Path), help="Read the text from a file.")
@click.option("--json", "as_json", is_flag=True, help="The stored row as JSON.")
def feedback_add(candidate_id: int, text: str | None, path: Path | None, as_json: bool) -> None:
    """Write human feedback on CANDIDATE_ID: TEXT, or the contents of --file."""
    from core.refine import add_feedback

    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
    row = run(lambda p: add_feedback(p, candidate_id, text or "", "human"))
    click.echo(json.dumps(row.as_dict()) if as_json else f"feedback #{row.id} on {candidate_id}")


@feedback.command("list")
@click.option("--candidate", "candidate_id", type=int, help="Only this candidate.")
@click.option("--author", type=click.Choice(["human", "execution", "teacher"]))
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout.")
def feedback_list(candidate_id: int | None, author: str | None, as_json: bool) -> None:
    """Feedback, oldest first."""
    from core.queries.feedback import list_feedback

    rows = run(lambda p: list_feedback(p.store, candidate_id, author), readonly=True)
    for r in rows:
        if as_json:
            click.echo(json.dumps(r.as_dict()))
        else:
            text = " ".join(r.text.split())
            click.echo(f"#{r.id}  candidate {r.candidate_id}  {r.author:<9}  {text[:100]}")
    if not rows and not as_json:
        click.echo("no feedback")


def _ids(value: str | None) -> list[int] | None:
    parts = _split_ids(value)
    if parts is None:
        return None
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"candidates {value!r}: expected candidate ids, e.g. 12,15") from None


@root.command("refine")
@config_options("teacher")
@config_options("sampling")
@click.option(
    "--feedback",
    "kind",
    type=click.Choice(["human", "execution", "teacher"]),
    default="execution",
    show_default=True,
    help="Which feedback the teacher gets.",
)
@click.option("--problems", metavar="ID,...", help="Only candidates of these problems.")
@click.option("--candidates", "candidate_ids", metavar="ID,...", help="Exactly these candidates.")
@click.option("--unsolved-only", is_flag=True, help="Only problems without gold yet.")
@click.option("--limit", type=int, help="At most N candidates.")
@click.option("--refinements", is_flag=True, help="Also failing refinements (refine a chain).")
@click.option("--run", "run_name", metavar="NAME", help="Refine run to create or continue.")
@click.option("--refine-prompt", metavar="SPEC", help="Refine prompt (NAME, NAME@N, #ID).")
@click.option("--critique-prompt", metavar="SPEC", help="Critique prompt for --feedback teacher.")
@click.option(
    "--dry-run", is_flag=True, help="Print requests, tokens and cost bound; send nothing."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def refine_cmd(
    kind: str, problems: str | None, candidate_ids: str | None, unsolved_only: bool,
    limit: int | None, refinements: bool, run_name: str | None, refine_prompt: str | None,
    critique_prompt: str | None, dry_run: bool, as_json: bool, **fields: Any,
) -> None:  # fmt: skip
    """Refine failing candidates with feedback; re-running the same command continues."""
    from core.refine import RefineOptions, refine, refine_dry_run
    from core.sampling import RunControl

    sampling = overrides("sampling", fields)
    if refine_prompt is not None:
        sampling.pop("prompt", None)
    options = RefineOptions(
        feedback=kind, candidates=_ids(candidate_ids), problems=_split_ids(problems),
        unsolved_only=unsolved_only, limit=limit, refinements=refinements, run=run_name,
        prompt=refine_prompt, critique_prompt=critique_prompt,
        teacher=overrides("teacher", fields), sampling=sampling,
    )  # fmt: skip
    if dry_run:
        est = run(lambda p: refine_dry_run(p, options))
        if as_json:
            click.echo(json.dumps(est.to_dict()))
            return
        click.echo(_dry_text(est.estimate).replace("dry run:", "dry run (refine):", 1))
        click.echo(f"  failing candidates with {kind} feedback {est.candidates}"
                   f" · skipped {len(est.skipped)}"
                   + (f" · critiques to write first {est.critiques_needed}"
                      if est.critiques_needed else ""))  # fmt: skip
        return

    async def go(project: Project) -> Any:
        control = RunControl()
        stop_on_signals(control.stop)
        progress = _Progress()
        display = CliProgress("refining", live=live_terminal(as_json), unit="requests",
                              plain=progress.line, plain_every_s=5.0)  # fmt: skip
        with display:
            watcher = asyncio.create_task(_watch(project, progress, display))
            try:
                return await refine(project, options, control=control)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    summary = run(go)
    click.echo(json.dumps(summary.to_dict()) if as_json else _summary_text(summary))
