"""`ekt sample`: create or continue a teacher sampling run.

Every [teacher] and [sampling] field of ekt.toml is a flag here (derived by core/cli/options.py);
the rest of the flags select problems and the run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import click

from core.cli.app import cli as root
from core.cli.app import run, stop_on_signals
from core.cli.options import config_options, overrides
from core.cli.progress import CliProgress, live_terminal, phase_text
from core.project import Project


def _split_ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [p.strip() for p in value.split(",") if p.strip()]


class _Progress:
    """Counts from the bus: requests, samples, verdicts, tokens, spend (the plain line)."""

    def __init__(self) -> None:
        self.done = self.failed = self.samples = self.passed = self.verified = 0
        self.tokens = 0
        self.cost = 0.0
        self.retries = 0
        self.started = time.monotonic()

    def feed(self, event: Any) -> None:
        from core.events import CandidateAdded, CandidateVerified, RequestFailed, RequestFinished

        if isinstance(event, RequestFinished):
            self.done += 1
            self.tokens += event.completion_tokens
            self.cost += event.cost_usd
        elif isinstance(event, RequestFailed):
            if event.final:
                self.failed += 1
            else:
                self.retries += 1
        elif isinstance(event, CandidateAdded):
            self.samples += 1
        elif isinstance(event, CandidateVerified):
            self.verified += 1
            self.passed += event.status == "pass"

    def line(self) -> str:
        el = max(time.monotonic() - self.started, 1e-6)
        return (
            f"requests {self.done + self.failed} ({self.failed} failed,"
            f" {self.retries} retries) · samples {self.samples} · verified {self.verified}"
            f" (pass {self.passed}) · {self.tokens} tok ({self.tokens / el:.0f}/s)"
            f" · ${self.cost:.4f}"
        )


async def _watch(project: Project, progress: _Progress, display: CliProgress) -> None:
    from core.events import RunStateChanged

    # asyncio.wait, not wait_for: 3.11's wait_for can swallow the cancel that ends this task
    with project.bus.subscribe() as queue:
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                getter = getter or asyncio.ensure_future(queue.get())
                await asyncio.wait({getter}, timeout=0.5)
                if getter.done():
                    event = getter.result()
                    progress.feed(event)
                    started = isinstance(event, RunStateChanged) and event.state == "running"
                    if started and event.message:  # the run exists: the teacher is ready
                        display.phase(f"sampling {event.message}")
                    getter = None
                display.update(done=progress.done + progress.failed, tokens=progress.tokens)
        finally:
            if getter is not None:
                getter.cancel()


def _dry_text(plan: Any) -> str:
    approx = "" if plan.prompt_tokens_exact else "≈"
    state = "continues" if plan.exists else "creates"
    prompts = ", ".join(f"{k}: {v}" for k, v in sorted(plan.prompts.items())) or "none"
    budget = f" · budget ${plan.budget_usd}" if plan.budget_usd is not None else ""
    lines = [
        f"dry run: {state} run {plan.run!r} with {plan.teacher} ({prompts})",
        f"  problems {plan.problems} · samples already stored {plan.already_done}",
        f"  requests {plan.requests} · samples {plan.samples}",
        f"  prompt tokens {approx}{plan.prompt_tokens}"
        f" · completion tokens ≤ {plan.completion_tokens_bound}",
        f"  cost ≤ ${plan.cost_bound_usd:.4f} (at ${plan.price_prompt}/M prompt,"
        f" ${plan.price_completion}/M completion){budget}",
        "  nothing was sent and nothing was written",
    ]
    return "\n".join(lines)


def _summary_text(s: Any) -> str:
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(s.verdicts.items()) if v) or "not verified"
    lines = [
        f"run {s.name} ({'created' if s.created else 'continued'}, {s.teacher}): {s.state}"
        f" in {s.elapsed_s:.1f} s",
        f"  requests {s.requests_done} done, {s.requests_failed} failed of {s.requests_planned}"
        f" planned · samples {s.samples} · problems {s.problems}",
        f"  tokens {s.prompt_tokens} prompt + {s.completion_tokens} completion"
        f"{' (estimated)' if s.tokens_estimated else ''}"
        f" · cost ${s.cost_usd:.4f} (run total ${s.run_cost_usd:.4f})",
        f"  verdicts: {verdicts}",
    ]
    if s.concurrency_lowest and s.concurrency_lowest < s.concurrency_max:
        lines.append(f"  concurrency: lowered to {s.concurrency_lowest} (dropped streams or rate"
                     f" limits), {s.concurrency} at the end")  # fmt: skip
    if s.message:
        lines.append(f"  {s.message}")
    return "\n".join(lines)


@root.command("sample")
@config_options("teacher")
@config_options("sampling")
@click.option(
    "--dry-run", is_flag=True, help="Print requests, tokens and cost bound; send nothing."
)
@click.option("--run", "run_name", metavar="NAME", help="Run to create or continue.")
@click.option("--limit", type=int, help="Only the first N selected problems.")
@click.option("--problems", metavar="ID,...", help="Only these problems.")
@click.option("--unsolved-only", is_flag=True, help="Only problems without gold yet.")
@click.option("--split", help="Only problems of this split.")
@click.option(
    "--selection",
    metavar="NAME",
    help="Only the problems of an `ekt select` selection, in its order.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def sample_cmd(
    dry_run: bool,
    run_name: str | None,
    limit: int | None,
    problems: str | None,
    unsolved_only: bool,
    split: str | None,
    selection: str | None,
    as_json: bool,
    **fields: Any,
) -> None:
    """Sample candidate programs from the teacher; re-running the same command continues."""
    from core.sampling import RunControl, SampleOptions, sample
    from core.sampling import dry_run as plan_dry_run

    options = SampleOptions(
        run=run_name, limit=limit, problems=_split_ids(problems), unsolved_only=unsolved_only,
        split=split, selection=selection, teacher=overrides("teacher", fields),
        sampling=overrides("sampling", fields),
    )  # fmt: skip

    if dry_run:
        plan = run(lambda p: plan_dry_run(p, options))
        click.echo(json.dumps(plan.to_dict()) if as_json else _dry_text(plan))
        return

    async def go(project: Project) -> Any:
        control = RunControl()
        stop_on_signals(control.stop)
        progress = _Progress()
        live = live_terminal(as_json)
        planned = await plan_dry_run(project, options) if live else None  # the bar's total
        kind, _, spec = planned.teacher.partition(":") if planned else ("", "", "")
        display = CliProgress(
            phase_text(kind, spec) if planned else "sampling", live=live, unit="requests",
            plain=progress.line, plain_every_s=5.0, total=planned.requests if planned else None,
        )  # fmt: skip
        with display:
            watcher = asyncio.create_task(_watch(project, progress, display))
            task = asyncio.create_task(sample(project, options, control=control))
            try:
                summary = await task
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                if live:
                    display.update(done=progress.done + progress.failed, tokens=progress.tokens)
        return summary

    summary = run(go)
    if summary.budget_exhausted:
        click.echo(f"ekt: {summary.message}", err=True)
    click.echo(json.dumps(summary.to_dict()) if as_json else _summary_text(summary))
    for notice in summary.notices:  # each said once: n fallback, unlisted model, estimates
        click.echo(f"ekt: warning: {notice}", err=True)
    if summary.state == "incomplete":  # samples missing: a script must not take this for done
        click.echo(f"ekt: {summary.samples_missing} samples missing"
                   f" ({_reasons(summary.failures)}): rerun the same command to send them again",
                   err=True)  # fmt: skip
        raise SystemExit(INCOMPLETE_EXIT)


INCOMPLETE_EXIT = 3  # `ekt sample`: the run ended with samples missing


def _reasons(failures: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "failed requests"
