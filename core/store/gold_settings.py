"""The project's gold settings, mirrored from `ekt.toml` into the store.

The gold rule (`schema.gold_rule`) is one SQL expression used by the view, the triggers and every
read; a setting it depends on (`[gold] allow_spurious`) must therefore live where SQL can read it.
When the file's value differs from the stored one, the per-problem gold counts that the triggers
maintain are recomputed in the same transaction, so they never disagree with the rule.
"""

from __future__ import annotations

from core.store.db import Store
from core.store.schema import CANDIDATE_GOLD


async def sync_gold_settings(store: Store, *, allow_spurious: bool) -> bool:
    """Store `allow_spurious` if it changed and recount gold; True when anything changed."""
    current = await store.scalar("SELECT allow_spurious FROM gold_settings WHERE one = 1")
    if current is not None and bool(current) == allow_spurious:
        return False
    async with store.transaction() as conn:
        await conn.execute(
            "INSERT INTO gold_settings(one, allow_spurious) VALUES (1, ?)"
            " ON CONFLICT(one) DO UPDATE SET allow_spurious = excluded.allow_spurious",
            (int(allow_spurious),),
        )
        await conn.execute(
            "UPDATE problem_stats SET gold = (SELECT count(*) FROM candidates c"
            f" LEFT JOIN verdicts v ON v.candidate_id = c.id WHERE c.problem_id ="
            f" problem_stats.problem_id AND {CANDIDATE_GOLD} = 1)"
        )
    return True
