"""Embeddings in the subprocess, cached in the store: the second call computes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from core.embed import embed_items, embedder_id
from core.errors import ModelError
from core.queries.embeddings import question_items
from core.store import Store


def test_embed_questions_then_reuse_cache(gold_project: Path, tiny_model: Path) -> None:
    async def go() -> tuple:
        async with await Store.open(gold_project / "ekt.db") as store:
            items = await question_items(store)
            progress: list[tuple[int, int]] = []
            first = await embed_items(
                store, "question", items, embedder=str(tiny_model), batch=4,
                on_progress=lambda d, t: progress.append((d, t)),
            )  # fmt: skip
            again = await embed_items(store, "question", items, embedder=str(tiny_model))
            rows = await store.scalar("SELECT count(*) FROM embeddings")
            return items, first, again, progress, rows

    items, first, again, progress, rows = asyncio.run(go())
    assert first.computed == len(items) == 9 and again.computed == 0
    assert first.vectors.shape == (9, 32) and first.vectors.dtype == np.float32
    assert np.array_equal(first.vectors, again.vectors)
    assert first.ids == [pid for pid, _ in items]
    assert progress[0] == (0, 9) and progress[-1] == (9, 9) and len(progress) == 4
    assert rows == 9
    assert len({v.tobytes() for v in first.vectors}) == 9  # different texts, different vectors


def test_unknown_embedder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown model"):
        embedder_id("no-such-model")


def test_vectors_come_back_in_input_order(tiny_model: Path) -> None:
    """The subprocess batches texts by length; each vector must still be its own text's."""
    from core.embed import EmbedWorker

    texts = [
        "def add(a, b):\n    return a + b\n" * 3,
        "Tom has 5 apples.",
        "for i in range(10):\n    x = x * 2 - 1\n",
    ]

    async def go() -> tuple[list[bytes], list[bytes]]:
        async with EmbedWorker(str(tiny_model)) as worker:
            together = await worker.embed(texts)
            alone = [(await worker.embed([t]))[0] for t in texts]
            return together, alone

    together, alone = asyncio.run(go())
    for a, b in zip(together, alone, strict=True):
        va, vb = np.frombuffer(a, np.float16), np.frombuffer(b, np.float16)
        assert np.allclose(va, vb, atol=2e-2), (va[:4], vb[:4])
