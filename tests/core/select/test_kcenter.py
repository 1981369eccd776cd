"""k-center greedy on synthetic clustered vectors: coverage, radius vs random, not first-K."""

from __future__ import annotations

import numpy as np
import pytest

from core.select.kcenter import coverage_radius, kcenter_greedy, normalize, random_subset


def clustered(
    k: int = 8, per: int = 40, dim: int = 16, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """k tight clusters far apart, rows grouped by cluster (so the first K rows are all in
    cluster 0 — a first-K "selection" covers one cluster)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim)) * 50.0
    labels = np.repeat(np.arange(k), per)
    x = centers[labels] + rng.normal(size=(k * per, dim))
    return x.astype(np.float32), labels


def test_k_picks_cover_every_cluster_and_beat_random() -> None:
    x, labels = clustered()
    picks = kcenter_greedy(x, 8)
    assert len(set(picks)) == 8
    assert sorted(labels[picks].tolist()) == list(range(8))
    radius = coverage_radius(x, picks)
    rand = coverage_radius(x, random_subset(len(x), 8, seed=0))
    assert radius < rand
    assert radius < 10.0  # within-cluster spread, not a between-cluster distance
    assert picks != list(range(8))  # not the WaveCoder first-K bug
    assert coverage_radius(x, list(range(8))) > radius


def test_radius_matches_brute_force_and_full_pick_is_zero() -> None:
    x, _ = clustered(k=3, per=5, dim=4)
    picks = kcenter_greedy(x, 4)
    brute = max(min(float(np.linalg.norm(row - x[p])) for p in picks) for row in x)
    assert coverage_radius(x, picks) == pytest.approx(brute, rel=1e-4)
    assert coverage_radius(x, kcenter_greedy(x, len(x))) == pytest.approx(
        0.0, abs=0.05
    )  # fp32 expansion of |a-b|²


def test_duplicates_and_bounds() -> None:
    x = np.ones((5, 3), dtype=np.float32)
    assert kcenter_greedy(x, 3) == [0, 1, 2]  # only duplicates: distinct rows, in order
    with pytest.raises(ValueError):
        kcenter_greedy(x, 0)
    with pytest.raises(ValueError):
        kcenter_greedy(x, 6)


def test_normalize_gives_unit_rows() -> None:
    x = normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(np.linalg.norm(x[0]), 1.0) and np.allclose(x[1], 0.0)
