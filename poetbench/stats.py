"""Confidence intervals and paired comparisons (numpy/scipy; seeded, so reruns give the same CIs)."""

from __future__ import annotations

import math

import numpy as np


def bootstrap_ci(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): percentile bootstrap of the mean."""
    x = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(x) == 1:
        return float(x[0]), float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(x.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def paired_comparison(a, b, n_boot: int = 2000, seed: int = 0) -> dict:
    """Adapter ``a`` vs base ``b`` on the same prompts and seeds: mean difference with a paired
    bootstrap CI, Wilcoxon signed-rank p-value, and effect size (mean difference / SD of differences)."""
    from scipy.stats import wilcoxon

    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[~np.isnan(d)]
    mean, low, high = bootstrap_ci(d, n_boot=n_boot, seed=seed)
    sd = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
    try:
        p = float(wilcoxon(d).pvalue) if len(d) > 0 and np.any(d != 0) else 1.0
    except ValueError:
        p = float("nan")
    return {"n": int(len(d)), "diff": mean, "ci_low": low, "ci_high": high, "p_value": p,
            "effect_size": mean / sd if sd and not math.isnan(sd) and sd > 0 else 0.0}


def js_divergence(p: dict, q: dict) -> float:
    """Jensen–Shannon divergence (base 2, in [0, 1]) of two count distributions over labels."""
    keys = sorted(set(p) | set(q))
    if not keys:
        return float("nan")
    a = np.array([p.get(k, 0) for k in keys], float)
    b = np.array([q.get(k, 0) for k in keys], float)
    if a.sum() == 0 or b.sum() == 0:
        return float("nan")
    a, b = a / a.sum(), b / b.sum()
    m = (a + b) / 2

    def kl(x, y):
        nz = x > 0
        return float((x[nz] * np.log2(x[nz] / y[nz])).sum())

    return 0.5 * kl(a, m) + 0.5 * kl(b, m)
