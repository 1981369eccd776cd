"""Reads behind `ekt status` and the dashboard totals: verdict counts of the project (from the
trigger-maintained problem_stats) or of one run, and gold coverage."""

from __future__ import annotations

from dataclasses import dataclass

from core.store.db import Store
from core.store.schema import VERDICT_STATUSES


@dataclass(frozen=True, slots=True)
class StatusCounts:
    candidates: int
    pending: int
    verdicts: dict[str, int]

    @property
    def verified(self) -> int:
        return sum(self.verdicts.values())


async def status_counts(store: Store, *, run_id: int | None = None) -> StatusCounts:
    """Verdict counts for the whole project (from problem_stats) or for one run."""
    if run_id is None:
        cols = ", ".join(f"coalesce(sum({s.replace('-', '_')}), 0)" for s in VERDICT_STATUSES)
        row = await store.fetchone(
            f"SELECT coalesce(sum(n), 0), coalesce(sum(pending), 0), {cols} FROM problem_stats"
        )
        assert row is not None
        return StatusCounts(row[0], row[1], dict(zip(VERDICT_STATUSES, row[2:], strict=True)))
    rows = await store.fetchall(
        "SELECT v.status, count(*) FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id"
        " WHERE c.run_id = ? GROUP BY v.status",
        [run_id],
    )
    counts = {s: 0 for s in VERDICT_STATUSES}
    pending = 0
    for status, k in rows:
        if status is None:
            pending = k
        else:
            counts[status] = k
    return StatusCounts(pending + sum(counts.values()), pending, counts)


async def gold_problem_count(store: Store) -> int:
    return int(await store.scalar("SELECT count(*) FROM problem_stats WHERE gold > 0"))


@dataclass(frozen=True, slots=True)
class FlagCounts:
    spurious: int  # passes that do not compute their answer (not gold unless allowed)
    untrusted_harness: int  # verdicts whose tests ran inside the candidate's interpreter


async def flag_counts(store: Store) -> FlagCounts:
    """How many verdicts carry each flag."""
    row = await store.fetchone(
        "SELECT coalesce(sum(flags LIKE '%\"spurious\"%'), 0),"
        " coalesce(sum(flags LIKE '%\"untrusted-harness\"%'), 0) FROM verdicts"
        " WHERE flags != '[]'"
    )
    assert row is not None
    return FlagCounts(int(row[0]), int(row[1]))
