"""Author attribution with an open-set class: the closed-set model over the poets and a poet-vs-``other``
model whose odds are scaled so that few of the poets' own poems are called ``other`` (``OpenSet``),
with the cross-validation folds that keep a poem and its pieces together (``style.augment``).
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

OTHER_LABEL = "other"  # (poetbench.config.OTHER; the style engine stays free of poetbench's config)
MAX_FALSE_OTHER = 0.005


def other_weight(q: np.ndarray, best_poet: np.ndarray, max_false_other: float) -> float:
    """The factor (at most 1) on the odds of ``other`` under which at most ``max_false_other`` of the
    poets' poems have ``other`` as their most probable class: ``q`` their P(other) from the poet-vs-
    other model, ``best_poet`` the closed-set model's probability of their most probable poet."""
    if not len(q):
        return 1.0
    q = np.clip(q, 1e-12, 1 - 1e-12)
    flip_at = best_poet * (1 - q) / q  # other wins once the odds' weight exceeds this
    return float(min(1.0, np.quantile(flip_at, max_false_other)))


def _fit_part(estimator, X, y, fold, groups=None, weights=None):
    """A clone of ``estimator`` fitted on (X, y), or with ``fold`` (train, test): the test rows and their
    probabilities from a clone fitted on the train rows (one fold of ``cross_val_predict``). With
    ``groups`` (rows cut from one poem share one), the clone's own calibration folds keep groups whole;
    ``weights``: each row's sample weight (None: 1)."""
    from joblib import parallel_config

    with parallel_config(backend="sequential"):  # inside a pool's worker: no pool of its own
        if fold is None:
            return _grouped(clone(estimator), X, y, groups, weights)
        train, test = fold
        model = _grouped(clone(estimator), X[train], y[train], None if groups is None else groups[train],
                         None if weights is None else weights[train])
        return test, model.predict_proba(X[test])


def _fit_decisions(calibrated, X, y, fold, weights=None):
    """One calibration fold of a sigmoid-calibrated model: the test rows and the decision values of its
    classifier fitted on the train rows (what its calibration is fitted on)."""
    from joblib import parallel_config

    with parallel_config(backend="sequential"):
        train, test = fold
        model = clone(calibrated.estimator).fit(X[train], y[train], **_weighted(weights, train))
        return test, model.decision_function(X[test])


def _weighted(weights, rows=None) -> dict:
    """``fit``'s keyword for the sample weights of ``rows`` (all rows: None); none without weights."""
    if weights is None:
        return {}
    return {"sample_weight": weights if rows is None else weights[rows]}


def poem_weights(groups, power: float):
    """Each row's sample weight when rows cut from one poem share a group: the group's row count to the
    power ``-power`` (1: each poem and its pieces weigh as one row together; 0: every row weighs 1, None
    is returned), scaled to a mean of 1 so the SVM's ``C`` keeps its meaning."""
    if groups is None or not power:
        return None
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    w = counts[inverse].astype(float) ** -power
    return w * (len(w) / w.sum())


def calibration_folds(model, X, y, groups=None) -> list | None:
    """The folds a calibrated ``model`` (``cv`` a fold count) calibrates on: whole groups when given
    (``_grouped``), else scikit-learn's own stratified folds; None for any other model."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    folds = model.get_params().get("cv")
    if not isinstance(folds, int):
        return None
    if groups is None:
        return list(StratifiedKFold(folds).split(X, y))
    return list(StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(X, y, groups))


def _grouped(model, X, y, groups, weights=None):
    """``model`` fitted (with ``weights``, each row's sample weight); with ``groups``, a calibrated
    model's ``cv`` folds are made of whole groups (its ``cv`` is the fold count again after: the folds'
    indices are not kept in the saved model)."""
    folds = model.get_params().get("cv")
    if groups is None or not isinstance(folds, int):
        return model.fit(X, y, **_weighted(weights))
    model.set_params(cv=calibration_folds(model, X, y, groups))
    return model.fit(X, y, **_weighted(weights)).set_params(cv=folds)


def assemble_calibrated(calibrated, classifier, decisions: np.ndarray, y, weights=None):
    """``calibrated`` (a ``CalibratedClassifierCV(ensemble=False)``) fitted from its parts, as its own
    ``fit`` makes it: ``classifier`` fitted on all rows, ``decisions`` its cross-validated decision
    values on them (one column per class, or one in all for two classes), ``weights`` the rows' sample
    weights. So the calibration folds whose decisions the open-set weight needs are fitted once, not
    again inside the model's ``fit``."""
    from inspect import signature

    from sklearn.calibration import _fit_calibrator
    from sklearn.preprocessing import LabelEncoder

    model = clone(calibrated)
    model.classes_ = LabelEncoder().fit(y).classes_
    decisions = decisions.reshape(len(decisions), -1)
    extra = {"xp": np} if "xp" in signature(_fit_calibrator).parameters else {}  # scikit-learn >= 1.8
    model.calibrated_classifiers_ = [_fit_calibrator(classifier, decisions, y, model.classes_, model.method,
                                                     sample_weight=weights, **extra)]
    model.n_features_in_ = classifier.n_features_in_
    return model


class _GivenDecisions(ClassifierMixin, BaseEstimator):
    """Stands in for a fitted classifier whose decision values are the rows it is given."""

    def decision_function(self, decisions):
        return decisions


def calibrated_proba(model, decisions: np.ndarray) -> np.ndarray:
    """What a fitted ``CalibratedClassifierCV(ensemble=False)`` makes of its classifier's ``decisions``:
    its calibrators applied and normalised as in its ``predict_proba``."""
    pair = copy.copy(model.calibrated_classifiers_[0])
    pair.estimator = _GivenDecisions()
    pair.estimator.classes_ = model.classes_
    return pair.predict_proba(decisions)


def _calibrated_once(estimator) -> bool:
    """A sigmoid-calibrated classifier calibrated once on cross-validated decisions (the shipped judge's):
    its own calibration folds give the poets' cross-validated probabilities at no extra fits. Only where
    ``assemble_calibrated`` can be used: a scikit-learn without its private ``_fit_calibrator`` fits
    such a model as any other (slower; the same kind of model)."""
    from sklearn.calibration import CalibratedClassifierCV

    return (isinstance(estimator, CalibratedClassifierCV) and estimator.ensemble is False
            and estimator.method == "sigmoid" and isinstance(estimator.cv, int)
            and hasattr(estimator.estimator, "decision_function") and _can_assemble())


def _can_assemble() -> bool:
    try:
        from sklearn.calibration import _fit_calibrator  # noqa: F401  (what assemble_calibrated calls)
    except ImportError:
        return False
    return True


class OpenSet(BaseEstimator, ClassifierMixin):
    """Author attribution with an open-set class (verse by none of the poets), in two parts: the
    closed-set classifier over the poets, and a poet-vs-``other`` classifier whose odds are scaled
    down just enough that, in cross-validation on the training poems, at most ``max_false_other`` of
    the poets' poems are sent to ``other``. P(other) = s; P(poet) = (1 - s) x P(poet | a poet). So the
    poets' real poems are attributed as without the class, and a poem is "other" only when it is
    clearly unlike every poet. Without the class in the labels it is the estimator itself.
    ``poem_weight``: the closed-set model's rows weighted by ``poem_weights`` (0: every row alike)."""

    def __init__(self, estimator=None, other: str = OTHER_LABEL, max_false_other: float = MAX_FALSE_OTHER,
                 folds: int = 3, n_jobs: int | None = None, poem_weight: float = 0.0):
        self.estimator = estimator
        self.other = other
        self.max_false_other = max_false_other
        self.folds = folds
        self.n_jobs = n_jobs
        self.poem_weight = poem_weight

    def __setstate__(self, state):
        """A judge saved before ``poem_weight`` existed weighs every row alike: its default."""
        super().__setstate__({"poem_weight": 0.0, **state})

    def fit(self, X, y, groups=None):
        """``groups``: rows cut from one poem share a group (``augment``), the poem first, then its pieces;
        every fold keeps groups whole. The pieces teach the closed-set model only: the poet-vs-``other``
        model and its odds' weight learn from whole poems, as the ``other`` class is whole poems."""
        from joblib import Parallel, delayed
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        y = np.asarray(y)
        groups = None if groups is None else np.asarray(groups)
        is_other = y == self.other
        self.weight_ = 1.0
        if not is_other.any():
            self.closed_ = _grouped(clone(self.estimator), X, y, groups, poem_weights(groups, self.poem_weight))
            self.binary_ = None
            self.classes_ = self.closed_.classes_
            return self
        poets = np.flatnonzero(~is_other)
        Xp, yp, gp = X[poets], y[poets], None if groups is None else groups[poets]
        wp = poem_weights(gp, self.poem_weight)
        by_poem = StratifiedKFold(self.folds, shuffle=True, random_state=0)
        cv = by_poem if groups is None else StratifiedGroupKFold(self.folds, shuffle=True, random_state=0)
        whole = np.ones(len(y), dtype=bool)  # the poems themselves, not their pieces (each group's first row)
        if groups is not None:
            whole[:] = False
            whole[np.unique(groups, return_index=True)[1]] = True
        Xw, ow = (X, is_other) if whole.all() else (X[whole], is_other[whole])
        # The poets' cross-validated probabilities: a model calibrated once on cross-validated decisions
        # has them from its own calibration folds (their decisions, its calibrators); any other model is
        # fitted again on each of ``folds`` folds. The two models and these fits are independent: one pool
        # runs them all (each fit's own calibration folds then run in turn inside it).
        # Such a model is assembled from those same fits (``assemble_calibrated``), its classifier fitted
        # once more on all rows, rather than fitted whole, which would fit its calibration folds again.
        own = calibration_folds(self.estimator, Xp, yp, gp) if _calibrated_once(self.estimator) else None
        closed_parts = ([delayed(_fit_decisions)(self.estimator, Xp, yp, f, wp) for f in own] if own else
                        [delayed(_fit_part)(self.estimator, Xp, yp, f, gp, wp) for f in cv.split(Xp, yp, gp)])
        closed = (delayed(_fit_part)(self.estimator.estimator, Xp, yp, None, None, wp) if own else  # its bare classifier
                  delayed(_fit_part)(self.estimator, Xp, yp, None, gp, wp))
        tasks = [closed, *closed_parts,  # the costlier first
                 delayed(_fit_part)(self.estimator, Xw, ow, None),
                 *(delayed(_fit_part)(self.estimator, Xw, ow, f) for f in by_poem.split(Xw, ow))]
        done = Parallel(n_jobs=self.n_jobs)(tasks)
        k = len(closed_parts)
        self.closed_, self.binary_ = done[0], done[1 + k]
        held = np.empty((len(yp), *done[1][1].shape[1:]))  # each poet's row from the fold that held it out
        for test, out in done[1:1 + k]:
            held[test] = out
        if own:  # decisions: the calibration is fitted on them, and the probabilities are its reading of them
            self.closed_ = assemble_calibrated(self.estimator, self.closed_, held, yp, wp)
            held = calibrated_proba(self.closed_, held)
        best = held.max(axis=1)
        self.classes_ = np.array(sorted([*self.closed_.classes_, self.other]), dtype=object)
        q = np.empty(len(ow))
        for test, proba in done[2 + k:]:
            q[test] = proba[:, 1]
        self.weight_ = other_weight(q[~ow], best[whole[poets]], self.max_false_other)
        return self

    def predict_proba(self, X) -> np.ndarray:
        closed = self.closed_.predict_proba(X)
        if self.binary_ is None:
            return closed
        q = self.binary_.predict_proba(X)[:, list(self.binary_.classes_).index(True)]
        odds = self.weight_ * q / np.clip(1 - q, 1e-12, None)
        s = odds / (1 + odds)
        out = np.empty((closed.shape[0], len(self.classes_)))
        index = {c: i for i, c in enumerate(self.classes_)}
        for j, c in enumerate(self.closed_.classes_):
            out[:, index[c]] = (1 - s) * closed[:, j]
        out[:, index[self.other]] = s
        return out

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
