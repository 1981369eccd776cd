"""`ekt judge`: the teacher scores gold programs against the judge prompt's criteria."""

from __future__ import annotations

import json
from typing import Any

import click

from core.cli.app import cli as root
from core.cli.app import run
from core.cli.options import config_options, overrides
from core.cli.progress import CliProgress, live_terminal
from core.project import Project


def _text(r: Any) -> str:
    if r.dry_run:
        return (
            f"dry run: would judge {r.planned} gold candidates with {r.teacher} ({r.prompt};"
            f" {r.skipped} judged already) · prompt tokens ≈{r.prompt_tokens}\n"
            "  nothing was sent and nothing was written"
        )
    scores = ", ".join(f"{s}: {n}" for s, n in sorted(r.scores.items())) or "none"
    lines = [
        f"judged {r.judged} of {r.planned} with {r.teacher} ({r.prompt}): {r.unparsed} unparsable,"
        f" {r.failed} failed, {r.skipped} judged already · ${r.cost_usd:.4f}",
        f"  scores: {scores}",
    ]
    if r.budget_exhausted:
        lines.append("  stopped: budget exhausted")
    return "\n".join(lines)


@root.command("judge")
@config_options("teacher")
@click.option("--run", "run_name", metavar="RUN", help="Only gold of this sampling run.")
@click.option("--problems", metavar="ID,...", help="Only gold of these problems.")
@click.option("--limit", type=int, help="Judge at most N candidates.")
@click.option("--prompt", "prompt_spec", metavar="SPEC", help="Judge prompt (default: judge).")
@click.option("--budget-usd", type=float, help="Stop once this much is spent.")
@click.option("--again", is_flag=True, help="Also candidates this prompt judged already.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def judge_cmd(
    run_name: str | None,
    problems: str | None,
    limit: int | None,
    prompt_spec: str | None,
    budget_usd: float | None,
    again: bool,
    dry_run: bool,
    as_json: bool,
    **fields: Any,
) -> None:
    """Ask the teacher to score gold programs 1-10 (computes from the question's quantities,
    nothing hard-coded, steps that match, readable); replies are stored per candidate."""
    from core.judge import JudgeOptions, judge

    ids = [p.strip() for p in problems.split(",") if p.strip()] if problems else None
    options = JudgeOptions(
        run=run_name, problems=ids, limit=limit, prompt=prompt_spec,
        teacher=overrides("teacher", fields), budget_usd=budget_usd, again=again,
    )  # fmt: skip
    display = CliProgress("judging", live=live_terminal(as_json), unit="candidates")

    async def go(project: Project) -> Any:
        with display:
            return await judge(
                project, options, dry_run=dry_run,
                on_progress=lambda d, t: display.update(done=d, total=t),
            )  # fmt: skip

    report = run(go)
    click.echo(json.dumps(report.to_dict()) if as_json else _text(report))
