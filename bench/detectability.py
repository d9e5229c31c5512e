"""Sanity figures of ``detect_auc`` (the classifier two-sample test) on the shared corpora.

    .venv/bin/python bench/detectability.py [RUN_DIR]

With the judge for the configured corpora (trained first when missing), for each poet with a test
split: real against real (two random halves of the poet's held-out poems, 20 splits: mean and sd;
expected 0.5 +- 0.1), another poet's held-out poems against this poet's (expected high), and, when
an eval run of the tiny preset is given (default: the newest under reports/ with a summary), the
tiny base's poems against the real ones as that run's summary reports them (expected >= 0.9).
Nothing here is used to choose anything (C and the grouping were chosen on the train splits: see
poetbench/style/detect.py). Prints a table and updates bench/RESULTS.md and
bench/results.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPLITS = 20


def newest_run() -> Path | None:
    runs = [p.parent for p in (ROOT / "reports").glob("*/summary.json")]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def main() -> None:
    os.chdir(ROOT)
    from poetbench import corpus as C
    from poetbench.config import OTHER, preset
    from poetbench.style.classifier import ensure_classifier
    from poetbench.style.detect import halves, two_sample_auc

    config = preset("tiny")
    judge = ensure_classifier(config, log=print)
    poets = [a for a in judge.authors if a != OTHER]
    from poetbench.eval.stages import work_of

    records = {a: C.load_records(config.corpus_dir, a, "test") for a in poets}
    test = {a: judge.features([r["text"] for r in records[a]]) for a in poets}
    works = {a: [work_of(r) for r in records[a]] for a in poets}
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else newest_run()
    base = {}
    if run is not None and (run / "summary.json").exists():
        summary = json.loads((run / "summary.json").read_text())["summary"]
        base = {r["author"]: r for r in summary if r["model"] == "base" and r["metric"] == "detect_auc"}
    rows, real_means = [], []
    for i, a in enumerate(poets):
        null = []
        for k in range(SPLITS):
            x, y, gx, gy = halves(test[a], seed=k, groups=works[a])
            null.append(two_sample_auc(x, y, seed=k, groups_a=gx, groups_b=gy)[0])
        real_means.append(float(np.mean(null)))
        other_poet = poets[(i + 1) % len(poets)]
        v, lo, hi = two_sample_auc(test[other_poet], test[a], seed=0, groups_a=works[other_poet], groups_b=works[a])
        b = base.get(a)
        rows.append([a, test[a].shape[0], f"{np.mean(null):.3f} ± {np.std(null):.3f}",
                     f"{other_poet}: {v:.3f} [{lo:.3f}, {hi:.3f}]",
                     f"{b['mean']:.3f} [{b['ci_low']:.3f}, {b['ci_high']:.3f}] (n={b['n']})" if b else "—"])
    md = markdown_table(["poet", "held-out poems", f"real vs real (two halves, {SPLITS} splits: mean ± sd)",
                         "another poet vs real", "tiny base vs real (eval run)"], rows)
    print(md)
    note = (f"Judge {judge.path.name} (classes {', '.join(judge.authors)}). Targets: real vs real within 0.5 ± 0.1; "
            f"tiny base vs real ≥ 0.9. Tiny base figures from `{run.relative_to(ROOT) if run else '—'}` "
            "(`make demo`: 20 themes x 2 samples = 40 poems per author). No figure here was used for a choice.")
    update_section("detectability", "## Detectability (`detect_auc`, classifier two-sample test)\n\n" + note + "\n\n" + md)
    update_json({"detect_auc_real_vs_real_mean": round(float(np.mean(real_means)), 4),
                 "detect_auc_tiny_base_min": round(min(r["mean"] for r in base.values()), 4) if base else "not measured"})


if __name__ == "__main__":
    main()
