"""Style classifier on the shared corpora: training time and held-out figures.

    .venv/bin/python bench/classifier.py

Trains from scratch (into a temporary folder) on the train and val splits of every author with
texts, evaluates on the held-out test splits, prints a table and updates bench/RESULTS.md and
bench/results.json.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def closed_set(config, authors: list[str]):
    """The same pipeline without the ``other`` class, fitted on the same poets' poems: what the open-set
    judge's attribution of real poems is compared with."""
    from poetbench.style.classifier import StyleModel, TRAIN_SPLITS, split_texts
    from poetbench.style.features import build_pipeline, slim

    texts, labels, _ = split_texts(config, authors, *TRAIN_SPLITS)
    return StyleModel(slim(build_pipeline(n_jobs=min(4, os.cpu_count() or 1)).fit(texts, labels)), {})


def attribution(model, config, poets: list[str]) -> float:
    """Share of the poets' held-out poems attributed to their own poet."""
    from poetbench.style.classifier import split_texts

    texts, labels, _ = split_texts(config, poets, "test")
    return sum(p == y for p, y in zip(model.predict(texts), labels)) / len(labels)


def main() -> None:
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["POETBENCH_CLASSIFIER_DIR"] = tmp
        from poetbench.config import OTHER, preset
        from poetbench.style.classifier import evaluation_of, train_classifier

        config = preset("tiny")
        model = train_classifier(config, log=print, force=True)
        report = evaluation_of(model)
        size_mb = sum(f.stat().st_size for f in Path(model.path).iterdir()) / 1e6
        poets = [a for a in model.authors if a != OTHER]
        open_attr = attribution(model, config, poets)
        closed_attr = attribution(closed_set(config, poets), config, poets) if OTHER in model.authors else open_attr
    per = report["per_author"]
    other = model.meta.get("other") or {}
    rows = [
        ["training time (features + calibrated SVM)", f"{model.meta['train_seconds']:.1f} s", "< 30 s"],
        ["trained on", f"{' + '.join(model.meta['train_splits'])} splits ({model.meta['train_poems']} poems)", ""],
        ["held-out poems (test splits)", report["poems"], ""],
        ["poem-level accuracy", f"{report['accuracy']:.3f}", ""],
        ["poem-level macro-F1", f"{report['macro_f1']:.3f}", "≥ 0.90"],
        ["pools of 10 poems: macro-F1", f"{report['pooled']['macro_f1']:.3f}", "≥ 0.98"],
        ["saved model size", f"{size_mb:.1f} MB", ""],
        ["`other` poems left out (share a line of 20+ letters with a poet)", other.get("left_out", "—"), ""],
        ["poets' held-out poems attributed to their poet: closed-set (no `other`)", f"{closed_attr:.3f}", ""],
        ["... open-set (with `other`)", f"{open_attr:.3f}", "≥ closed-set − 0.01"],
    ] + [[f"{a}: precision / recall (n)", f"{m['precision']:.3f} / {m['recall']:.3f} ({m['support']})",
          "recall ≥ 0.90 for seed authors" if a in ("pushkin", "lermontov") else ""] for a, m in per.items()]
    md = markdown_table(["measure", "value", "target"], rows)
    print(md)
    authors = ", ".join(model.authors)
    update_section("classifier", f"## Style classifier on the shared corpora ({authors})\n\n"
                   "Trained on the train + val splits, every figure on the held-out test splits (read once, not used "
                   "for any choice). `other` is Rifma's dev split (Russian verse by none of the poets).\n\n" + md)
    update_json({"classifier_train_s": model.meta["train_seconds"], "classifier_macro_f1": round(report["macro_f1"], 4),
                 "classifier_attribution_open": round(open_attr, 4), "classifier_attribution_closed": round(closed_attr, 4)})


if __name__ == "__main__":
    main()
