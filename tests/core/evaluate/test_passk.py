"""pass@k against values computed by hand, the edge conventions, and a deterministic bootstrap."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from core.evaluate.passk import (
    bootstrap_ci,
    estimate_pass_at_k,
    mean_pass_at_k,
    parse_ks,
    pass_at_k,
)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 1, 1, 0.1),  # c/n when k = 1
        (20, 7, 1, 0.35),
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (20, 3, 10, 1 - 19448 / 184756),  # 1 - C(17,10)/C(20,10)
        (6, 2, 3, 0.8),  # 1 - C(4,3)/C(6,3) = 1 - 4/20
    ],
)
def test_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_no_passing_sample_is_zero_for_every_k() -> None:
    assert pass_at_k(20, 0, 1) == 0.0
    assert pass_at_k(20, 0, 20) == 0.0


def test_all_passing_is_one() -> None:
    assert pass_at_k(20, 20, 1) == 1.0
    assert pass_at_k(20, 20, 20) == 1.0


def test_fewer_failures_than_k_is_one() -> None:
    assert pass_at_k(10, 2, 9) == 1.0  # n - c = 8 < 9: every 9-draw holds a pass


def test_fewer_samples_than_k_reports_pass_at_n() -> None:
    # n < k: the documented convention is pass@n (1.0 if any sample passed, else 0.0)
    assert pass_at_k(3, 1, 10) == 1.0
    assert pass_at_k(3, 0, 10) == 0.0
    assert pass_at_k(0, 0, 1) == 0.0


def test_product_form_is_exact_and_stable_for_large_n() -> None:
    n, c, k = 1000, 37, 100
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (-1, 0, 1), (5, 1, 0)])
def test_invalid_arguments_raise(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_over_problems() -> None:
    assert mean_pass_at_k([(10, 1), (10, 0), (10, 10)], 1) == pytest.approx((0.1 + 0 + 1) / 3)
    assert mean_pass_at_k([], 1) == 0.0


def test_bootstrap_is_deterministic_with_a_seed() -> None:
    values = [0.0, 1.0, 0.5, 0.25, 0.0, 1.0, 0.0, 0.75]
    a = bootstrap_ci(values, seed=7)
    b = bootstrap_ci(values, seed=7)
    c = bootstrap_ci(values, seed=8)
    assert a == b
    assert a != c
    assert a.value == pytest.approx(sum(values) / len(values))
    assert 0.0 <= a.lo < a.value < a.hi <= 1.0


def test_bootstrap_interval_narrows_with_more_problems() -> None:
    few = bootstrap_ci([0.0, 1.0] * 5, seed=1)
    many = bootstrap_ci([0.0, 1.0] * 500, seed=1)
    assert many.hi - many.lo < few.hi - few.lo
    assert many.lo < 0.5 < many.hi


def test_bootstrap_degenerate_inputs() -> None:
    assert bootstrap_ci([]).as_dict() == {"value": 0.0, "lo": 0.0, "hi": 0.0}
    one = bootstrap_ci([0.3])
    assert (one.lo, one.value, one.hi) == (0.3, 0.3, 0.3)
    same = bootstrap_ci([1.0] * 10)
    assert (same.lo, same.hi) == (1.0, 1.0)
    with pytest.raises(ValueError):
        bootstrap_ci([0.1, 0.2], confidence=1.5)


def test_estimate_combines_estimator_and_interval() -> None:
    est = estimate_pass_at_k([(4, 1), (4, 0), (4, 4)], 2, seed=3)
    assert est.value == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert est.lo <= est.value <= est.hi


def test_parse_ks() -> None:
    assert parse_ks("10, 1,20,10") == [1, 10, 20]
    assert parse_ks([5, 1], n=5) == [1, 5]
    for bad, match in [
        ("", "empty"),
        ("1,x", "comma-separated integers"),
        ("0,1", "at least 1"),
    ]:
        with pytest.raises(ValueError, match=match):
            parse_ks(bad)
    with pytest.raises(ValueError, match="exceeds --n 5"):
        parse_ks("1,10", n=5)
