"""Style metrics: what the style classifier says of a poem (``P(target author)``, whether it is the
most probable author), pooled Cosine Delta of a group of poems to each author's corpus, and the
detectability of a group of poems against the real poet's (a classifier two-sample test)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from poetbench.corpus.cleaning import clean_text
from poetbench.words import readable, words


# --------------------------------------------------------------------------------------------
# Cosine Delta (Burrows's Delta with cosine distance; Smith & Aldridge 2011, Evert et al. 2017)
# --------------------------------------------------------------------------------------------


def _words(texts) -> list[str]:
    """The words of ``texts`` (cleaned as a corpus is, read as they print: ``words.readable``), ``ё`` read
    as ``е``: whether ``всё`` and ``её`` are spelled with ``ё`` depends on the edition (Yesenin's source
    never does), and they are among the most frequent words."""
    return [w for t in texts for w in words(readable(clean_text(t)), fold_yo=True)]


def _chunks(words: list[str], size: int) -> list[list[str]]:
    return [words[i: i + size] for i in range(0, len(words) - size + 1, size)] or [words]


def _rel_freq(words: list[str], vocab: dict[str, int]) -> np.ndarray:
    v = np.zeros(len(vocab))
    for w, c in Counter(words).items():
        j = vocab.get(w)
        if j is not None:
            v[j] = c
    return v / max(1, len(words))


class DeltaSpace:
    """The authors' side of Cosine Delta, fitted once: the ``mfw`` most frequent words of all corpora,
    z-scored with means and deviations taken over ``chunk``-word samples of every corpus, and each
    author's centroid of its samples' z-scores. An eval run measures every group of poems against the
    same corpora, so it reads them once."""

    def __init__(self, corpora: dict[str, list[str]], mfw: int = 300, chunk: int = 2500):
        author_words = {a: _words(texts) for a, texts in corpora.items()}
        counts = Counter(w for ws in author_words.values() for w in ws)
        self.vocab = {w: i for i, (w, _) in enumerate(counts.most_common(mfw))}
        samples = {a: np.array([_rel_freq(c, self.vocab) for c in _chunks(ws, chunk)])
                   for a, ws in author_words.items()}
        stacked = np.vstack(list(samples.values()))
        self.mean, self.std = stacked.mean(axis=0), stacked.std(axis=0) + 1e-12
        self.centroids = {a: ((rows - self.mean) / self.std).mean(axis=0) for a, rows in samples.items()}

    def distances(self, pool: list[str]) -> dict[str, float]:
        """Cosine Delta distance from a pool of texts to each author's corpus (smaller = closer)."""
        target = (_rel_freq(_words(pool), self.vocab) - self.mean) / self.std
        out = {}
        for author, centroid in self.centroids.items():
            denom = np.linalg.norm(target) * np.linalg.norm(centroid)
            out[author] = float(1.0 - target @ centroid / denom) if denom else 1.0
        return out


def cosine_delta(pool: list[str], corpora: dict[str, list[str]], mfw: int = 300, chunk: int = 2500) -> dict[str, float]:
    """Cosine Delta distance from a pool of texts to each author's corpus (smaller = closer): ``DeltaSpace``
    fitted on ``corpora``, for one pool."""
    return DeltaSpace(corpora, mfw, chunk).distances(pool)


def p_target(poem) -> float:
    return poem.proba.get(poem.author, 0.0)


def predicted_author(poem) -> str:
    return max(poem.proba, key=poem.proba.get)


def is_target(poem) -> float:
    return float(predicted_author(poem) == poem.author)


def delta_to_target(group) -> float:
    return group.delta[group.author]


def delta_closest_is_target(group) -> float:
    return float(min(group.delta, key=group.delta.get) == group.author)


def detect_auc(group) -> tuple[float, float, float]:
    """Classifier two-sample test of the group's poems against the author's real held-out poems
    (the reference group: two halves of those poems against each other)."""
    from poetbench.style.detect import halves, two_sample_auc

    if group.features is None or group.real_features is None:
        return float("nan"), float("nan"), float("nan")
    if group.reference:
        a, b, ga, gb = halves(group.real_features, group.seed, group.real_works)
    else:
        a, b, ga, gb = group.features, group.real_features, None, group.real_works
    return two_sample_auc(a, b, seed=group.seed, groups_a=ga, groups_b=gb)
