"""More training examples for the style judge: long poems also as pieces of a few stanzas.

The judge scores generated poems, which are as long as the generation budget lets them be (8–16
lines at eval's 160 new tokens), not as long as the poet's own poems. Without pieces the poets'
short and long poems differ in number (a quarter of Pushkin's and Tyutchev's training poems have up
to 8 lines, a sixth of Lermontov's) and a short poem leans to the poets who wrote many: in 5-fold CV
Lermontov's poems cut to about 8 lines were recognised 0.56 of the time. Each training poem of
``2 * size`` lines or more is added again as stanza-aligned pieces of about ``size`` lines; the
pieces of one poem are one group, so the calibration and open-set folds keep them together and the
probabilities are cross-validated across poems, never across pieces of one poem.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from poetbench.style.openset import OTHER_LABEL

AUGMENT_LINES = 4  # chosen by bench/classifier_choices.py's 5-fold CV (section "choices by cross-validation")


def pieces(text: str, size: int) -> list[str]:
    """``text`` cut at stanza breaks (and inside a stanza longer than ``size``) into pieces of about
    ``size`` lines; pieces under 4 lines are dropped."""
    out, cur = [], []
    for stanza in (s for s in text.split("\n\n") if s.strip()):
        lines = stanza.split("\n")
        while lines:
            take, lines = lines[:size], lines[size:]
            if cur and len(cur) + len(take) > size:
                out.append(cur)
                cur = []
            cur += take
            if len(cur) >= size:
                out.append(cur)
                cur = []
    if cur:
        out.append(cur)
    return ["\n".join(p) for p in out if len(p) >= 4]


def augmented(texts: list[str], labels, size: int = AUGMENT_LINES,
              whole: str | None = OTHER_LABEL) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The texts, then the pieces of each long one (``size`` 0: none) but those labelled ``whole`` (the
    open-set class learns from whole poems only), their labels, and each row's group: the index of the
    poem it comes from."""
    labels = np.asarray(labels)
    extra = [(p, i) for i, t in enumerate(texts) if size and t.count("\n") + 1 >= 2 * size and labels[i] != whole
             for p in pieces(t, size)]
    groups = np.concatenate([np.arange(len(texts)), np.array([i for _, i in extra], dtype=int)])
    return list(texts) + [p for p, _ in extra], labels[groups], groups


def fit_augmented(pipeline, texts: list[str], labels, size: int = AUGMENT_LINES, vocabulary: str = "rows"):
    """``pipeline`` (``features.build_pipeline``) fitted on the texts and their pieces, folds by poem. The
    features (n-gram vocabularies, their ``min_df`` and idf, the dense blocks' scales) are fitted on every
    row, a piece counting as a document; ``vocabulary="poems"`` fits them on the poems themselves, so a
    poem and its pieces count once (smaller vocabularies, but lower CV figures: bench/classifier_choices.py)."""
    X, y, groups = augmented(texts, labels, size)
    if len(X) == len(texts):
        return pipeline.fit(X, y)
    if vocabulary == "rows":
        return pipeline.fit(X, y, classify__groups=groups)
    features = pipeline[:-1]  # the same step objects: fitting it fits the pipeline's own
    Z = sparse.vstack([features.fit_transform(list(texts)), features.transform(X[len(texts):])]).tocsr()
    pipeline[-1].fit(Z, y, groups=groups)
    return pipeline
