"""`ekt eval` (pass@k of a model or the teacher on a split) and `ekt eval table|list`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from core.cli.app import cli, run
from core.cli.options import config_options, overrides
from core.cli.progress import CliProgress, live_terminal, phase_text
from core.errors import EvalError
from core.project import Project
from core.queries import list_evals as stored_evals

# [eval] fields that are flags as declared; `--k` takes "1,10,20", checked by the runner
_EVAL_FLAGS = ("split", "n", "temperature", "max_tokens")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _echo_results(summary: Any) -> None:
    r = summary.results
    who = f"{summary.model} ({summary.method}" + (
        f", teacher {summary.teacher})" if summary.teacher else ")"
    )
    click.echo(f"eval {summary.name}: {who}")
    click.echo(f"  {r['problems']} problems, {r['samples']} samples, {r['solved']} solved")
    conf = round(100 * r.get("confidence", 0.95))
    for k, est in r["pass_at_k"].items():
        short = r.get("short", {}).get(k, 0)
        note = f"  ({short} problems with fewer than {k} samples)" if short else ""
        click.echo(
            f"  pass@{k:<3} {_pct(est['value']):>6}  {conf}% CI {_pct(est['lo'])}–"
            f"{_pct(est['hi'])}{note}"
        )
    statuses = ", ".join(f"{s} {n}" for s, n in r.get("statuses", {}).items())
    click.echo(f"  verdicts: {statuses or 'none'}")


@cli.group(invoke_without_command=True)
@click.option("--model", "model", metavar="PATH|HUB_ID|GGUF", help="Model to evaluate.")
@click.option("--teacher", is_flag=True, help="Evaluate the configured teacher, few-shot.")
@config_options("eval", only=_EVAL_FLAGS)
@click.option("--k", "k", metavar="K1,K2,…", help="pass@k values, each <= --n (default: [eval]).")
@click.option("--limit", type=int, help="Only the first N problems of the split.")
@click.option("--zero-shot", is_flag=True, help="Prompt without exemplars (the student format).")
@click.option("--prompt", metavar="VERSION", help="Few-shot prompt: NAME, NAME@N, N or #ID.")
@click.option("--name", help="Name of this evaluation (reuse a failed one's name to resume).")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling/bootstrap seed.")
@click.pass_context
def eval(
    ctx: click.Context,
    model: str | None,
    teacher: bool,
    k: str | None,
    limit: int | None,
    zero_shot: bool,
    prompt: str | None,
    name: str | None,
    seed: int,
    **fields: Any,
) -> None:
    """pass@k of a model (or --teacher) on a split; `ekt eval table` compares evaluations.

    Every sample is stored as a candidate of the evaluation and verified in the sandbox.
    A checkpoint written by `ekt train` is labelled with its lineage and prompted zero-shot."""
    if ctx.invoked_subcommand is not None:
        if model or teacher or k or name or zero_shot or prompt:
            raise EvalError(f"options before `{ctx.invoked_subcommand}` belong to `ekt eval`")
        return
    from core.evaluate.runner import EvalOptions, run_eval

    given = overrides("eval", fields, only=_EVAL_FLAGS)

    async def go(project: Project) -> Any:
        # not validated here: the runner checks n, k and the split with its own messages
        cfg = project.config.eval.model_copy(update=given)
        options = EvalOptions(
            model=model,
            teacher=teacher,
            split=cfg.split,
            n=cfg.n,
            temperature=cfg.temperature,
            k=k if k is not None else cfg.k,
            limit=limit,
            zero_shot=True if zero_shot else None,
            prompt=prompt,
            name=name,
            max_tokens=cfg.max_tokens,
            seed=seed,
        )

        last: list[Any] = []
        # the model loads (or the teacher opens) before the first problem: say so meanwhile
        waiting = phase_text("teacher" if teacher else "local", model or "the teacher")
        display = CliProgress(
            waiting, live=live_terminal(), unit="problems", plain_every_s=0.0,
            plain=lambda: f"eval: {last[-1].problems_done}/{last[-1].problems} problems,"
            f" {last[-1].samples} samples",
        )  # fmt: skip

        def progress(p: Any) -> None:
            last[:] = [p]
            display.phase(f"evaluating: {p.samples} samples")
            display.update(done=p.problems_done, total=p.problems, force=True)

        with display:
            return await run_eval(project, options, on_progress=progress)

    _echo_results(run(go))


@eval.command("table")
@click.option("--format", "fmt", type=click.Choice(["md", "csv"]), default="md", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (not stdout)."
)
def table(fmt: str, out: Path | None) -> None:
    """The comparison table: one row per (model, method, teacher, prompt, split)."""
    from core.evaluate.table import comparison_rows, render_csv, render_markdown

    async def go(project: Project) -> str:
        rows = await comparison_rows(project.store)
        return render_csv(rows) if fmt == "csv" else render_markdown(rows)

    text = run(go, readonly=True)
    if out is None:
        click.echo(text, nl=False)
        return
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        raise EvalError(f"{out}: cannot write: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}", err=True)


@eval.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON list on stdout.")
def list_evals(as_json: bool) -> None:
    """Every evaluation with its status and pass@1."""

    async def go(project: Project) -> list[dict[str, Any]]:
        return [e.as_dict() for e in await stored_evals(project.store)]

    evals = run(go, readonly=True)
    if as_json:
        click.echo(json.dumps(evals, indent=2))
        return
    for e in evals:
        p1 = e["results"].get("pass_at_k", {}).get("1")
        score = f"pass@1 {_pct(p1['value'])}" if p1 else e["results"].get("error", "")
        click.echo(f"{e['id']:>4} {e['name']}  {e['method']}  {e['split']}  {e['status']}  {score}")
