"""Generator feedback (seed 003): a new version of a few-shot prompt whose exemplars are K gold
programs chosen for judge score and diversity.

The pool is one gold program per problem of the prompt's kind (the best-judged, unjudged ones
after every judged one); the best 4·K by judge score are kept and k-center greedy over their
code embeddings picks K of them. Each exemplar is the prompt's own query block rendered for
that problem, followed by its program, so the new version keeps the parent's format; header,
directives and query block are kept as they are. The version records its parent and a note
naming the exemplar candidates; the leakage guard (core.prompts.leakage) then keeps those
problems out of sampling with that prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError, PromptError
from core.prompts.leakage import _MARKER
from core.prompts.template import kind_for_prompt_name, parse_template, render
from core.prompts.versions import current_prompt, save_prompt
from core.queries import PromptVersion
from core.queries.judgements import JudgeTarget, judge_targets, latest_judgements
from core.store import Store

POOL_FACTOR = 4


@dataclass(frozen=True, slots=True)
class Evolved:
    version: PromptVersion
    parent: PromptVersion
    candidate_ids: list[int]
    problem_ids: list[str]
    scores: list[int | None]


def split_template(template: str) -> tuple[str, str]:
    """(head, query): head = directive/instruction lines before the first exemplar, query =
    from the first line with a placeholder to the end. The exemplars in between are dropped."""
    lines = template.split("\n")
    query_at = next((i for i, ln in enumerate(lines) if "{{" in ln), None)
    if query_at is None:
        raise PromptError("template has no placeholder: nothing to build exemplars from")
    first_ex = next((i for i in range(query_at) if _MARKER.search(lines[i])), query_at)
    return "\n".join(lines[:first_ex]), "\n".join(lines[query_at:])


def exemplar(query: str, directives: str, problem: dict, code: str, end: str) -> str:
    """The query block rendered for `problem`, its prompt-ending prefix replaced by the whole
    program (a gold program already starts with the prefix the prompt ends with)."""
    rendered = render(directives + query, problem)
    text = rendered.text
    if rendered.code_prefix and text.endswith(rendered.code_prefix):
        text = text[: -len(rendered.code_prefix)]
    return text + code.rstrip("\n") + end


async def evolve_prompt(store: Store, name: str, k: int, *, embedder: str | None = None) -> Evolved:
    """Write NAME@v(N+1) with K gold exemplars (judge score first, then diversity)."""
    from core.select import pick_diverse

    if k < 1:
        raise ConfigError(f"--from-gold {k}: expected K >= 1")
    parent = await current_prompt(store, name)
    tpl = parse_template(parent.template)
    head, query = split_template(parent.template)
    directive_lines = [ln for ln in head.split("\n") if ln.startswith("#!")]
    directives = "\n".join(directive_lines) + ("\n" if directive_lines else "")
    kind = kind_for_prompt_name(name)
    targets = [t for t in await judge_targets(store) if kind is None or t.problem["kind"] == kind]
    latest = await latest_judgements(store, [t.candidate_id for t in targets])

    def score(cid: int) -> int:
        j = latest.get(cid)
        return j.score if j is not None and j.score is not None else 0

    best: dict[str, JudgeTarget] = {}
    for t in targets:  # one program per problem: its best-judged, lowest id on ties
        held = best.get(t.problem_id)
        if held is None or score(t.candidate_id) > score(held.candidate_id):
            best[t.problem_id] = t
    pool = sorted(best.values(), key=lambda t: -score(t.candidate_id))
    if len(pool) < k:
        raise ConfigError(f"--from-gold {k}: only {len(pool)} problems with gold for {name}")
    pool = pool[: max(k, POOL_FACTOR * k)]
    from core.embed import embed_items

    items = [(str(t.candidate_id), t.code) for t in pool]
    embedded = await embed_items(store, "code", items, embedder=embedder)
    chosen = set(pick_diverse(embedded.ids, embedded.vectors, k).ids)
    picks = [t for t in pool if str(t.candidate_id) in chosen]
    end = "\n" + tpl.stop[0] + "\n" if tpl.stop else "\n\n\n"
    body = "".join(exemplar(query, directives, t.problem, t.code, end) for t in picks)
    intro = "\n".join(ln for ln in head.split("\n") if not ln.startswith("#!")).strip("\n")
    template = directives + (intro + "\n\n" if intro else "") + body + query
    ids = [t.candidate_id for t in picks]
    note = (
        f"evolved from gold: {k} exemplars by judge score + k-center (candidates "
        f"{', '.join(str(i) for i in ids)}; parent {parent.label})"
    )
    version = await save_prompt(store, name, template, note, parent.id)
    return Evolved(
        version, parent, ids, [t.problem_id for t in picks],
        [latest[i].score if i in latest else None for i in ids],
    )  # fmt: skip
