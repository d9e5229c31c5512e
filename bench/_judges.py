"""The other kinds of style judge bench/classifier_models.py tries (its docstring says why): added
feature blocks (word forms; text distortion), classifiers that replace the judge's own (one-vs-one,
Crammer-Singer, logistic regression, a model per feature block, each poet as sub-classes), and character Markov chains (alone,
and mixed into the judge's probabilities: ``MARKOV_MIX``); and a fold's feature blocks, fitted once
and shared by the candidates (``fold_features``)."""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone

from classifier_choices import held_out_views

SHIPPED = "shipped"  # the judge as trained
SUB_CLASSES = (2, 3)  # k of SubClasses: written down before the first run of that candidate (2026-12-06)
_WORD = re.compile(r"\w+")


class Distortion(BaseEstimator, TransformerMixin):
    """Text distortion (Stamatatos 2017, DV-MA): each word outside the ``keep`` most frequent words of
    the fitted texts becomes one ``*`` per letter, then char n-gram tf-idf."""

    def __init__(self, keep: int = 300):
        self.keep = keep

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Fitted and applied in one pass (the texts distorted once, their n-grams counted once)."""
        from poetbench.style.features import CompactTfidf

        counts = Counter(w.lower() for t in X for w in _WORD.findall(t))
        self.kept_ = {w for w, _ in counts.most_common(self.keep)}
        self.tfidf_ = CompactTfidf(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2, dtype=np.float32)
        return self.tfidf_.fit_transform(self._distort(X))

    def transform(self, X):
        return self.tfidf_.transform(self._distort(X))

    def _distort(self, X):
        return [_WORD.sub(lambda m: m.group(0) if m.group(0).lower() in self.kept_ else "*" * len(m.group(0)), t)
                for t in X]


class PerBlock(BaseEstimator, ClassifierMixin):
    """One ``estimator`` per group of feature columns (``parts``: (list of (start, stop) slices, factor),
    the factor undoing the group's weight in the judge, so each model sees its block at full scale); their
    probabilities averaged (``meta="mean"``) or stacked by a balanced logistic regression on their
    3-fold cross-validated probabilities (``"stack"``; folds of whole groups, as the judge's own)."""

    def __init__(self, estimator=None, parts=(), meta: str = "mean"):
        self.estimator = estimator
        self.parts = parts
        self.meta = meta

    def _columns(self, X, part):
        slices, factor = part
        return sparse.hstack([X[:, a:b] for a, b in slices]).tocsr() * factor

    def fit(self, X, y, groups=None):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedGroupKFold

        from poetbench.style.openset import OpenSet

        y = np.asarray(y)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        cols = [self._columns(X, p) for p in self.parts]
        self.models_ = [OpenSet(clone(self.estimator)).fit(c, y, groups=groups) for c in cols]
        self.classes_ = self.models_[0].classes_
        if self.meta == "stack":
            n = len(self.classes_)
            oof = np.zeros((len(y), len(cols) * n))
            for train, test in StratifiedGroupKFold(3, shuffle=True, random_state=0).split(X, y, groups):
                for k, c in enumerate(cols):
                    m = OpenSet(clone(self.estimator)).fit(c[train], y[train], groups=groups[train])
                    oof[np.ix_(test, range(k * n, (k + 1) * n))] = m.predict_proba(c[test])
            self.stack_ = LogisticRegression(class_weight="balanced", max_iter=2000).fit(np.log(np.clip(oof, 1e-9, 1)), y)
        return self

    def predict_proba(self, X):
        probas = [m.predict_proba(self._columns(X, p)) for m, p in zip(self.models_, self.parts)]
        if self.meta == "stack":
            return self.stack_.predict_proba(np.log(np.clip(np.hstack(probas), 1e-9, 1)))
        return np.mean(probas, axis=0)


class SubClasses(BaseEstimator, ClassifierMixin):
    """A poet as several linear boundaries: each poet's whole training poems are split by k-means into
    ``k`` sub-classes (on their L2-normalised feature rows, projected to 50 dimensions by a truncated
    SVD, normalised again: spherical k-means; seeded), a piece (``style.augment``) following its poem;
    ``estimator`` (the shipped ``OpenSet``) learns the sub-classes, and a poet's probability is the sum
    of its sub-classes'. A poet whose smallest cluster has fewer than ``min_size`` poems stays whole.
    Why: Lermontov's errors sit in his juvenilia (1828-1829), which read like Pushkin, while his later
    verse does not; one boundary per poet must place both sides of him at once."""

    def __init__(self, estimator=None, k: int = 2, min_size: int = 10):
        self.estimator = estimator
        self.k = k
        self.min_size = min_size

    def fit(self, X, y, groups=None):
        from sklearn.cluster import KMeans
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import normalize

        y = np.asarray(y, dtype=object)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        _, first = np.unique(groups, return_index=True)  # each poem's own row (its pieces follow it)
        sub = y.copy()
        self.split_ = {}
        for poet in np.unique(y):
            rows = first[y[first] == poet]
            if len(rows) < self.k * self.min_size:
                continue
            low = normalize(TruncatedSVD(50, random_state=0).fit_transform(normalize(X[rows])))
            cut = KMeans(self.k, n_init=10, random_state=0).fit_predict(low)
            sizes = np.bincount(cut, minlength=self.k)
            if sizes.min() < self.min_size:
                continue
            self.split_[poet] = sizes.tolist()
            cluster_of = dict(zip(groups[rows], cut))
            mine = np.flatnonzero(y == poet)
            sub[mine] = [f"{poet}#{cluster_of[g]}" for g in groups[mine]]
        self.model_ = clone(self.estimator).fit(X, sub, groups=groups)
        self.classes_ = np.unique(y)
        parent = np.array([str(c).split("#")[0] for c in self.model_.classes_], dtype=object)
        self.merge_ = (parent[:, None] == self.classes_[None, :]).astype(float)
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X) @ self.merge_


class CharMarkov:
    """Each poet's letters as a Markov chain (Khmelev 2000, on Russian prose): character n-grams up to
    ``order`` of the normalised, lower-cased texts, interpolated absolute discounting (``discount``). A
    text's score under a poet is its mean log-probability per character, less the mean over the poets."""

    def __init__(self, order: int = 5, discount: float = 0.75):
        self.order, self.discount = order, discount

    def _prepared(self, texts) -> list[str]:
        from poetbench.style.features import Normaliser

        return ["\x02" * (self.order - 1) + t.lower() + "\x03" for t in Normaliser().transform(texts)]

    def fit(self, texts, y) -> "CharMarkov":
        y, prepared = np.asarray(y), self._prepared(texts)
        self.poets_ = sorted(set(y))
        self.chains_ = [self._chain([t for t, label in zip(prepared, y) if label == p]) for p in self.poets_]
        return self

    def _chain(self, texts) -> tuple:
        n = self.order
        grams = [Counter() for _ in range(n + 1)]  # grams[k]: n-grams of k characters
        for t in texts:
            for k in range(1, n + 1):
                grams[k].update(t[i:i + k] for i in range(n - k, len(t) - k + 1))
        totals, kinds = [Counter() for _ in range(n)], [Counter() for _ in range(n)]
        for k in range(1, n + 1):
            for g, c in grams[k].items():
                totals[k - 1][g[:-1]] += c
                kinds[k - 1][g[:-1]] += 1
        return grams, totals, kinds, 1.0 / (len(grams[1]) + 50)  # the last: an unseen character's floor

    def scores(self, texts) -> np.ndarray:
        prepared = self._prepared(texts)
        out = np.array([[self._logprob(t, chain) for chain in self.chains_] for t in prepared])
        return out - out.mean(axis=1, keepdims=True)

    def _logprob(self, t: str, chain) -> float:
        grams, totals, kinds, floor = chain
        n, d, total = self.order, self.discount, 0.0
        for i in range(n - 1, len(t)):
            p = floor
            for k in range(1, n + 1):
                h = t[i - k + 1:i]
                seen = totals[k - 1].get(h)
                if not seen:
                    break
                p = (max(grams[k].get(h + t[i], 0) - d, 0) + d * kinds[k - 1][h] * p) / seen
            total += np.log(p)
        return total / (len(t) - n + 1)


MARKOV_MIX = "shipped × char Markov chains^{}"  # the shipped judge's log-probability + w times the chains'


def markov_weight(name: str) -> float | None:
    """``w`` of a ``MARKOV_MIX`` candidate's name; None for any other name."""
    head = MARKOV_MIX.format("")
    return float(name[len(head):]) if name.startswith(head) else None


def markov_log_proba(data, train, test) -> list[np.ndarray]:
    """The fold's held-out views' log-probabilities over the poets from ``CharMarkov`` on the training
    poems: a balanced logistic regression on their scores, fitted on the training poems' scores
    cross-fitted over 5 folds of whole works (a chain never scores a poem it has read)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    texts, y = [data.texts[i] for i in train], data.y[train]
    inner = np.zeros((len(train), len(data.poets)))
    for fit, held in StratifiedGroupKFold(5, shuffle=True, random_state=0).split(texts, y, data.groups[train]):
        inner[held] = CharMarkov().fit([texts[i] for i in fit], y[fit]).scores([texts[i] for i in held])
    calibrate = LogisticRegression(class_weight="balanced", max_iter=2000).fit(inner, y)
    chains = CharMarkov().fit(texts, y)
    assert list(calibrate.classes_) == chains.poets_ == list(data.poets)
    return [calibrate.predict_log_proba(chains.scores(v)) for v in held_out_views(data, test)]


def markov_mix(probas: list[np.ndarray], markov: list[np.ndarray], w: float) -> list[np.ndarray]:
    """Each view's log-probabilities of the judge (``probas``) plus ``w`` times the chains' (``markov``)."""
    return [np.log(np.clip(p, 1e-12, 1)) + w * m for p, m in zip(probas, markov)]


def extra_blocks() -> dict:
    from poetbench.style.features import CompactTfidf

    return {"word forms": ("words", CompactTfidf(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                                 token_pattern=r"(?u)\b\w+\b", dtype=np.float32), 1.0),
            "text distortion": ("distortion", Distortion(), 1.0)}


def classifiers(judge, spans: dict, dense_weight: float) -> dict:
    """Candidates that replace the judge's classifier (``judge``: the shipped ``OpenSet``), by name."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsOneClassifier

    svm = judge.estimator.estimator
    blocks = [([spans["chars"]], 1.0), ([spans["char_spans"]], 1.0), ([spans["lemmas"]], 1.0),
              ([spans["function_words"], spans["prosody"]], 1 / dense_weight)]
    return {SHIPPED: clone(judge),
            "one-vs-one LinearSVC": clone(judge).set_params(estimator__estimator=OneVsOneClassifier(clone(svm))),
            "Crammer-Singer LinearSVC": clone(judge).set_params(estimator__estimator__multi_class="crammer_singer"),
            "logistic regression (C=10)": clone(judge).set_params(
                estimator=LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)),
            "per-block models, averaged": PerBlock(judge.estimator, blocks, "mean"),
            "per-block models, stacked": PerBlock(judge.estimator, blocks, "stack"),
            **{f"sub-classes, k={k}": SubClasses(clone(judge), k) for k in SUB_CLASSES}}


def block_spans(widths: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each feature block's columns (start, end) in the stacked matrix, from the blocks' widths in order."""
    starts = np.cumsum([0, *widths.values()])
    return {n: (int(a), int(b)) for n, a, b in zip(widths, starts[:-1], starts[1:])}


def fold_features(pipeline, data, train, test, extra: bool = True) -> tuple[dict, np.ndarray, np.ndarray, list[int]]:
    """The fold's blocks, each fitted on the training poems and their pieces: name -> (training rows,
    [held-out views]) weighted as in the judge; the training labels and groups; the views' sizes.
    ``extra``: the candidate blocks (``extra_blocks``) too."""
    from joblib import Parallel, delayed

    from poetbench.style.augment import augmented

    X, y, groups = augmented([data.texts[i] for i in train], data.y[train])
    norm = pipeline.named_steps["normalise"]
    union = pipeline.named_steps["features"]
    Xn, views = norm.transform(X), [norm.transform(v) for v in held_out_views(data, test)]
    specs = [(n, t, (union.transformer_weights or {}).get(n, 1.0)) for n, t in union.transformer_list]
    specs += list(extra_blocks().values()) if extra else []
    done = Parallel(n_jobs=min(2, os.cpu_count() or 1))(delayed(_fit_block)(t, w, Xn, views) for _, t, w in specs)
    return {n: d for (n, _, _), d in zip(specs, done)}, y, groups, [len(v) for v in views]


def fit_predict(model, blocks: dict, used: list[str], y, groups, views: int) -> list[np.ndarray]:
    """``model`` fitted on the training rows of the ``used`` blocks (``fold_features``' ``blocks``), and its
    class probabilities on each of the fold's ``views`` held-out views."""
    model.fit(sparse.hstack([blocks[n][0] for n in used]).tocsr(), y, groups=groups)
    return [model.predict_proba(sparse.hstack([blocks[n][1][v] for n in used]).tocsr()) for v in range(views)]


def _fit_block(transformer, weight, X, views):
    t = clone(transformer)
    return (sparse.csr_matrix(t.fit_transform(X)) * weight, [sparse.csr_matrix(t.transform(v)) * weight for v in views])
