"""Prompt versions: immutable rows of the `prompts` table, each with a note and a parent.

A saved version is never edited; a change is a new version whose parent is the one it came
from, so every run can say exactly which text it sent. Built-in names (gsm8k, mbpp, humaneval)
are seeded as v1 from `assets/prompts/NAME.txt` the first time they are asked for.
"""

from __future__ import annotations

import time
from pathlib import Path

from core.errors import PromptError
from core.project import ASSETS
from core.prompts.template import parse_template
from core.queries.prompts import (
    PromptVersion,
    latest_prompt,
    list_prompts,
    next_prompt_version,
    prompt_by_id,
    prompt_by_version,
    prompt_exists,
)
from core.store.db import Store

__all__ = [
    "BUILTIN",
    "PromptVersion",
    "current_prompt",
    "default_template",
    "get_prompt",
    "list_prompts",
    "read_template_file",
    "resolve_prompt",
    "save_prompt",
    "seed_default_prompts",
]

PROMPTS_DIR = ASSETS / "prompts"
BUILTIN = ("gsm8k", "mbpp", "humaneval")


def default_template(name: str) -> str:
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"no prompt named {name!r} (built-in: {', '.join(BUILTIN)})") from None


async def save_prompt(
    store: Store, name: str, template: str, note: str = "", parent_id: int | None = None
) -> PromptVersion:
    """Append version N+1 of `name` (validated first: a broken template is never stored)."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise PromptError(f"bad prompt name {name!r}: use letters, digits, - and _")
    parse_template(template)
    now = time.time()
    async with store.transaction() as conn:
        if parent_id is not None and not await prompt_exists(conn, parent_id):
            raise PromptError(f"parent prompt #{parent_id} does not exist")
        version = await next_prompt_version(conn, name)
        cur = await conn.execute(
            "INSERT INTO prompts(name, version, template, note, parent_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [name, version, template, note, parent_id, now],
        )
        pid = cur.lastrowid or 0
    return PromptVersion(pid, name, version, template, note, parent_id, now)


async def current_prompt(store: Store, name: str) -> PromptVersion:
    """The latest version of `name`; a built-in name is seeded from assets on first use."""
    found = await latest_prompt(store, name)
    if found is not None:
        return found
    template = default_template(name)
    if store.readonly:
        raise PromptError(f"prompt {name!r} is not in this project yet (open it writable once)")
    return await save_prompt(store, name, template, f"default (assets/prompts/{name}.txt)")


async def seed_default_prompts(store: Store) -> list[PromptVersion]:
    return [await current_prompt(store, name) for name in BUILTIN]


async def get_prompt(store: Store, prompt_id: int) -> PromptVersion:
    found = await prompt_by_id(store, prompt_id)
    if found is None:
        raise PromptError(f"no prompt version with id {prompt_id}")
    return found


async def resolve_prompt(store: Store, spec: str | None, default_name: str) -> PromptVersion:
    """`NAME`, `NAME@3`/`NAME@v3`, `3`/`v3` (a version of default_name) or `#12` (an id)."""
    spec = (spec or "").strip()
    if not spec:
        return await current_prompt(store, default_name)
    if spec.startswith("#") and spec[1:].isdigit():
        return await get_prompt(store, int(spec[1:]))
    name, _, version = spec.rpartition("@") if "@" in spec else ("", "", spec)
    if not name and not version.lstrip("v").isdigit():
        return await current_prompt(store, version)
    name = name or default_name
    number = version.lstrip("v")
    if not number.isdigit():
        raise PromptError(f"bad prompt version {spec!r}: expected NAME, NAME@N, N or #ID")
    found = await prompt_by_version(store, name, int(number))
    if found is None:
        raise PromptError(f"no prompt {name}@v{number}")
    return found


def read_template_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PromptError(f"{path}: not UTF-8 text") from None
