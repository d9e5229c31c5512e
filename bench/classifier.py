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


def main() -> None:
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["POETBENCH_CLASSIFIER_DIR"] = tmp
        from poetbench.style.classifier import evaluation_of, train_classifier
        from poetbench.config import preset

        model = train_classifier(preset("tiny"), log=print, force=True)
        report = evaluation_of(model)
        size_mb = sum(f.stat().st_size for f in Path(model.path).iterdir()) / 1e6
    per = report["per_author"]
    rows = [
        ["training time (features + calibrated SVM)", f"{model.meta['train_seconds']:.1f} s", "< 30 s"],
        ["trained on", f"{' + '.join(model.meta['train_splits'])} splits ({model.meta['train_poems']} poems)", ""],
        ["held-out poems (test splits)", report["poems"], ""],
        ["poem-level accuracy", f"{report['accuracy']:.3f}", ""],
        ["poem-level macro-F1", f"{report['macro_f1']:.3f}", "≥ 0.90"],
        ["pools of 10 poems: macro-F1", f"{report['pooled']['macro_f1']:.3f}", "≥ 0.98"],
        ["saved model size", f"{size_mb:.1f} MB", ""],
    ] + [[f"recall {a}", f"{m['recall']:.3f}", "≥ 0.90 for seed authors" if a in ("pushkin", "lermontov") else ""]
         for a, m in per.items()]
    md = markdown_table(["measure", "value", "target"], rows)
    print(md)
    authors = ", ".join(model.authors)
    update_section("classifier", f"## Style classifier on the shared corpora ({authors})\n\n" + md)
    update_json({"classifier_train_s": model.meta["train_seconds"], "classifier_macro_f1": round(report["macro_f1"], 4)})


if __name__ == "__main__":
    main()
