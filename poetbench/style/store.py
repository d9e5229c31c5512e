"""A saved style judge: the ``StyleModel`` a pipeline and its meta make, and its folder on disk.

``reports/classifier/<key>/`` holds ``model.skops`` (the scikit-learn pipeline, saved without pickle by
skops and loaded only with an explicit list of trusted types, ``TRUSTED_TYPES``), ``meta.json`` (corpus
hashes, authors, feature config, library versions, training time) and, when it was evaluated, its
held-out report (``eval.json``, ``confusion.csv``). A folder is written whole or not at all.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from poetbench.errors import ClassifierError
from poetbench.io import atomic_write_json, atomic_write_text
from poetbench.style.features import FEATURE_CONFIG

MODEL_FILE, META_FILE = "model.skops", "meta.json"
# Types a saved classifier may hold beyond those skops trusts by default (scikit-learn estimators,
# numpy and scipy containers): exactly the ones our own pipeline is made of, by full name, never a
# module prefix. A file holding anything else (a function such as builtins.exec, another class) is
# refused before any of it is loaded.
TRUSTED_TYPES = frozenset({
    "poetbench.style.features.CompactTfidf", "poetbench.style.features.FunctionWords",
    "poetbench.style.features.Lemmatiser", "poetbench.style.features.Normaliser",
    "poetbench.style.features.PartsOfSpeech", "poetbench.style.features.ProsodyFeatures",
    "poetbench.style.openset.OpenSet",
    "poetbench.style.features.OpenSet",  # its name in judges saved before it moved to style.openset
    "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
})


@dataclass
class StyleModel:
    pipeline: object
    meta: dict
    path: Path | None = None

    @property
    def authors(self) -> list[str]:
        return list(self.pipeline.classes_)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.pipeline.predict_proba(list(texts))

    def features(self, texts: list[str]):
        """The stylometric features the classifier decides on (a sparse matrix, one row per text)."""
        return self.pipeline[:-1].transform(list(texts))

    def proba_of_features(self, X) -> np.ndarray:
        return self.pipeline[-1].predict_proba(X)

    def predict(self, texts: list[str]) -> list[str]:
        return list(self.pipeline.predict(list(texts)))


def confusion_csv(report: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    labels = report["confusion"]["labels"]
    w.writerow(["true \\ predicted", *labels])
    for label, row in zip(labels, report["confusion"]["matrix"]):
        w.writerow([label, *row])
    return buf.getvalue()


def save(model: StyleModel, folder: Path, report: dict | None = None) -> Path:
    import skops.io as sio

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    sio.dump(model.pipeline, tmp / MODEL_FILE)
    atomic_write_json(tmp / META_FILE, model.meta)
    if report is not None:
        atomic_write_json(tmp / "eval.json", report)
        atomic_write_text(tmp / "confusion.csv", confusion_csv(report))
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    model.path = folder
    return folder


def load(folder: str | Path, expected_corpora: dict[str, str] | None = None,
         warn: Callable[[str], None] | None = None) -> StyleModel:
    """Load a saved classifier, trusting only scikit-learn/numpy/scipy types and poetbench's own
    transformers. Warns when it was trained on other corpora than ``expected_corpora``."""
    import skops.io as sio

    from poetbench.io import read_bytes, read_json_object

    folder = Path(folder)
    model_file, meta_file = folder / MODEL_FILE, folder / META_FILE
    if not folder.is_dir() or not model_file.exists() or not meta_file.exists():
        raise ClassifierError(f"{folder}: not a saved classifier (needs {MODEL_FILE} and {META_FILE})")
    meta = read_json_object(meta_file, "classifier meta", ClassifierError)
    data = read_bytes(model_file, "classifier model", ClassifierError)
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as e:  # a damaged or foreign file: skops raises many types
        raise ClassifierError(f"cannot be read as a skops file ({type(e).__name__})", model_file) from None
    refused = sorted(t for t in untrusted if t not in TRUSTED_TYPES)
    if refused:
        raise ClassifierError(f"refuses to load untrusted types: {', '.join(refused)} (only poetbench's own "
                              "pipeline types are trusted; see README, 'What is trusted')", model_file)
    try:
        pipeline = sio.loads(data, trusted=sorted(untrusted))
    except Exception as e:  # a file that passed the type check but does not build
        raise ClassifierError(f"cannot be loaded ({type(e).__name__}: {str(e)[:200]})", model_file) from None
    if not hasattr(pipeline, "predict_proba") or not hasattr(pipeline, "classes_"):
        raise ClassifierError("does not hold a fitted classifier", model_file)
    say = warn or (lambda m: warnings.warn(m, stacklevel=2))
    if expected_corpora is not None and meta.get("corpora") != expected_corpora:
        say(f"classifier {folder} was trained on other corpora than the configured ones "
            f"(corpus hashes differ); its figures may not apply")
    features = meta.get("features")
    built = features.get("version") if isinstance(features, dict) else None
    if built != FEATURE_CONFIG["version"]:
        say(f"classifier {folder} was trained with style features version {built}, and this poetbench computes "
            f"version {FEATURE_CONFIG['version']}: its figures may not apply (`poetbench classifier train` "
            "trains one for these features)")
    return StyleModel(pipeline, meta, folder)
