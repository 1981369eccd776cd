"""Named diversity selections: embed a pool (questions of problems, or gold programs), pick K by
k-center greedy, store the ordered ids with the coverage radius and that of a seeded random
subset of the same size (a selection never checked against random is worth nothing).

Writes of the `selections` table live here; reads in core.queries.selections.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.embed import ProgressFn, embed_items, embedder_id
from core.errors import ConfigError
from core.queries.embeddings import question_items
from core.queries.gold import gold_rows
from core.queries.selections import Selection, get_selection
from core.select.kcenter import coverage_radius, kcenter_greedy, normalize, random_subset
from core.store import Store

BY = ("question", "code")
SOURCES = ("all", "unsolved", "gold")
RANDOM_SEED = 0


@dataclass(frozen=True, slots=True)
class Picked:
    """K ids of a pool in pick order, with the radius of the picks and of a random subset."""

    ids: list[str]
    radius: float
    random_radius: float
    pool: int


def pick_diverse(
    ids: Sequence[str], vectors: np.ndarray, k: int, seed: int = RANDOM_SEED
) -> Picked:
    """k-center greedy over unit-normalised vectors; K outside 1..len(ids) is a ConfigError."""
    if not 1 <= k <= len(ids):
        raise ConfigError(f"--k {k}: expected 1 ≤ K ≤ {len(ids)} (the pool size)")
    x = normalize(vectors)
    picks = kcenter_greedy(x, k)
    rand = random_subset(len(ids), k, seed)
    return Picked(
        [ids[i] for i in picks], coverage_radius(x, picks), coverage_radius(x, rand), len(ids)
    )


async def pool_items(
    store: Store, by: str, source: str, split: str | None
) -> list[tuple[str, str]]:
    """(id, text) to select from: problems' questions, or one gold program per distinct
    (problem, code) — candidate ids as text."""
    if by not in BY:
        raise ConfigError(f"--by {by!r}: expected question or code")
    if source not in SOURCES:
        raise ConfigError(f"--from {source!r}: expected all, unsolved or gold")
    if by == "question":
        return await question_items(store, source=source, split=split)
    if source == "unsolved":
        raise ConfigError("--by code selects among gold programs: unsolved problems have none")
    allowed = None
    if split is not None:
        allowed = {pid for pid, _ in await question_items(store, split=split)}
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for r in await gold_rows(store):
        if (allowed is not None and r.problem_id not in allowed) or (
            r.problem_id,
            r.code_hash,
        ) in seen:
            continue
        seen.add((r.problem_id, r.code_hash))
        out.append((str(r.candidate_id), r.code))
    return out


async def make_selection(
    store: Store,
    *,
    k: int,
    by: str = "question",
    source: str = "all",
    split: str | None = None,
    embedder: str | None = None,
    name: str | None = None,
    on_progress: ProgressFn | None = None,
) -> Selection:
    """Embed the pool (cached), pick K, store the selection under `name` (replacing one of that
    name). Bad input fails before anything is embedded or written."""
    model = embedder_id(embedder)  # an unknown embedder fails here, before anything is written
    items = await pool_items(store, by, source, split)
    if not items:
        raise ConfigError(f"nothing to select from (--by {by} --from {source})")
    if not 1 <= k <= len(items):
        raise ConfigError(f"--k {k}: expected 1 ≤ K ≤ {len(items)} (the pool size)")
    name = (name or "").strip() or f"{by}-{source}{'-' + split if split else ''}-k{k}"
    embedded = await embed_items(store, by, items, embedder=embedder, on_progress=on_progress)
    picked = pick_diverse(embedded.ids, embedded.vectors, k)
    params = {
        "k": k, "by": by, "from": source, "split": split, "embedder": model,
        "pool": picked.pool, "random_seed": RANDOM_SEED,
    }  # fmt: skip
    await store.execute(
        "INSERT INTO selections(name, by, ids, radius, random_radius, params, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET by = excluded.by,"
        " ids = excluded.ids, radius = excluded.radius, random_radius = excluded.random_radius,"
        " params = excluded.params, created_at = excluded.created_at",
        [name, by, json.dumps(picked.ids), picked.radius, picked.random_radius,
         json.dumps(params), time.time()],
    )  # fmt: skip
    stored = await get_selection(store, name)
    assert stored is not None
    return stored


async def selection_problems(store: Store, name: str) -> list[str]:
    """The problem ids of a stored selection, in pick order (a code selection maps each
    picked program to its problem, first occurrence kept)."""
    sel = await get_selection(store, name)
    if sel is None:
        raise ConfigError(f"no selection named {name!r} (make one: ekt select --k K --name {name})")
    if sel.by == "question":
        return list(sel.ids)
    by_candidate = {str(r.candidate_id): r.problem_id for r in await gold_rows(store)}
    return list(dict.fromkeys(by_candidate[c] for c in sel.ids if c in by_candidate))


async def diverse_gold(
    store: Store, gold: Sequence[Any], k: int, *, embedder: str | None = None
) -> list[Any]:
    """The `diverse` gold policy: K of the given gold examples (distinct programs) picked by
    k-center greedy over their code embeddings, returned in their original order. K larger
    than the gold there is is a ConfigError (one line, nothing trained)."""
    if not gold:
        return []
    if k > len(gold):
        raise ConfigError(f"--k {k}: only {len(gold)} distinct gold programs to choose from")
    items = [(str(g.candidate_id), g.code) for g in gold]
    embedded = await embed_items(store, "code", items, embedder=embedder)
    keep = set(pick_diverse(embedded.ids, embedded.vectors, k).ids)
    return [g for g in gold if str(g.candidate_id) in keep]


__all__ = ["BY", "SOURCES", "Picked", "diverse_gold", "make_selection", "pick_diverse",
           "pool_items", "selection_problems"]  # fmt: skip
