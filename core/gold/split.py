"""The SFT split: which problems training holds out as its dev slice (never trained on)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.errors import TrainError
from core.queries.training import problem_splits_of, split_problem_ids
from core.store import Store


async def pick_dev(store: Store, gold_problem_ids: Sequence[str], n: int, seed: int) -> list[str]:
    """N problems of the gold problems' split(s), drawn with `seed` (same seed → same slice)."""
    if n <= 0:
        return []
    ids = sorted(set(gold_problem_ids))
    splits = await problem_splits_of(store, ids)
    pool = await split_problem_ids(store, splits)
    if n >= len(pool):
        raise TrainError(
            f"--dev {n}: the training split has only {len(pool)} problems (keep some to train on)"
        )
    dev = random.Random(seed).sample(pool, n)
    if not set(ids) - set(dev):
        raise TrainError(f"--dev {n}: every problem with gold would be held out")
    return sorted(dev, key=pool.index)
