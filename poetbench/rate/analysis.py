"""What the ratings say (the report's "human judgement" section, ``human.json``):

- Bradley–Terry strengths per model row: a logistic regression without intercept on +1/-1 rows of
  (winner, loser) (scikit-learn; "cannot tell" counts half a win each way), centred so the mean
  strength is 0, with a 95% percentile CI from resampling the ratings;
- the real-poem rate: among ratings that marked a poem as real in a pair holding one, the share that
  found it (Wilson 95% CI, ``scipy.stats.binomtest``), beside the 50% of guessing;
- inter-rater agreement: over pairs rated by two or more raters, the share of rater pairs that chose
  alike (Wilson CI);
- metric-human agreement: for each poem metric with a direction, the share of rated pairs (a choice,
  not "cannot tell"; the metric not tied) in which the metric prefers the poem people preferred
  (Wilson CI): 50% is no better than a coin.
"""

from __future__ import annotations

import itertools

import numpy as np

BOOT = 200


def _wilson(k: int, n: int) -> dict:
    from scipy.stats import binomtest

    if n == 0:
        return {"rate": None, "ci_low": None, "ci_high": None, "n": 0}
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {"rate": k / n, "ci_low": float(ci.low), "ci_high": float(ci.high), "n": n}


def bradley_terry(ratings: list[dict], models: list[str]) -> np.ndarray:
    """Centred log-strengths of ``models`` from the ratings (ties half a win each way)."""
    from sklearn.linear_model import LogisticRegression

    index = {m: i for i, m in enumerate(models)}
    X, y, w = [], [], []
    for r in ratings:
        a, b = index[r["left_model"]], index[r["right_model"]]
        outcomes = {"left": [(a, b, 1.0)], "right": [(b, a, 1.0)], "tie": [(a, b, 0.5), (b, a, 0.5)]}[r["choice"]]
        for winner, loser, weight in outcomes:
            row = np.zeros(len(models))
            row[winner], row[loser] = 1.0, -1.0
            X += [row, -row]
            y += [1, 0]
            w += [weight, weight]
    if not X or len(set(y)) < 2:
        return np.zeros(len(models))
    model = LogisticRegression(fit_intercept=False, C=10.0).fit(np.array(X), np.array(y), sample_weight=np.array(w))
    s = model.coef_[0]
    return s - s.mean()


def human_judgement(ratings: list[dict], scores: list[dict], seed: int = 0) -> dict:
    from poetbench.metrics.registry import metrics

    if not ratings:
        return {"ratings": 0}
    models = sorted({r["left_model"] for r in ratings} | {r["right_model"] for r in ratings})
    strengths = bradley_terry(ratings, models)
    rng = np.random.default_rng(seed)
    boot = np.array([bradley_terry([ratings[i] for i in rng.integers(0, len(ratings), len(ratings))], models)
                     for _ in range(BOOT)])
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    bt = sorted(({"model": m, "strength": float(s), "ci_low": float(lo), "ci_high": float(hi)}
                 for m, s, lo, hi in zip(models, strengths, low, high)), key=lambda r: -r["strength"])
    # the real poem
    marked = [r for r in ratings if r["real"] and "reference" in (r["left_model"], r["right_model"])]
    found = sum((r["left_model"] == "reference") == (r["real"] == "left") for r in marked)
    # raters agreeing
    by_pair: dict[str, list[str]] = {}
    for r in ratings:
        by_pair.setdefault(r["pair_id"], []).append(r["choice"])
    pairs_of_raters = [(a, b) for choices in by_pair.values() if len(choices) > 1
                       for a, b in itertools.combinations(choices, 2)]
    agree = sum(a == b for a, b in pairs_of_raters)
    # metrics against people
    values = {s["key"]: s for s in scores}
    table = []
    for m in metrics("poem"):
        if m.higher_is_better is None:
            continue
        k = n = 0
        for r in ratings:
            left, right = values.get(r["left_key"], {}).get(m.name), values.get(r["right_key"], {}).get(m.name)
            if r["choice"] == "tie" or left is None or right is None or left != left or right != right or left == right:
                continue
            metric_prefers = "left" if (left > right) == m.higher_is_better else "right"
            n += 1
            k += metric_prefers == r["choice"]
        table.append({"metric": m.name, "label": m.label, **_wilson(k, n)})
    table.sort(key=lambda t: -(t["rate"] if t["rate"] is not None else -1))
    return {"ratings": len(ratings), "raters": len({r["rater"] for r in ratings}),
            "pairs_rated": len(by_pair), "bradley_terry": bt, "real_found": _wilson(found, len(marked)),
            "agreement": _wilson(agree, len(pairs_of_raters)), "metric_agreement": table}
