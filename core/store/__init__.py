"""The project store: one SQLite file per project (see schema.py for the tables, and
`core.queries` for the read model built on them)."""

from core.store.db import Store, connect_sync, migrate_sync
from core.store.gold_settings import sync_gold_settings
from core.store.schema import (
    CANDIDATE_GOLD,
    CANDIDATE_SOURCES,
    SCHEMA_VERSION,
    VERDICT_STATUSES,
    gold_rule,
)

__all__ = [
    "CANDIDATE_GOLD",
    "CANDIDATE_SOURCES",
    "SCHEMA_VERSION",
    "VERDICT_STATUSES",
    "Store",
    "connect_sync",
    "gold_rule",
    "migrate_sync",
    "sync_gold_settings",
]
