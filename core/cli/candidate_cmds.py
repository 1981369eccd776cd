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
from core.edits import candidate_row, is_gold, save_edit, set_gold
from core.errors import StoreError
from core.project import Project

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
    where, params = ["1"], []  # type: ignore[var-annotated]
    if problem_id:
        where.append("c.problem_id = ?")
        params.append(problem_id)
    if run_ref:
        where.append("c.run_id = (SELECT id FROM runs WHERE name = ? OR CAST(id AS TEXT) = ?)")
        params += [run_ref, run_ref]
    if status == "pending":
        where.append("v.status IS NULL")
    elif status:
        where.append("v.status = ?")
        params.append(status)
    if source:
        where.append("c.source = ?")
        params.append(source)
    if gold_only:
        where.append("(c.gold_override = 1 OR (c.gold_override IS NULL AND v.status = 'pass'))")

    async def go(project: Project) -> list[Any]:
        return await project.store.fetchall(
            "SELECT c.id, c.problem_id, c.source, c.parent_id, c.gold_override,"
            " v.status AS v_status, v.detail AS v_detail FROM candidates c"
            " LEFT JOIN verdicts v ON v.candidate_id = c.id"
            f" WHERE {' AND '.join(where)} ORDER BY c.id DESC LIMIT ?",
            (*params, limit),
        )

    for r in run(go, readonly=True):
        gold = is_gold(r["v_status"], r["gold_override"])
        if as_json:
            click.echo(json.dumps({**dict(r), "gold": gold}))
            continue
        detail = (r["v_detail"] or "").splitlines()[0][:60] if r["v_detail"] else ""
        parent = f" (edit of {r['parent_id']})" if r["parent_id"] else ""
        click.echo(
            f"{r['id']:>7}  {r['problem_id']:<24} {r['source']:<8}{parent}"
            f" {r['v_status'] or 'pending':<12} {'gold' if gold else '    '}  {detail}"
        )


@candidates.command()
@click.argument("candidate_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def show(candidate_id: int, as_json: bool) -> None:
    """The candidate's code, its verdict and whether it is gold."""

    async def go(project: Project) -> dict[str, Any]:
        return dict(await candidate_row(project, candidate_id))

    row = run(go, readonly=True)
    row["gold"] = is_gold(row["v_status"], row["gold_override"])
    if as_json:
        click.echo(json.dumps(row))
        return
    parent = f", edit of {row['parent_id']}" if row["parent_id"] else ""
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
