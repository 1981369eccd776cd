"""Reads of stored k-center selections (named, ordered ids with their coverage radius)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.store.db import Store


async def problem_ids_in_split(store: Store, split: str) -> list[str]:
    rows = await store.fetchall("SELECT id FROM problems WHERE split = ? ORDER BY seq", [split])
    return [r[0] for r in rows]


@dataclass(frozen=True, slots=True)
class Selection:
    """A stored k-center selection: ids in pick order (problem ids, or candidate ids as text)."""

    id: int
    name: str
    by: str
    ids: list[str]
    radius: float
    random_radius: float
    params: dict[str, Any]
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "by": self.by, "ids": self.ids, "radius": self.radius,
            "random_radius": self.random_radius, "params": self.params,
        }  # fmt: skip


def _selection(r: Any) -> Selection:
    return Selection(
        r["id"], r["name"], r["by"], json.loads(r["ids"]), r["radius"], r["random_radius"],
        json.loads(r["params"]), r["created_at"],
    )  # fmt: skip


async def get_selection(store: Store, name: str) -> Selection | None:
    row = await store.fetchone("SELECT * FROM selections WHERE name = ?", [name])
    return None if row is None else _selection(row)


async def list_selections(store: Store) -> list[Selection]:
    return [_selection(r) for r in await store.fetchall("SELECT * FROM selections ORDER BY id")]


async def selection_names(store: Store) -> set[str]:
    return {r[0] for r in await store.fetchall("SELECT name FROM selections")}
