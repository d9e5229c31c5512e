"""Confidence intervals and paired comparisons (scipy; seeded, so reruns give the same intervals)."""

from __future__ import annotations

import math
import warnings

import numpy as np

ALPHA = 0.05  # one significance rule for the terminal and the HTML report: p < ALPHA


def _clean(values) -> np.ndarray:
    return np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)


def bootstrap_ci(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the BCa bootstrap interval of the mean (``scipy.stats.bootstrap``). With
    fewer than two distinct values the interval is the mean itself (there is nothing to resample)."""
    from scipy.stats import bootstrap

    x = _clean(values)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if len(x) < 3 or np.all(x == x[0]):
        return mean, mean, mean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DegenerateDataWarning on near-constant data: handled below
        res = bootstrap((x,), np.mean, n_resamples=n_boot, confidence_level=level, method="BCa",
                        random_state=np.random.default_rng(seed), vectorized=True)
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa undefined (e.g. one odd value): percentile
        res = bootstrap((x,), np.mean, n_resamples=n_boot, confidence_level=level, method="percentile",
                        random_state=np.random.default_rng(seed), vectorized=True)
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return mean, min(low, mean), max(high, mean)


def two_level_ci(groups, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) over several training seeds' values: the mean of the seeds' means, with a
    two-level percentile bootstrap (seeds with replacement, then each chosen seed's values with
    replacement), so the interval holds the variance between training runs as well as between
    prompts. One group: ``bootstrap_ci``."""
    groups = [g for g in (_clean(g) for g in groups) if len(g)]
    if len(groups) <= 1:
        return bootstrap_ci(groups[0] if groups else [], n_boot=n_boot, level=level, seed=seed)
    rng = np.random.default_rng(seed)
    means = np.stack([g[rng.integers(0, len(g), (n_boot, len(g)))].mean(axis=1) for g in groups])  # (seeds, B)
    pick = rng.integers(0, len(groups), (n_boot, len(groups)))
    boot = means[pick, np.arange(n_boot)[:, None]].mean(axis=1)
    mean = float(np.mean([g.mean() for g in groups]))
    low, high = np.percentile(boot, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return mean, min(float(low), mean), max(float(high), mean)


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


def add_q_values(comparisons: list[dict]) -> list[dict]:
    """Benjamini–Hochberg q-values over all the run's tests (every adapter x metric), as
    ``q_value``; ``ci_excludes_zero`` beside it, so a table can say where the CI and the test
    disagree. A test without a p-value (no pairs, no differences) counts as p = 1."""
    from scipy.stats import false_discovery_control

    if not comparisons:
        return comparisons
    p = np.array([c["p_value"] if c.get("p_value") is not None and c["p_value"] == c["p_value"] else 1.0
                  for c in comparisons])
    q = false_discovery_control(p, method="bh")
    for c, v in zip(comparisons, q):
        c["q_value"] = float(v)
        c["ci_excludes_zero"] = bool(c["ci_low"] > 0 or c["ci_high"] < 0) if c.get("ci_low") == c.get("ci_low") \
            and c.get("ci_low") is not None else False
    return comparisons


def is_significant(comparison: dict) -> bool:
    """The significance rule every table uses: the Benjamini–Hochberg q-value over all the run's
    tests below ``ALPHA`` (the Wilcoxon p-value, for comparisons written before q-values were)."""
    p = comparison.get("q_value", comparison.get("p_value"))
    return p is not None and p == p and p < ALPHA


def disagrees(comparison: dict) -> bool:
    """The bootstrap CI of the difference and the test say different things (one significant)."""
    return "ci_excludes_zero" in comparison and comparison["ci_excludes_zero"] != is_significant(comparison)
