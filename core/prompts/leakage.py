"""Leakage guard: an exemplar in the prompt that is (nearly) one of the problems to solve.

A teacher shown the answer to a problem it is then asked would make that problem's gold worthless.
Exemplar questions are the lines marked `Question:`/`Q:`/`Task:`/`Problem:` before the first
placeholder. A match is exact (same normalised text) or near (difflib ratio ≥ 0.9); a token-set
Jaccard prefilter keeps the check to a few milliseconds for 7,473 problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from core.queries.problems import problem_questions
from core.queries.prompts import latest_templates
from core.store.db import Store

NEAR = 0.9
_MARKER = re.compile(r"(?i)\b(?:question|q|task|problem)\s*:\s*(.+)$")
_CUT = re.compile(r"(?i)\s*your code should pass.*$")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Leak:
    exemplar: str
    problem_id: str
    similarity: float

    def message(self, prompt_label: str = "prompt") -> str:
        how = "exactly" if self.similarity >= 1.0 else f"nearly ({self.similarity:.2f})"
        short = self.exemplar if len(self.exemplar) <= 60 else self.exemplar[:57] + "..."
        return f"{prompt_label}: exemplar {short!r} matches problem {self.problem_id} {how}"


def normalise(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def exemplar_questions(template: str) -> list[str]:
    """Marked question lines before the first placeholder (the exemplars, not the query)."""
    head = template.split("{{", 1)[0]
    out = []
    for line in head.splitlines():
        m = _MARKER.search(line)
        if m:
            question = _CUT.sub("", m.group(1)).strip().strip('"').strip()
            if len(question.split()) >= 3:
                out.append(question)
    return out


def find_leaks(template: str, problems: Iterable[tuple[str, str]]) -> list[Leak]:
    """Leaks of the template's exemplars into (id, question) pairs."""
    exemplars = [(q, normalise(q)) for q in exemplar_questions(template)]
    if not exemplars:
        return []
    # ratio ≥ 0.9 needs lengths within ~20% of each other: skip the rest before normalising.
    lo = min(len(q) for q, _ in exemplars) * 0.7
    hi = max(len(q) for q, _ in exemplars) * 1.4
    ex_tokens = [(q, n, set(n.split())) for q, n in exemplars]
    leaks = []
    for pid, question in problems:
        if not lo <= len(question) <= hi:
            continue
        norm = normalise(question)
        tokens = set(norm.split())
        for q, n, toks in ex_tokens:
            if norm == n:
                leaks.append(Leak(q, pid, 1.0))
                continue
            union = len(tokens | toks)
            if not union or len(tokens & toks) / union < 0.5:
                continue
            ratio = SequenceMatcher(None, norm, n, autojunk=False).ratio()
            if ratio >= NEAR:
                leaks.append(Leak(q, pid, round(ratio, 3)))
    return leaks


async def find_leaks_in_store(
    store: Store, template: str, label: str = "prompt", kind: str | None = None
) -> list[str]:
    """Warnings (one line each) for a template against the store's problems (of one kind)."""
    if not exemplar_questions(template):
        return []
    rows = await problem_questions(store, kind)
    return [leak.message(label) for leak in find_leaks(template, rows)]


async def find_leaks_for_kinds(store: Store, kinds: Iterable[str]) -> list[str]:
    """After an import: check the current prompt of each imported kind, and every stored one."""
    from core.prompts.template import prompt_name_for_kind
    from core.prompts.versions import current_prompt

    seen: dict[str, str] = {}
    for kind in kinds:
        version = await current_prompt(store, prompt_name_for_kind(kind))
        seen[version.label] = version.template
    for name, version, template in await latest_templates(store):
        seen.setdefault(f"{name}@v{version}", template)
    warnings: list[str] = []
    for label, template in seen.items():
        warnings += await find_leaks_in_store(store, template, label)
    return warnings
