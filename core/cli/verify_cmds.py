"""`ekt verify`, `ekt check FILE --problem ID`, `ekt gold export OUT.jsonl`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from core.cli.app import cli, run
from core.cli.options import config_option
from core.cli.progress import CliProgress, live_terminal
from core.errors import VerifyError
from core.project import Project
from core.queries import count_unverified, find_run_id, get_problem


async def _resolve_run(project: Project, run_ref: str | None) -> int | None:
    if run_ref is None:
        return None
    run_id = await find_run_id(project.store, run_ref)
    if run_id is None:
        raise VerifyError(f"run {run_ref!r}: no such run in {project.db_path}")
    return run_id


async def _progress(project: Project, display: CliProgress) -> None:
    """Verdicts from the bus into the live display (only on a terminal)."""
    from core.events import CandidateVerified

    done = 0
    with project.bus.subscribe() as queue:
        while True:
            event = await queue.get()
            if isinstance(event, CandidateVerified):
                done += 1
                display.update(done=done)


def _summary_line(result: dict[str, Any]) -> str:
    by = ", ".join(f"{k} {v}" for k, v in sorted(result["by_status"].items()))
    rate = result["verified"] / result["elapsed_s"] if result["elapsed_s"] else 0.0
    return (
        f"verified {result['verified']} candidates (ran {result['executed']} programs,"
        f" {result['reused']} shared a verdict) in {result['elapsed_s']:.1f} s"
        f" ({rate:.0f}/s){': ' + by if by else ''}"
    )


@cli.command()
@click.option("--run", "run_ref", help="Only candidates of this run (name or id).")
@config_option("verifier", "workers", ranged=True)
@config_option("verifier", "timeout_s", option="timeout", ranged=True)
@config_option("verifier", "memory_mb", ranged=True)
@click.option("--calibrate", is_flag=True, help="Time reference programs; suggest a timeout.")
@click.option("--isolation", is_flag=True, help="Print the sandbox mechanisms in force here.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def verify(
    run_ref: str | None,
    workers: int | None,
    timeout: float | None,
    memory_mb: int | None,
    calibrate: bool,
    isolation: bool,
    as_json: bool,
) -> None:
    """Verify every candidate that has no verdict yet, in the sandbox."""
    from core.verify.calibrate import calibrate as do_calibrate
    from core.verify.service import verify_pending

    if isolation:
        from core.verify.isolation import describe, probe_isolation

        iso = asyncio.run(probe_isolation())
        click.echo(json.dumps(iso) if as_json else "\n".join(describe(iso)))
        return

    if calibrate:
        cal = run(lambda p: do_calibrate(p, workers=workers))
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(cal)))
            return
        click.echo(
            f"timed {cal.n} programs ({cal.references} reference solutions, every one the"
            f" problems carry; {cal.n - cal.references} passing candidates; {cal.passed}"
            f" passed): median {cal.median_s * 1000:.1f} ms, p95 {cal.p95_s * 1000:.1f} ms,"
            f" max {cal.max_s * 1000:.1f} ms ({cal.slowest})\nsuggested [verifier] timeout_s ="
            f" {cal.suggested_timeout_s:g} (now {cal.current_timeout_s:g})"
        )
        return

    async def go(project: Project) -> dict[str, Any]:
        run_id = await _resolve_run(project, run_ref)
        ticker = None
        display = CliProgress("verifying", live=live_terminal(as_json), unit="candidates")
        if display.live:
            display.total = await count_unverified(project.store, run_id)
            ticker = asyncio.create_task(_progress(project, display))
        with display:
            try:
                return await verify_pending(
                    project, run_id=run_id, workers=workers, timeout_s=timeout, memory_mb=memory_mb
                )
            finally:
                if ticker is not None:
                    ticker.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await ticker

    result = run(go)
    click.echo(json.dumps(result) if as_json else _summary_line(result))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--problem", "problem_id", required=True, help="Problem id to check against.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@config_option(
    "verifier", "timeout_s", option="timeout", ranged=True, help="Seconds for this program."
)
def check(file: Path, problem_id: str, as_json: bool, timeout: float | None) -> None:
    """Run one program (FILE, '-' for stdin) against a problem and print its verdict.

    Exit status: 0 when it passes, 2 for any other verdict, 1 when it could not be checked."""
    from core.verify.service import check_program, effective_config

    if str(file) == "-":
        code = sys.stdin.read()
    else:
        try:
            code = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VerifyError(
                f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}"
            ) from None

    async def go(project: Project) -> Any:
        row = await get_problem(project.store, problem_id)
        if row is None:
            raise VerifyError(f"problem {problem_id!r}: no such problem in {project.db_path}")
        config = effective_config(project.config.verifier, timeout_s=timeout)
        return await check_program(code, row, config)

    verdict = run(go, readonly=True)
    if as_json:
        click.echo(json.dumps(verdict.to_dict()))
    else:
        from core.sanitize import sanitize_for_terminal as safe

        mark = "" if verdict.trusted_harness else " [untrusted harness]"
        flags = "".join(f" [{f}]" for f in verdict.flags if f != "untrusted-harness")
        click.echo(
            f"{verdict.status}{flags}{mark}: {safe(verdict.detail, keep_newlines=False)}"
            f" ({verdict.duration_s * 1000:.0f} ms)"
        )
        if verdict.output and verdict.status != "pass":
            click.echo("output:\n" + safe(verdict.output.rstrip()[-2000:]))
    sys.exit(0 if verdict.status == "pass" else 2)


@cli.group()
def gold() -> None:
    """Gold examples (passing or hand-approved candidates)."""


@gold.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@config_option("verifier", "gold_policy", option="policy")
@config_option("verifier", "max_per_problem", option="k", ranged=True)
@click.option(
    "--hf-dataset",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also save a Hugging Face dataset folder here (datasets save_to_disk).",
)
def gold_export(out: Path, policy: str | None, k: int | None, hf_dataset: Path | None) -> None:
    """Write gold as JSON lines: problem, prompt, code, source, verdict."""
    from core.gold import export_gold

    async def go(project: Project) -> int:
        cfg = project.config.verifier
        return await export_gold(
            project.store,
            out,
            policy=policy or cfg.gold_policy,
            k=k or cfg.max_per_problem,
            hf_dataset=hf_dataset,
        )

    n = run(go, readonly=True)
    extra = f" and {hf_dataset}" if hf_dataset else ""
    click.echo(f"wrote {n} gold examples to {out}{extra}")
