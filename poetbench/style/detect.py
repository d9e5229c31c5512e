"""Detectability: a classifier two-sample test (Lopez-Paz & Oquab 2017) between a model's poems and
the poet's real held-out poems, on the style classifier's features.

Both samples are cut to the same size (balanced), an L2 logistic regression (C = 0.1) is
cross-validated on them (stratified folds; the parts of one work, when given as ``groups``, stay in
one fold, so a work's sibling part never helps to recognise it), and the out-of-fold decision scores
give a ROC AUC: 0.5 when the two samples cannot be told apart, 1.0 when they always can. Its 95% CI
is a stratified percentile bootstrap of the out-of-fold scores (the folds' models held fixed). Pure:
matrices in, numbers out.

C and the grouping were chosen on the shared corpora's train splits (never their test splits): two
halves of 36 poems of one poet, 10 splits each for Pushkin, Lermontov and Tyutchev, gave a mean AUC
of 0.44–0.56 (sd 0.08–0.11) at C = 1 without grouping and 0.51–0.53 (sd 0.05–0.08) at C = 0.1 with
it, while telling one poet's 40 poems from another's kept the same power (0.87–0.89) at both.
"""

from __future__ import annotations

import numpy as np

FOLDS = 5
MIN_PER_SAMPLE = 4  # fewer poems than this on either side: no figure (nan)
BOOTSTRAP = 1000


def auc(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of ``scores`` for binary ``labels`` (Mann–Whitney, ties counted half); both may have a
    leading batch axis (one AUC per row)."""
    from scipy.stats import rankdata

    labels, scores = np.atleast_2d(labels), np.atleast_2d(scores)
    ranks = rankdata(scores, axis=1)
    pos = labels.sum(axis=1)
    neg = labels.shape[1] - pos
    u = (ranks * labels).sum(axis=1) - pos * (pos + 1) / 2
    return u / (pos * neg)


C = 0.1


def two_sample_auc(a, b, seed: int = 0, folds: int = FOLDS, n_boot: int = BOOTSTRAP, groups_a=None,
                   groups_b=None) -> tuple[float, float, float]:
    """(AUC, CI low, CI high) of telling the rows of ``a`` from those of ``b`` (feature matrices,
    dense or sparse; ``groups_*``: a work id per row, rows of one work kept in one fold); nan when
    either has fewer than ``MIN_PER_SAMPLE`` rows."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    nan = (float("nan"),) * 3
    n = min(a.shape[0], b.shape[0])
    if n < MIN_PER_SAMPLE:
        return nan
    rng = np.random.default_rng(seed)
    ia, ib = np.sort(rng.choice(a.shape[0], n, replace=False)), np.sort(rng.choice(b.shape[0], n, replace=False))
    stack = sparse.vstack if sparse.issparse(a) or sparse.issparse(b) else np.vstack
    X = stack([a[ia], b[ib]])
    if sparse.issparse(X):
        X = X.tocsr()
    y = np.r_[np.ones(n, int), np.zeros(n, int)]
    ga = np.asarray(groups_a, dtype=object)[ia] if groups_a is not None else np.array([f"a{i}" for i in ia], dtype=object)
    gb = np.asarray(groups_b, dtype=object)[ib] if groups_b is not None else np.array([f"b{i}" for i in ib], dtype=object)
    groups = np.r_[np.char.add("a:", ga.astype(str)), np.char.add("b:", gb.astype(str))]
    cv = StratifiedGroupKFold(n_splits=min(folds, n), shuffle=True, random_state=seed)
    scores = cross_val_predict(LogisticRegression(C=C, solver="liblinear"), X, y, cv=cv, groups=groups,
                               method="decision_function")
    value = float(auc(y, scores)[0])
    # stratified bootstrap: resample each sample's out-of-fold scores with replacement
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    idx = np.hstack([pos[rng.integers(0, n, (n_boot, n))], neg[rng.integers(0, n, (n_boot, n))]])
    boot = auc(y[idx], scores[idx])
    low, high = np.percentile(boot, [2.5, 97.5])
    return value, float(low), float(high)


def halves(x, seed: int = 0, groups=None) -> tuple:
    """Two random halves of the rows of ``x`` (real against real: the test's null), as
    ``(a, b, groups_a, groups_b)``; the rows of one group (work) go to the same half."""
    groups = np.asarray(groups if groups is not None else np.arange(x.shape[0]), dtype=object).astype(str)
    rng = np.random.default_rng(seed)
    sides: tuple[list[int], list[int]] = ([], [])
    for g in rng.permutation(np.unique(groups)):
        rows = np.flatnonzero(groups == g).tolist()
        (sides[0] if len(sides[0]) <= len(sides[1]) else sides[1]).extend(rows)
    a, b = np.sort(sides[0]), np.sort(sides[1])
    return x[a], x[b], groups[a], groups[b]
