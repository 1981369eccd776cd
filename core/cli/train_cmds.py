"""`ekt train` (fine-tune the student on gold), `ekt train list`, `ekt train cancel RUN`.

The trainer runs detached: following a run (the default) only reads the store, so Ctrl-C stops
watching and leaves the run going; `ekt train cancel` stops it (checkpoint first).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from core.cli.app import cli, run
from core.cli.options import config_options
from core.errors import TrainError
from core.project import Project


def _opt(*names: str, **kw: Any) -> Any:
    return click.option(*names, default=None, show_default=False, **kw)


class _TrainGroup(click.Group):
    """A wider option column: a long flag pair (`--kd-drop-syntax / --no-kd-drop-syntax`) keeps
    its help on its own line."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [r for p in self.get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
        if rows:
            with formatter.section("Options"):
                formatter.write_dl(rows, col_max=42)
        self.format_commands(ctx, formatter)


@cli.group(cls=_TrainGroup, invoke_without_command=True)
@config_options("student")
@_opt("--name", help="Name of the run (default sft-N).")
@_opt("--resume", "resume_run", metavar="RUN", help="Resume a cancelled/failed run instead.")
@click.option("--detach", is_flag=True, help="Start and return; do not follow progress.")
@click.option("--preview", is_flag=True, help="Print the SFT set's summary; train nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --preview: one JSON object.")
@click.pass_context
def train(
    ctx: click.Context, resume_run: str | None, detach: bool, preview: bool, as_json: bool,
    **flags: Any,
) -> None:
    """Fine-tune the student on gold (a detached subprocess); follow its progress.

    Every flag defaults to the [student] section of ekt.toml. The SFT set, the spec, the log
    and the checkpoints go to OUTPUT/NAME/ in the project."""
    if ctx.invoked_subcommand is not None:
        if resume_run or detach or preview or any(v is not None for v in flags.values()):
            raise TrainError(f"options before `{ctx.invoked_subcommand}` belong to `ekt train`")
        return
    from core.queries.training import last_train_event_id
    from core.train import TrainOptions, launch, resume

    if resume_run and any(v is not None for v in flags.values()):
        raise TrainError("--resume continues a run with its own settings: give no other option")
    if preview:
        _preview(flags, as_json)
        return
    if _rounds(flags) > 1:
        if detach or resume_run:
            raise TrainError("--rounds trains round after round here: no --detach or --resume")
        _train_rounds(flags)
        return

    async def start(project: Project) -> tuple[int, int]:
        if resume_run:  # follow from here on, not the run's whole history again
            after = await last_train_event_id(project.store)
            return await resume(project, resume_run), after
        return await launch(project, TrainOptions(**flags)), 0

    run_id, after = run(start)
    _follow(run_id, detach, after)


def _rounds(flags: dict[str, Any]) -> int:
    from core.train import TrainOptions, resolve_options

    async def go(project: Project) -> int:
        return resolve_options(project.config, TrainOptions(**flags)).rounds

    return run(go, readonly=True)


def _preview(flags: dict[str, Any], as_json: bool) -> None:
    """`--preview [--json]`: the method's SFT set counted, nothing written."""
    from core.train import TrainOptions, resolve_options
    from core.train.methods import preview_method

    async def go(project: Project) -> dict[str, Any]:
        section = resolve_options(project.config, TrainOptions(**flags))
        return (await preview_method(project.store, section)).summary()

    info = run(go, readonly=True)
    if as_json:
        click.echo(json.dumps(info))
        return
    tasks = ", ".join(f"{k} {v:,}" for k, v in info["tasks"].items())
    approx = "" if info["exact"] else "~"
    click.echo(f"{info['method']}: {info['examples']:,} examples ({tasks}) on"
               f" {info['problems']:,} problems, {approx}{info['tokens']:,} tokens,"
               f" {info['dev']} dev problems held out")  # fmt: skip


def _train_rounds(flags: dict[str, Any]) -> None:
    """`--rounds R`: each round trains (followed here), then the student samples and verifies."""
    from core.train import TrainOptions
    from core.train.follow import format_event
    from core.train.rounds import run_rounds

    name = flags.pop("name", None)
    state: dict[str, Any] = {"max_steps": None}

    def show(e: dict[str, Any]) -> None:
        if e["kind"] == "start":
            state["max_steps"] = e["data"].get("max_steps")
        line = format_event(e, state["max_steps"])
        if line:
            click.echo(line)

    def on_round(what: str, info: dict[str, Any]) -> None:
        if what == "launched":
            click.echo(f"round {info['round']}/{info['rounds']}: training run {info['name']}",
                       err=True)  # fmt: skip
        elif what == "sampling":
            click.echo(f"round {info['round']}: the student samples {info['problems']} training"
                       " problems' split(s)", err=True)  # fmt: skip
        elif what == "sampled":
            for e in info["evals"]:
                click.echo(f"round {info['round']}: {e['name']}: {e['passing']} passing samples",
                           err=True)  # fmt: skip

    async def go(project: Project) -> list[int]:
        return await run_rounds(project, TrainOptions(name=name, **flags), on_event=show,
                                on_round=on_round)  # fmt: skip

    ids = run(go)
    click.echo(f"{len(ids)} rounds done: training runs {', '.join(map(str, ids))}")


def _follow(run_id: int, detach: bool, after: int = 0) -> None:
    from core.train.follow import follow, format_event
    from core.train.runs import find_run

    async def describe(project: Project) -> dict[str, Any]:
        return await find_run(project.store, run_id)

    info = run(describe)
    click.echo(f"training run {info['name']} started (pid {info['pid']}); log: "
               f"{info['output_dir']}/train.log", err=True)  # fmt: skip
    if detach:
        click.echo(info["name"])
        return
    state: dict[str, Any] = {"max_steps": None}

    def show(e: dict[str, Any]) -> None:
        if e["kind"] == "start":
            state["max_steps"] = e["data"].get("max_steps")
        line = format_event(e, state["max_steps"])
        if line:
            click.echo(line)

    async def watch(project: Project) -> dict[str, Any]:
        return await follow(project.store, run_id, show, after_id=after)

    try:
        final = run(watch)
    except KeyboardInterrupt:
        click.echo(
            f"stopped following; run {info['name']} continues (ekt train cancel {info['name']})",
            err=True,
        )
        return
    if final["status"] == "failed":
        raise TrainError(f"training run {final['name']} failed: {final['error']}")
    if final["status"] == "cancelled":
        raise TrainError(
            f"training run {final['name']} was cancelled (resume: ekt train --resume"
            f" {final['name']})"
        )
    click.echo(f"training run {final['name']} done: checkpoints in {_shown(final['output_dir'])}")


def _shown(path: str) -> str:
    """A path under the current folder relative to it (what the person typed), else as is."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


@train.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON list on stdout.")
def list_cmd(as_json: bool) -> None:
    """Every training run: status, progress, last loss, checkpoints."""
    from core.train import list_runs

    async def go(project: Project) -> list[dict[str, Any]]:
        return await list_runs(project.store)

    runs = run(go)
    if as_json:
        click.echo(json.dumps(runs, indent=2, default=str))
        return
    if not runs:
        click.echo("no training runs yet (ekt train)")
        return
    for r in runs:
        steps = f"{r['step'] or 0}/{r['max_steps'] or '?'}"
        loss = f"loss {r['loss']:.4f}" if r["loss"] is not None else ""
        model = r["config"].get("model", "")
        tail = f"  {r['error']}" if r["error"] else ""
        click.echo(
            f"{r['id']:>4} {r['name']:<14} {r['status']:<9} step {steps:<9} {loss:<12}"
            f" {r['checkpoints']} ckpt  {model}{tail}"
        )


@train.command("cancel")
@click.argument("run_ref", metavar="RUN")
def cancel_cmd(run_ref: str) -> None:
    """Stop a run: it saves a checkpoint and exits as 'cancelled' (resume with --resume)."""
    from core.train import cancel

    async def go(project: Project) -> dict[str, Any]:
        return await cancel(project, run_ref)

    r = run(go)
    click.echo(f"sent SIGTERM to run {r['name']} (pid {r['pid']}): it checkpoints and stops")
