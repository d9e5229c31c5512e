"""Detectability: a classifier two-sample test (Lopez-Paz & Oquab 2017) between a model's poems and
the poet's real held-out poems, on the style classifier's features.

Both samples are cut to the same size (balanced), a logistic regression is cross-validated on them
(stratified folds), and the out-of-fold decision scores give a ROC AUC: 0.5 when the two samples
cannot be told apart, 1.0 when they always can. Its 95% CI is a stratified percentile bootstrap of
the out-of-fold scores (the folds' models are held fixed). Pure: matrices in, numbers out.
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


def two_sample_auc(a, b, seed: int = 0, folds: int = FOLDS, n_boot: int = BOOTSTRAP) -> tuple[float, float, float]:
    """(AUC, CI low, CI high) of telling the rows of ``a`` from those of ``b`` (feature matrices,
    dense or sparse); nan when either has fewer than ``MIN_PER_SAMPLE`` rows."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

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
    cv = StratifiedKFold(n_splits=min(folds, n), shuffle=True, random_state=seed)
    scores = cross_val_predict(LogisticRegression(C=1.0, solver="liblinear"), X, y, cv=cv, method="decision_function")
    value = float(auc(y, scores)[0])
    # stratified bootstrap: resample each sample's out-of-fold scores with replacement
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    idx = np.hstack([pos[rng.integers(0, n, (n_boot, n))], neg[rng.integers(0, n, (n_boot, n))]])
    boot = auc(y[idx], scores[idx])
    low, high = np.percentile(boot, [2.5, 97.5])
    return value, float(low), float(high)


def halves(x, seed: int = 0) -> tuple:
    """Two random halves of the rows of ``x`` (real against real: the test's null)."""
    order = np.random.default_rng(seed).permutation(x.shape[0])
    half = x.shape[0] // 2
    return x[np.sort(order[:half])], x[np.sort(order[half: 2 * half])]
