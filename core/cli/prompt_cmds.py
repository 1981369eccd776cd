"""`ekt prompt list | show | set | render`: few-shot prompt versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from core.cli.app import cli as root
from core.cli.app import run
from core.errors import PromptError
from core.project import Project
from core.prompts import (
    BUILTIN,
    PromptVersion,
    find_leaks_in_store,
    kind_for_prompt_name,
    list_prompts,
    parse_template,
    prompt_name_for_kind,
    read_template_file,
    render,
    resolve_prompt,
    save_prompt,
    seed_default_prompts,
)
from core.queries import get_problem, most_common_kind
from core.tokens import count_tokens


async def _default_name(project: Project) -> str:
    """The prompt for the project's most common problem kind (gsm8k in an empty project)."""
    if project.config.sampling.prompt:
        return project.config.sampling.prompt
    kind = await most_common_kind(project.store)
    return prompt_name_for_kind(kind) if kind else "gsm8k"


@root.group()
def prompt() -> None:
    """Few-shot prompt versions (immutable; each has a note and a parent)."""


@prompt.command("list")
@click.option("--name", help="Only this prompt's versions.")
def list_cmd(name: str | None) -> None:
    """Every stored version: id, name@version, parent, note."""

    async def go(project: Project) -> list[PromptVersion]:
        await seed_default_prompts(project.store)
        return await list_prompts(project.store, name)

    versions = run(go)
    by_id = {v.id: v.label for v in versions}
    for v in versions:
        parent = by_id.get(v.parent_id, f"#{v.parent_id}") if v.parent_id else "-"
        click.echo(f"#{v.id:<4} {v.label:<18} parent {parent:<18} {v.note}")


@prompt.command("show")
@click.argument("version", required=False)
def show(version: str | None) -> None:
    """Print a template: VERSION is NAME, NAME@N, N (of the default name) or #ID."""

    async def go(project: Project) -> PromptVersion:
        return await resolve_prompt(project.store, version, await _default_name(project))

    v = run(go)
    click.echo(f"# {v.label} (#{v.id}) — {v.note}", err=True)
    click.echo(v.template, nl=not v.template.endswith("\n"))


@prompt.command("set")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--note", required=True, help="What changed and why.")
@click.option("--name", help="Prompt name (default: FILE's name if it is a known prompt).")
def set_cmd(file: Path, note: str, name: str | None) -> None:
    """Save FILE as the next version of a prompt (parent: the current version)."""
    template = read_template_file(file)
    parse_template(template)

    async def go(project: Project) -> tuple[PromptVersion | None, PromptVersion, list[str]]:
        store = project.store
        known = {v.name for v in await list_prompts(store)} | set(BUILTIN)
        chosen = name or (file.stem if file.stem in known else None)
        if chosen is None:
            raise PromptError(
                f"{file}: which prompt is this? give --name (known: {', '.join(sorted(known))})"
            )
        parent = await resolve_prompt(store, chosen, chosen) if chosen in known else None
        if parent is not None and parent.template == template:
            return parent, parent, []
        saved = await save_prompt(store, chosen, template, note, parent.id if parent else None)
        kind = kind_for_prompt_name(chosen)
        return None, saved, await find_leaks_in_store(store, template, saved.label, kind)

    unchanged, saved, leaks = run(go)
    if unchanged is not None:
        click.echo(f"unchanged: {file} is already {saved.label} (#{saved.id})")
    else:
        click.echo(f"saved {saved.label} (#{saved.id})")
    for leak in leaks:
        click.echo(f"ekt: warning: leakage: {leak}", err=True)


@prompt.command("render")
@click.option("--problem", "problem_id", required=True, help="Problem id.")
@click.option("--version", help="Prompt version (default: current prompt for the problem).")
@click.option("--json", "as_json", is_flag=True, help="Text, code prefix, stops and tokens.")
def render_cmd(problem_id: str, version: str | None, as_json: bool) -> None:
    """Print the exact text sent to the teacher for a problem, then its token count."""

    async def go(project: Project) -> tuple[PromptVersion, Any, str]:
        row = await get_problem(project.store, problem_id)
        if row is None:
            raise PromptError(f"no problem {problem_id!r} in {project.root}")
        default = project.config.sampling.prompt or prompt_name_for_kind(row["kind"])
        v = await resolve_prompt(project.store, version, default)
        return v, render(v.template, row), project.config.teacher.model

    v, rendered, model = run(go)
    tokens = count_tokens(rendered.text, model)
    if as_json:
        data = {
            "prompt": v.label,
            "prompt_id": v.id,
            "problem": problem_id,
            "text": rendered.text,
            "code_prefix": rendered.code_prefix,
            "stop": list(rendered.stop),
            "tokens": tokens.n,
            "exact": tokens.exact,
            "model": model,
        }
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(rendered.text, nl=not rendered.text.endswith("\n"))
    how = "exact" if tokens.exact else "estimated"
    click.echo(f"-- {v.label} (#{v.id}), {tokens} tokens ({how}, {model})", err=True)


@prompt.command("evolve")
@click.argument("name")
@click.option("--from-gold", "k", type=int, required=True, metavar="K", help="Exemplars to use.")
@click.option("--embedder", metavar="MODEL", help='For diversity (default "smollm2").')
def evolve_cmd(name: str, k: int, embedder: str | None) -> None:
    """New version of NAME whose exemplars are K gold programs (judge score, then k-center
    diversity); those problems are then kept out of sampling with it (leakage guard)."""
    from core.prompts.evolve import evolve_prompt

    async def go(project: Project) -> Any:
        return await evolve_prompt(project.store, name, k, embedder=embedder)

    e = run(go)
    click.echo(
        f"saved {e.version.label} (#{e.version.id}, parent {e.parent.label}): {e.version.note}"
    )
    for pid, cid, score in zip(e.problem_ids, e.candidate_ids, e.scores, strict=True):
        click.echo(
            f"  exemplar {pid} (candidate {cid}, judge {score if score is not None else '-'})"
        )
