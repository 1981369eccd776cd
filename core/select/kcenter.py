"""k-center greedy (Sener & Savarese's core-set step, as WaveCoder uses it): pick K rows so that
the largest distance from any row to its nearest pick — the coverage radius — is small.

Pure numpy over a float32 matrix (rows = items). The picks are *indices into the matrix*, in
pick order: the WaveCoder bug was to keep the first K texts instead, which is why every
selection here is reported beside the radius of a seeded random subset of the same size.
"""

from __future__ import annotations

import numpy as np


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Unit rows (zero rows stay zero): Euclidean distance then orders like cosine distance."""
    x = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _dist_to(x: np.ndarray, row: np.ndarray) -> np.ndarray:
    diff = x - row
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def kcenter_greedy(vectors: np.ndarray, k: int) -> list[int]:
    """K distinct row indices: the row nearest the centroid first, then repeatedly the row
    farthest from every pick so far (ties → lowest index, so the result is deterministic)."""
    x = np.asarray(vectors, dtype=np.float32)
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"K must be between 1 and {n}, got {k}")
    first = int(np.argmin(_dist_to(x, x.mean(axis=0))))
    picks = [first]
    nearest = _dist_to(x, x[first])
    for _ in range(k - 1):
        nxt = int(np.argmax(nearest))
        if nearest[nxt] <= 0:  # only duplicates of picks are left: take unpicked rows in order
            taken = set(picks)
            picks.extend(i for i in range(n) if i not in taken)
            return picks[:k]
        picks.append(nxt)
        np.minimum(nearest, _dist_to(x, x[nxt]), out=nearest)
    return picks


def coverage_radius(vectors: np.ndarray, picks: list[int], *, chunk: int = 256) -> float:
    """max over rows of the distance to the nearest picked row (0 when every row is picked)."""
    x = np.asarray(vectors, dtype=np.float32)
    if not picks:
        raise ValueError("coverage radius of an empty selection")
    centers = x[np.asarray(picks)]
    c2 = np.einsum("ij,ij->i", centers, centers)
    worst = 0.0
    for start in range(0, x.shape[0], chunk):
        block = x[start : start + chunk]
        b2 = np.einsum("ij,ij->i", block, block)
        d2 = b2[:, None] + c2[None, :] - 2.0 * block @ centers.T
        worst = max(worst, float(np.sqrt(max(float(np.min(d2, axis=1).max()), 0.0))))
    return worst


def random_subset(n: int, k: int, seed: int = 0) -> list[int]:
    """K distinct indices of range(n), seeded: the baseline every selection is compared to."""
    return [int(i) for i in np.random.default_rng(seed).choice(n, size=k, replace=False)]
