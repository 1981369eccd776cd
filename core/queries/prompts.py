"""Reads of prompt versions and of what each version produced (its yield over the runs that used
it). Versions are immutable rows; which run used which version is `run_prompts`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.store.db import Store
from core.store.schema import CANDIDATE_GOLD

_COLS = "id, name, version, template, note, parent_id, created_at"


@dataclass(frozen=True, slots=True)
class PromptVersion:
    id: int
    name: str
    version: int
    template: str
    note: str
    parent_id: int | None
    created_at: float

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"


def _version(r: Any) -> PromptVersion:
    return PromptVersion(*r)


async def latest_prompt(store: Store, name: str) -> PromptVersion | None:
    r = await store.fetchone(
        f"SELECT {_COLS} FROM prompts WHERE name = ? ORDER BY version DESC LIMIT 1", [name]
    )
    return None if r is None else _version(r)


async def list_prompts(store: Store, name: str | None = None) -> list[PromptVersion]:
    where, params = ("WHERE name = ?", [name]) if name else ("", [])
    rows = await store.fetchall(
        f"SELECT {_COLS} FROM prompts {where} ORDER BY name, version", params
    )
    return [_version(r) for r in rows]


async def prompt_by_id(store: Store, prompt_id: int) -> PromptVersion | None:
    r = await store.fetchone(f"SELECT {_COLS} FROM prompts WHERE id = ?", [prompt_id])
    return None if r is None else _version(r)


async def prompt_by_version(store: Store, name: str, version: int) -> PromptVersion | None:
    r = await store.fetchone(
        f"SELECT {_COLS} FROM prompts WHERE name = ? AND version = ?", [name, version]
    )
    return None if r is None else _version(r)


async def next_prompt_version(conn: Any, name: str) -> int:
    """Inside the caller's write transaction (`conn`): the version number to save next."""
    async with conn.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM prompts WHERE name = ?", [name]
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 1


async def prompt_exists(conn: Any, prompt_id: int) -> bool:
    """Inside the caller's transaction: whether prompt #`prompt_id` exists."""
    async with conn.execute("SELECT 1 FROM prompts WHERE id = ?", [prompt_id]) as cur:
        return await cur.fetchone() is not None


async def latest_templates(store: Store) -> list[tuple[str, int, str]]:
    """(name, latest version, its template) of every prompt name."""
    rows = await store.fetchall("SELECT name, max(version), template FROM prompts GROUP BY name")
    return [(r[0], int(r[1]), r[2]) for r in rows]


@dataclass(frozen=True, slots=True)
class PromptYield:
    """A prompt version and what the runs that used it produced."""

    version: PromptVersion
    runs: int
    candidates: int
    passed: int
    problems: int
    gold_problems: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.candidates if self.candidates else None

    @property
    def gold_coverage(self) -> float | None:
        return self.gold_problems / self.problems if self.problems else None


async def prompt_yields(store: Store, name: str) -> list[PromptYield]:
    """Each version of `name` (newest first) with what the runs that used it produced: only
    the candidates of the problems that version sampled (a run of several kinds has several)."""
    versions = await list_prompts(store, name)
    stats = {
        r[0]: r[1:]
        for r in await store.fetchall(
            "SELECT rp.prompt_id, count(DISTINCT rp.run_id), count(c.id),"
            " coalesce(sum(v.status = 'pass'), 0), count(DISTINCT c.problem_id)"
            " FROM run_prompts rp JOIN prompts p ON p.id = rp.prompt_id AND p.name = ?"
            " LEFT JOIN (candidates c JOIN problems pb ON pb.id = c.problem_id)"
            "   ON c.run_id = rp.run_id AND c.source = 'teacher' AND pb.kind = rp.kind"
            " LEFT JOIN verdicts v ON v.candidate_id = c.id"
            " GROUP BY rp.prompt_id",
            [name],
        )
    }
    gold = {
        r[0]: r[1]
        for r in await store.fetchall(
            "SELECT rp.prompt_id, count(DISTINCT c.problem_id)"
            " FROM run_prompts rp JOIN prompts p ON p.id = rp.prompt_id AND p.name = ?"
            " JOIN candidates c ON c.run_id = rp.run_id"
            " JOIN problems pb ON pb.id = c.problem_id AND pb.kind = rp.kind"
            f" LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE {CANDIDATE_GOLD} = 1"
            " GROUP BY rp.prompt_id",
            [name],
        )
    }
    out = []
    for v in reversed(versions):
        runs, cands, passed, problems = stats.get(v.id, (0, 0, 0, 0))
        out.append(PromptYield(v, runs, cands, passed, problems, int(gold.get(v.id, 0))))
    return out


async def prompt_names(store: Store) -> list[str]:
    """Prompt names worth offering: those stored plus the ones the problems' kinds need."""
    names = {r[0] for r in await store.fetchall("SELECT DISTINCT name FROM prompts")}
    kinds = {r[0] for r in await store.fetchall("SELECT DISTINCT kind FROM problems")}
    builtin = {"answer": "gsm8k", "asserts": "mbpp", "check": "humaneval"}
    names |= {builtin[k] for k in kinds if k in builtin}
    return sorted(names) or ["gsm8k"]
