"""pass@k: the unbiased estimator of Chen et al. (2021) and a bootstrap interval over problems.

For one problem with n samples of which c pass, pass@k = 1 − C(n−c, k) / C(n, k): the chance
that at least one of k samples drawn without replacement passes. The binomials overflow floats
for n in the hundreds, so it is computed as the product 1 − ∏_{i=n−c+1}^{n} (1 − k/i).

Conventions (explicit because the formula is silent on them):
- c = 0 → 0.0 (no sample passed, whatever n and k are).
- n − c < k → 1.0 (every draw of k samples holds a passing one). This covers c = n.
- n < k (fewer samples than k) is where the estimator is undefined: with c > 0 this function
  returns 1.0 and with c = 0 it returns 0.0, i.e. it reports pass@n — a lower bound of pass@k.
  `ekt eval` refuses a k larger than --n up front, so this only happens for a problem whose
  generation came back short; results count such problems in `short`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem (see the module docstring for the edge conventions)."""
    if n < 0 or c < 0 or c > n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got n={n}, c={c}")
    if k < 1:
        raise ValueError(f"pass@k needs k >= 1, got k={k}")
    if c == 0:
        return 0.0
    if n - c < k:
        return 1.0
    fail_all = 1.0
    for i in range(n - c + 1, n + 1):
        fail_all *= 1.0 - k / i
    return 1.0 - fail_all


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Average pass@k over problems given (n, c) per problem; 0.0 for no problems."""
    if not counts:
        return 0.0
    return math.fsum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over problems and its percentile bootstrap interval."""

    value: float
    lo: float
    hi: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "lo": self.lo, "hi": self.hi}


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of an already sorted list (numpy's default method)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def bootstrap_ci(
    values: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Estimate:
    """Mean of per-problem values with a percentile bootstrap interval over problems.

    Problems are the unit that varies between benchmarks, so they are what gets resampled; the
    same seed gives the same interval. One problem (or none) gives a zero-width interval."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    m = len(values)
    if m == 0:
        return Estimate(0.0, 0.0, 0.0)
    mean = math.fsum(values) / m
    if m == 1:
        return Estimate(mean, mean, mean)
    rng = random.Random(seed)
    vals = list(values)
    means = sorted(math.fsum(rng.choices(vals, k=m)) / m for _ in range(resamples))
    tail = (1.0 - confidence) / 2.0
    return Estimate(mean, _quantile(means, tail), _quantile(means, 1.0 - tail))


def estimate_pass_at_k(
    counts: Sequence[tuple[int, int]],
    k: int,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Estimate:
    """pass@k over problems from (n, c) pairs, with its bootstrap interval."""
    per_problem = [pass_at_k(n, c, k) for n, c in counts]
    return bootstrap_ci(per_problem, resamples=resamples, confidence=confidence, seed=seed)


def parse_ks(text: str | Sequence[int], n: int | None = None) -> list[int]:
    """`"1,10,20"` → [1, 10, 20] (sorted, unique); a bad list or a k above n raises ValueError
    with a one-line reason (the CLI turns it into an EvalError)."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError("--k is empty: give values like 1,10,20")
        try:
            ks = [int(p) for p in parts]
        except ValueError:
            raise ValueError(
                f"--k {text!r}: expected comma-separated integers like 1,10,20"
            ) from None
    else:
        ks = [int(k) for k in text]
        if not ks:
            raise ValueError("--k is empty: give values like 1,10,20")
    bad = [k for k in ks if k < 1]
    if bad:
        raise ValueError(f"--k {bad[0]}: k must be at least 1")
    if n is not None:
        over = [k for k in ks if k > n]
        if over:
            raise ValueError(
                f"--k {max(over)} exceeds --n {n}: pass@k needs at least k samples per problem"
            )
    return sorted(set(ks))
