"""Embed bench: embedding throughput of the offline default embedder, k-center selection time
on GSM8K-sized pools, and the coverage radius of k-center vs a seeded random subset.

Data: the GSM8K train questions (7,473, from ../shared/data). The embedder is the default
("smollm2": SmolLM2-135M, fp32 on CPU, mean-pooled last hidden states) in its subprocess, with
OMP_NUM_THREADS=2. Embedding stops after --budget-s seconds (default 300): the items/s figure
is over the items embedded (model load excluded: the first batch is timed separately). Selection
is timed on the embedded vectors and on synthetic vectors of the full size (7,473 × hidden)
when fewer were embedded. Radii are over unit-normalised vectors (what `ekt select` uses).
Run: `python -m bench embed` (or `python -m bench.embed_bench --budget-s 60`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
DATA = (
    next(
        (p for p in (_ROOT.parent / "shared", _ROOT.parent.parent / "shared") if p.is_dir()),
        _ROOT.parent / "shared",
    )
    / "data/gsm8k/train.jsonl"
)  # a checkout beside shared/, or a worktree one level deeper


def questions(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(f"gsm8k/train/{i}", json.loads(line)["question"]) for i, line in enumerate(lines)]


async def embed_for(items: list[tuple[str, str]], budget_s: float, batch: int) -> dict:
    """One embedder subprocess, batches until the budget is spent; the first batch (warm-up)
    is timed apart from the rest. Vectors go through the store cache like `ekt select`'s."""
    from core.embed import EmbedWorker, embed_items, store_vectors
    from core.models import ensure_local_model
    from core.project import init_project
    from core.store import Store

    root = Path(tempfile.mkdtemp(prefix="ekt-embed-bench-"))
    init_project(root / "proj", name="embed-bench")
    folder = ensure_local_model("smollm2")
    async with await Store.open(root / "proj" / "ekt.db") as store:
        t0 = time.perf_counter()
        async with EmbedWorker(str(folder)) as worker:
            load_s = time.perf_counter() - t0
            done, t1, first_s = 0, time.perf_counter(), 0.0
            start = t1
            while done < len(items) and time.perf_counter() - start < budget_s:
                chunk = items[done : done + batch]
                vectors = await worker.embed([t for _, t in chunk])
                rows = [(i, v) for (i, _), v in zip(chunk, vectors, strict=True)]
                await store_vectors(store, "SmolLM2-135M-Instruct", "question", rows)
                done += len(chunk)
                if done == len(chunk):
                    first_s, t1 = time.perf_counter() - t1, time.perf_counter()
            steady = time.perf_counter() - t1
        cached = await embed_items(store, "question", items[:done])
        assert cached.computed == 0  # every vector came back from the cache
    return {
        "vectors": cached.vectors, "load_s": load_s, "first_s": first_s, "steady_s": steady,
        "steady_items": done - min(batch, done), "dim": worker.dim,
    }  # fmt: skip


def select_report(x: np.ndarray, ks: list[int], label: str) -> None:
    from core.select.kcenter import coverage_radius, kcenter_greedy, normalize, random_subset

    x = normalize(x)
    for k in ks:
        if k > len(x):
            continue
        t0 = time.perf_counter()
        picks = kcenter_greedy(x, k)
        sel_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        radius = coverage_radius(x, picks)
        rad_s = time.perf_counter() - t0
        rand = [coverage_radius(x, random_subset(len(x), k, seed=s)) for s in range(3)]
        print(
            f"  {label} n={len(x)} K={k}: select {sel_s:.2f} s (+ radius {rad_s:.2f} s)"
            f" · radius {radius:.4f} vs random {np.mean(rand):.4f}"
            f" (seeds 0-2: {', '.join(f'{r:.4f}' for r in rand)})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.embed_bench")
    parser.add_argument("--budget-s", type=float, default=300.0)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"uptime: {uptime}")
    items = questions(DATA)
    res = asyncio.run(embed_for(items, args.budget_s, args.batch))
    n = len(res["vectors"])
    rate = res["steady_items"] / res["steady_s"] if res["steady_s"] > 0 else float("nan")
    print(
        f"embedded {n} of {len(items)} questions (dim {res['dim']}): model load"
        f" {res['load_s']:.1f} s, first batch of {args.batch} {res['first_s']:.1f} s; then"
        f" {res['steady_items']} in {res['steady_s']:.1f} s = {rate:.1f} items/s"
    )
    select_report(res["vectors"], [100, 500], "embedded")
    if n < len(items):
        rng = np.random.default_rng(0)
        synth = rng.normal(size=(len(items), res["dim"])).astype(np.float32)
        select_report(synth, [100, 500], "synthetic gaussian")
    print(
        f"uptime after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
