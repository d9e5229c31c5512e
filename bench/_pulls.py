"""What pulls a poem from one poet to another in the style judge, feature block by feature block
(bench/classifier.py's "What moves Lermontov's poems to Pushkin").

The judge's poets are told apart by one linear SVM (one-vs-rest; its decisions are then calibrated, which
keeps their order for each poet). For a poem ``x`` the pull toward poet ``a`` over poet ``b`` is the
difference of their decision values, ``(w_a - w_b)·x + (c_a - c_b)``, which splits exactly into one
share per feature block (``w`` restricted to the block's columns, ``x`` weighted as the judge weighs it)
and the intercepts' share. A block whose share is larger in the poems the judge gives to ``a`` than in
those it keeps for ``b`` is what moves them; the terms of that block whose mean share is most above
what it is in the kept poems say which of its features do it (``top_terms``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

INTERCEPT = "intercept"


def block_names(model) -> list[str]:
    return [n for n, _ in model.named_steps["features"].transformer_list]


def _terms(transformer) -> list[str]:
    """A block's column names: the last step's with a vocabulary (n-grams, function words) or feature names."""
    steps = [s for _, s in transformer.steps] if hasattr(transformer, "steps") else [transformer]
    for step in reversed(steps):
        if hasattr(step, "feature_names_"):
            return list(step.feature_names_)
        vocab = getattr(step, "vocabulary_", None)
        if isinstance(vocab, dict):
            return sorted(vocab, key=vocab.get)
    raise ValueError(f"no column names in {transformer!r}")


def pulls(model, texts: list[str], toward: str, away: str, groups: dict[str, np.ndarray] | None = None
          ) -> tuple[np.ndarray, dict[str, list[dict[str, float]]]]:
    """Each text's pull toward ``toward`` over ``away`` (``model``: a fitted judge pipeline): rows of
    one share per block (``block_names``) and the intercepts' share last; and for each of ``groups``
    (a name and a mask of the texts) per block a dict of each term's share summed over its texts (for
    ``top_terms``). The texts' features are computed once for both."""
    features = model.named_steps["features"]
    svm = model.named_steps["classify"].closed_.calibrated_classifiers_[0].estimator
    classes = list(svm.classes_)
    i, j = classes.index(toward), classes.index(away)
    diff, start = svm.coef_[i] - svm.coef_[j], 0
    normalised = model.named_steps["normalise"].transform(texts)
    shares, terms = [], {g: [] for g in groups or {}}
    for name, transformer in features.transformer_list:
        X = transformer.transform(normalised) * (features.transformer_weights or {}).get(name, 1.0)
        w = diff[start:start + X.shape[1]]
        start += X.shape[1]
        shares.append(np.asarray(X @ w).ravel())
        contributions = X.multiply(w).tocsr() if hasattr(X, "multiply") else X * w
        names = _terms(transformer)
        for g, mask in (groups or {}).items():
            per_term = np.asarray(contributions[np.flatnonzero(mask)].sum(axis=0)).ravel()
            terms[g].append(dict(zip(names, per_term.tolist())))
    assert start == len(diff), "the blocks' columns are the SVM's"
    shares.append(np.full(len(texts), svm.intercept_[i] - svm.intercept_[j]))
    return np.column_stack(shares), terms


def add_terms(total: list[dict[str, float]], terms: list[dict[str, float]]) -> None:
    """``terms`` (one fold's, from ``pulls``) added into ``total`` (one dict per block; empty at first)."""
    if not total:
        total.extend(defaultdict(float) for _ in terms)
    for into, got in zip(total, terms):
        for term, share in got.items():
            into[term] += share


def shown(term: str) -> str:
    """A term as a table shows it: spaces and line breaks made visible, in backticks."""
    return "`" + term.replace(" ", "␣").replace("\n", "↵").replace("|", "¦").replace("`", "'") + "`"


def top_terms(lost: dict[str, float], n_lost: int, kept: dict[str, float], n_kept: int, n: int = 8) -> str:
    """The ``n`` terms whose mean share per poem is most above, in the poems lost to the other poet
    (``lost``: shares summed over ``n_lost`` poems), what it is in the poems kept (``kept``, ``n_kept``):
    what the lost poems have, or lack, that the kept ones do not. With the mean excess."""
    excess = {t: v / max(n_lost, 1) - kept.get(t, 0.0) / max(n_kept, 1) for t, v in lost.items()}
    excess.update({t: -v / max(n_kept, 1) for t, v in kept.items() if t not in lost})
    best = sorted(excess.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{shown(t)} {v:+.3f}" for t, v in best if v > 0) or "—"
