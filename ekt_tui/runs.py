"""When the dashboard re-reads a run's outcomes.

`run_core` (core.queries) is cheap and read on every refresh. `run_outcomes` joins the run's
candidates — 150k rows on a GSM8K run, ~0.3 s — so the dashboard reads it in the background at
most every OUTCOME_COST_FACTOR × its last duration (`OutcomeThrottle`).
"""

from __future__ import annotations

import time

from core import RATE_WINDOW, RunOutcomes, RunStats, Store, list_runs, run_core, run_outcomes

__all__ = ["RATE_WINDOW", "OutcomeThrottle", "RunOutcomes", "RunStats", "list_runs", "run_core"]

OUTCOME_COST_FACTOR = 10.0
OUTCOME_MIN_INTERVAL = 1.0


class OutcomeThrottle:
    """Keeps the latest RunOutcomes per run and says when reading them again is worth it:
    their cost stays under 1/OUTCOME_COST_FACTOR of the time, whatever the store's size."""

    def __init__(self) -> None:
        self.latest: dict[int, RunOutcomes] = {}
        self._next: dict[int, float] = {}

    def expire(self, run_id: int) -> None:
        """Read again at the next refresh (the run changed state: show its final numbers)."""
        if self._next.get(run_id) != float("inf"):
            self._next[run_id] = 0.0

    def wait_s(self, run_id: int) -> float:
        """Seconds until the next read is due (0: now; inf: one is running)."""
        return max(self._next.get(run_id, 0.0) - time.monotonic(), 0.0)

    async def read(self, store: Store, run_id: int, now: float) -> RunOutcomes:
        started = time.monotonic()
        self._next[run_id] = float("inf")  # one read at a time
        try:
            outcomes = await run_outcomes(store, run_id, now)
        except BaseException:
            self._next[run_id] = 0.0
            raise
        cost = time.monotonic() - started
        self._next[run_id] = time.monotonic() + max(
            OUTCOME_MIN_INTERVAL, OUTCOME_COST_FACTOR * cost
        )
        self.latest[run_id] = outcomes
        return outcomes
