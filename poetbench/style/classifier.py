"""Training, evaluating and using the author-style classifier on the configured corpora.

A trained classifier lives in ``reports/classifier/<key>/`` (its files: ``style.store``). ``key``
hashes the corpora and the feature config, so a classifier is retrained exactly when its inputs
change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from poetbench import corpus as corpus_mod
from poetbench.config import OTHER, RunConfig
from poetbench.corpus.cleaning import SHARED_LINE_LETTERS, sharing_a_line
from poetbench.errors import ClassifierError
from poetbench.style.augment import fit_augmented
from poetbench.style.features import FEATURE_CONFIG, build_pipeline, pooled_proba, slim
from poetbench.style.store import MODEL_FILE, StyleModel, load, save
from poetbench.workspace import Workspace

POOL_SIZE = 10
OTHER_RULE = (f"the poems of {OTHER!r} sharing a line of over {SHARED_LINE_LETTERS} letters with a poet's corpus "
              "are left out")


def classifier_key(corpus_hashes: dict[str, str]) -> str:
    data = {"corpora": dict(sorted(corpus_hashes.items())), "features": FEATURE_CONFIG, "splits": TRAIN_SPLITS}
    if OTHER in corpus_hashes:
        data["other"] = OTHER_RULE
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def evaluate(model: StyleModel, texts: list[str], labels: list[str], pools_per_author: int = 50,
             seed: int = 0) -> dict:
    """Held-out report: accuracy, macro-F1, per-author precision/recall/F1, confusion matrix; and the
    same on pools of ``POOL_SIZE`` poems of one author (probabilities multiplied)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    classes = model.authors
    proba = model.predict_proba(texts)
    pred = [classes[i] for i in proba.argmax(axis=1)]
    p, r, f, support = precision_recall_fscore_support(labels, pred, labels=classes, zero_division=0)
    report = {
        "poems": len(texts),
        "accuracy": float(accuracy_score(labels, pred)),
        "macro_f1": float(f1_score(labels, pred, labels=classes, average="macro", zero_division=0)),
        "per_author": {a: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                           "support": int(support[i])} for i, a in enumerate(classes)},
        "confusion": {"labels": classes, "matrix": confusion_matrix(labels, pred, labels=classes).tolist()},
    }
    poets = [a for a in classes if a != OTHER]
    if OTHER in classes and poets:  # attribution of the poets' own poems ("other" counts as a miss)
        rows = [i for i, y in enumerate(labels) if y != OTHER]
        yt, yp = [labels[i] for i in rows], [pred[i] for i in rows]
        report["poets"] = {"poems": len(rows), "accuracy": float(accuracy_score(yt, yp)) if rows else 0.0,
                           "macro_f1": float(f1_score(yt, yp, labels=poets, average="macro", zero_division=0)),
                           "to_other": sum(p == OTHER for p in yp)}
    pools = pooled_report(proba, labels, classes, pools_per_author, seed)
    if pools:
        report["pooled"] = pools
    return report


def pooled_report(proba: np.ndarray, labels: list[str], classes: list[str], pools_per_author: int = 50,
                  seed: int = 0) -> dict | None:
    """Accuracy and macro-F1 on ``pools_per_author`` random pools of ``POOL_SIZE`` poems of each author
    (their probabilities multiplied), from the poems' ``proba``; None when no author has enough poems.
    ``seed`` draws the pools."""
    from sklearn.metrics import accuracy_score, f1_score

    rng = random.Random(seed)
    pool_true, pool_pred = [], []
    for author in classes:
        idx = [i for i, y in enumerate(labels) if y == author]
        if len(idx) < POOL_SIZE:
            continue
        for _ in range(pools_per_author):
            sample = rng.sample(idx, POOL_SIZE)
            pool_true.append(author)
            pool_pred.append(classes[int(pooled_proba(proba[sample]).argmax())])
    if not pool_true:
        return None
    return {"pool_size": POOL_SIZE, "pools": len(pool_true), "accuracy": float(accuracy_score(pool_true, pool_pred)),
            "macro_f1": float(f1_score(pool_true, pool_pred, average="macro", zero_division=0))}


# --------------------------------------------------------------------------------------------
# Training on the configured corpora
# --------------------------------------------------------------------------------------------


# The classifier learns from every poem that is not held out for testing. The val split exists for
# the adapters' validation loss; the classifier has no use for it as validation (its calibration
# cross-validates inside the train data), and its accuracy is measured on the test split, which
# neither the classifier nor the adapters ever see.
TRAIN_SPLITS = ("train", "val")


def split_records(config: RunConfig, authors: list[str], *splits: str) -> tuple[list[dict], list[str]]:
    """These authors' records in ``splits`` and their labels. The poems of ``other`` that share a
    line with a poet's corpus (any split) are left out: they quote a poet (``OTHER_RULE``)."""
    records, labels = [], []
    for a in authors:
        mine = [r for split in splits for r in corpus_mod.load_records(config.corpus_dir, a, split)]
        if a == OTHER:
            mine = other_records(config, authors, mine)
        records += mine
        labels += [a] * len(mine)
    return records, labels


def split_texts(config: RunConfig, authors: list[str], *splits: str) -> tuple[list[str], list[str], list[str]]:
    """Texts, labels and ids of ``split_records``."""
    records, labels = split_records(config, authors, *splits)
    return [r["text"] for r in records], labels, [r["id"] for r in records]


def other_records(config: RunConfig, authors: list[str], records: list[dict]) -> list[dict]:
    poets = [r["text"] for a in authors if a != OTHER for r in corpus_mod.load_records(config.corpus_dir, a)]
    dropped = sharing_a_line([r["text"] for r in records], poets)
    return [r for i, r in enumerate(records) if i not in dropped]


def corpora_for_classifier(config: RunConfig, log: Callable[[str], None] = print) -> dict[str, dict]:
    """Every author whose texts are available (at least 3 are needed): the seed authors and the
    distractors alike."""
    from poetbench.corpus.build import prepare_corpora

    _, metas = prepare_corpora(config, authors=[], log=log)
    if len(metas) < 3:
        raise ClassifierError(
            f"the style classifier needs at least 3 authors with texts; found {len(metas)}: "
            f"{', '.join(sorted(metas)) or 'none'} (see `poetbench corpus authors`)")
    return metas


@contextlib.contextmanager
def quiet_worker_restarts():
    """Fitting the judge's feature blocks in parallel, without joblib's warning of a restarted worker.

    joblib replaces a pool worker whose memory grew by 300 MB since its first task (here: what the feature
    blocks load and cache, pymorphy3's and the stress dictionary's) and warns of a possible leak; the
    worker leaves after sending its result and a fresh one takes the queued tasks: the model is the same."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given", category=UserWarning)
        yield


def judge_pipeline(**options):
    """``features.build_pipeline(**options)`` with the worker count the judge is trained with."""
    return build_pipeline(n_jobs=min(4, os.cpu_count() or 1), **options)


def fit_judge(texts: list[str], labels: list[str]):
    """The shipped pipeline fitted on ``texts`` and their pieces (``style.augment``), slimmed for saving."""
    with quiet_worker_restarts():
        return slim(fit_augmented(judge_pipeline(), texts, labels))


def train_classifier(config: RunConfig, log: Callable[[str], None] = print, force: bool = False,
                     ws: Workspace | None = None) -> StyleModel:
    """Fit on the train and val splits of all available authors, evaluate on their test splits, save."""
    from poetbench.io import exclusive

    ws = ws or Workspace.from_env()
    metas = corpora_for_classifier(config, log)
    hashes = {a: m["corpus_sha256"] for a, m in metas.items()}
    folder = ws.classifiers / classifier_key(hashes)
    if (folder / MODEL_FILE).exists() and not force:
        return load(folder, hashes)  # (a folder of judges may be read-only)
    # one process trains a judge at a time: another one (two evals started at once) waits, then loads it;
    # the fit's scans read the workspace's stress dictionaries
    with exclusive(folder.parent, ClassifierError, wait=log, name=f".{folder.name}.lock"), ws.exported():
        if (folder / MODEL_FILE).exists() and not force:
            return load(folder, hashes)
        return _train_and_save(config, metas, hashes, folder, log)


def _train_and_save(config: RunConfig, metas: dict, hashes: dict, folder: Path, log: Callable[[str], None]
                    ) -> StyleModel:
    from poetbench.runtime import versions

    authors = sorted(metas)
    texts, labels, train_ids = split_texts(config, authors, *TRAIN_SPLITS)
    log(f"training the style classifier on {len(texts)} poems of {', '.join(authors)}")
    t0 = time.time()
    pipeline = fit_judge(texts, labels)
    train_s = round(time.time() - t0, 1)
    model = StyleModel(pipeline, {
        "format": "poetbench-style-classifier/1", "authors": authors, "corpora": hashes,
        "features": FEATURE_CONFIG, "train_splits": list(TRAIN_SPLITS), "train_poems": len(texts),
        "train_poems_per_class": {a: labels.count(a) for a in authors},
        "other": {"rule": OTHER_RULE, "left_out": _left_out(config, authors)} if OTHER in authors else None,
        "train_ids_sha256": hashlib.sha256("\n".join(sorted(train_ids)).encode()).hexdigest(),
        "train_seconds": train_s,
        "versions": versions() | {"scikit-learn": __import__("sklearn").__version__,
                                  "skops": __import__("skops").__version__},
    })
    test_texts, test_labels, test_ids = split_texts(config, authors, "test")
    assert not set(test_ids) & set(train_ids)  # held out: never seen in training
    report = evaluate(model, test_texts, test_labels)
    report["split"] = "test"
    save(model, folder, report)
    log(f"style classifier saved to {folder} ({train_s} s; held-out macro-F1 {report['macro_f1']:.3f})")
    return model


def _left_out(config: RunConfig, authors: list[str]) -> int:
    records = corpus_mod.load_records(config.corpus_dir, OTHER)
    return len(records) - len(other_records(config, authors, records))


def ensure_classifier(config: RunConfig, log: Callable[[str], None] = print, ws: Workspace | None = None
                      ) -> StyleModel:
    """The classifier for the configured corpora, trained first when none matches their hashes."""
    return train_classifier(config, log=log, force=False, ws=ws)


def judge_record(model: StyleModel) -> dict:
    """What a run records of the judge that scored it: enough to find it again (``key``) and to say
    what it is (classes, the corpora's hashes, features, the ``other`` class's rule)."""
    meta = model.meta
    return {"path": str(model.path) if model.path else None, "key": model.path.name if model.path else None,
            "authors": model.authors, "classes": model.authors, "corpora": meta.get("corpora"),
            "features": meta.get("features"), "other": meta.get("other"), "train_poems": meta.get("train_poems"),
            "evaluation": evaluation_of(model)}


def judge_folder(classifiers: Path, key_or_path: str) -> Path:
    """A judge given as a key (a folder under ``classifiers``) or as a folder path."""
    path = Path(key_or_path)
    if (path / MODEL_FILE).exists() or os.sep in key_or_path:
        return path
    folder = classifiers / key_or_path
    if not (folder / MODEL_FILE).exists():
        known = sorted(p.name for p in classifiers.iterdir() if (p / MODEL_FILE).exists()) if classifiers.is_dir() else []
        raise ClassifierError(f"no judge {key_or_path!r} under {classifiers} (saved judges: {', '.join(known) or 'none'}); "
                              "give a key listed there or a classifier folder")
    return folder


def evaluation_of(model: StyleModel) -> dict:
    from poetbench.io import read_json_object

    path = (model.path or Path(".")) / "eval.json"
    return read_json_object(path, "classifier evaluation", ClassifierError) if path.exists() else {}


def predict_records(model: StyleModel, records: list[dict]) -> list[dict]:
    """One row per record with a ``text``: ``id`` (when present), predicted ``author`` and ``proba``."""
    texts = []
    for rec in records:
        text = rec.get("text")
        texts.append(text if isinstance(text, str) else "")
    proba = model.predict_proba(texts) if texts else np.zeros((0, len(model.authors)))
    rows = []
    for rec, p in zip(records, proba):
        row = {"id": rec["id"]} if "id" in rec else {}
        row["author"] = model.authors[int(np.argmax(p))]
        row["proba"] = {a: round(float(x), 6) for a, x in zip(model.authors, p)}
        rows.append(row)
    return rows


def model_for(config: RunConfig, model_dir: Path | None, log: Callable[[str], None] = print,
              warn: Callable[[str], None] | None = None, ws: Workspace | None = None) -> StyleModel:
    """A saved classifier folder (warning when it was trained on other corpora), else the one for
    the configured corpora, trained first when missing."""
    if model_dir is None:
        return ensure_classifier(config, log=log, ws=ws)
    metas = corpora_for_classifier(config, log=log)
    return load(model_dir, {a: m["corpus_sha256"] for a, m in metas.items()}, warn=warn)


def held_out_report(config: RunConfig, model: StyleModel, log: Callable[[str], None] = print) -> dict:
    """``evaluate`` on the configured corpora's test splits, which must be held out from ``model``."""
    current = {a: m["corpus_sha256"] for a, m in corpora_for_classifier(config, log=log).items()}
    if model.meta.get("corpora") != current:
        raise ClassifierError(f"{model.path} was trained on other corpora than the configured ones, so their "
                              "test splits are not held out from it; evaluate it on its own corpora or retrain "
                              "(`poetbench classifier train`)")
    texts, labels, _ = split_texts(config, model.authors, "test")
    return evaluate(model, texts, labels)
