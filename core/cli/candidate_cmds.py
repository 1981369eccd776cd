"""`ekt candidates`: list, show, hand-edit and gold-mark candidates without the TUI.

The same core calls as the TUI inspector (core.edits), so a headless user on a server can fix a
near-miss into gold exactly as the dashboard does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from core.cli.app import cli, run
from core.edits import save_edit
from core.errors import StoreError
from core.gold import candidate_row, set_gold
from core.project import Project
from core.queries import CandidateListing, find_candidates

SOURCES = ("teacher", "student", "edit", "refine")


@cli.group()
def candidates() -> None:
    """Candidate programs: list, show, edit (a verified copy) and gold marks."""


@candidates.command("list")
@click.option("--problem", "problem_id", help="Only this problem.")
@click.option("--run", "run_ref", help="Only this run (name or id).")
@click.option("--status", help="Only this verdict status ('pending': none yet).")
@click.option("--source", type=click.Choice(SOURCES), help="Only this source.")
@click.option("--gold", "gold_only", is_flag=True, help="Only gold candidates.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines on stdout.")
def list_cmd(
    problem_id: str | None,
    run_ref: str | None,
    status: str | None,
    source: str | None,
    gold_only: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Newest first: id, problem, source, verdict, gold, first line of the detail."""

    async def go(project: Project) -> list[CandidateListing]:
        return await find_candidates(
            project.store,
            problem_id=problem_id,
            run_ref=run_ref,
            status=status,
            source=source,
            gold_only=gold_only,
            limit=limit,
        )

    for c in run(go, readonly=True):
        if as_json:
            click.echo(json.dumps(c.as_dict()))
            continue
        detail = c.v_detail.splitlines()[0][:60] if c.v_detail else ""
        made = "refinement" if c.source == "refine" else "edit"
        parent = f" ({made} of {c.parent_id})" if c.parent_id else ""
        click.echo(
            f"{c.id:>7}  {c.problem_id:<24} {c.source:<8}{parent}"
            f" {c.v_status or 'pending':<12} {'gold' if c.gold else '    '}  {detail}"
        )


@candidates.command()
@click.argument("candidate_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def show(candidate_id: int, as_json: bool) -> None:
    """The candidate's code, its verdict and whether it is gold."""

    async def go(project: Project) -> dict[str, Any]:
        return await candidate_row(project, candidate_id)

    row = run(go, readonly=True)
    if as_json:
        click.echo(json.dumps(row))
        return
    made = "refinement" if row["source"] == "refine" else "edit"
    parent = f", {made} of {row['parent_id']}" if row["parent_id"] else ""
    click.echo(f"# candidate {row['id']} · problem {row['problem_id']} · {row['source']}{parent}")
    verdict = row["v_status"] or "pending"
    click.echo(f"# verdict: {verdict}{': ' + row['v_detail'] if row['v_detail'] else ''}")
    click.echo(f"# gold: {'yes' if row['gold'] else 'no'}")
    click.echo(row["code"])


@candidates.command()
@click.argument("candidate_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def edit(candidate_id: int, file: Path, as_json: bool) -> None:
    """Save FILE ('-' for stdin) as a hand edit of CANDIDATE_ID and verify it at once.

    The original is kept; the edit is a new candidate linked to it. Exit status: 0 when the
    edit passes, 2 for any other verdict, 1 when it could not be saved."""
    try:
        code = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None

    async def go(project: Project) -> tuple[int, Any]:
        return await save_edit(project, candidate_id, code)

    new_id, verdict = run(go)
    if as_json:
        click.echo(json.dumps({"candidate_id": new_id, "parent_id": candidate_id,
                               **verdict.to_dict()}))  # fmt: skip
    else:
        click.echo(
            f"candidate {new_id} (edit of {candidate_id}): {verdict.status}: {verdict.detail}"
            f" ({verdict.duration_s * 1000:.0f} ms){' — gold' if verdict.status == 'pass' else ''}"
        )
    sys.exit(0 if verdict.status == "pass" else 2)


@candidates.command()
@click.argument("candidate_id", type=int)
@click.option("--off", "mode", flag_value="off", help="Keep it out of gold even if it passes.")
@click.option("--auto", "mode", flag_value="auto", help="Let its verdict decide again.")
def gold(candidate_id: int, mode: str | None) -> None:
    """Mark CANDIDATE_ID as gold (a human decision that overrides its verdict)."""
    value = {None: True, "off": False, "auto": None}[mode]

    async def go(project: Project) -> bool:
        return await set_gold(project, candidate_id, value)

    now = run(go)
    click.echo(f"candidate {candidate_id}: {'gold' if now else 'not gold'}")
