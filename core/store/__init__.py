"""The project store: one SQLite file per project (see schema.py for the tables)."""

from core.store.db import Store, connect_sync, migrate_sync
from core.store.queries import (
    ProblemFilter,
    ProblemRow,
    ProblemSort,
    StatusCounts,
    count_problems,
    gold_problem_count,
    list_problems,
    problem_summary,
    status_counts,
)
from core.store.schema import CANDIDATE_SOURCES, SCHEMA_VERSION, VERDICT_STATUSES

__all__ = [
    "CANDIDATE_SOURCES",
    "SCHEMA_VERSION",
    "VERDICT_STATUSES",
    "ProblemFilter",
    "ProblemRow",
    "ProblemSort",
    "StatusCounts",
    "Store",
    "connect_sync",
    "count_problems",
    "gold_problem_count",
    "list_problems",
    "migrate_sync",
    "problem_summary",
    "status_counts",
]
