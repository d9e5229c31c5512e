"""Where the style judge's training time goes: each feature block, the union, the classifier.

    .venv/bin/python bench/classifier_speed.py

The judge must train in under 30 s on 2 cores (bench/classifier.py); this bench shows where that time
goes, and what the blocks bench/classifier_models.py tries would add to it. It fits the shipped judge as
``fit_judge`` does (every class, the train + val splits and their pieces) and times each step: the
normaliser, each feature block alone on one core (the shipped ones, then the two candidate blocks),
the feature union as the judge runs it (its blocks in parallel), and the classifier (``OpenSet``).
Nothing here is used to choose anything. Prints a table and updates bench/RESULTS.md and
bench/results.json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, run_judge_bench, update_json, update_section  # noqa: E402
from _judges import extra_blocks  # noqa: E402
from classifier_models import judge_texts  # noqa: E402


def main() -> None:
    run_judge_bench(run)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run() -> None:
    from poetbench.style.augment import augmented
    from poetbench.style.classifier import judge_pipeline

    texts, labels = judge_texts()
    X, y, groups = augmented(texts, labels)
    pipeline = judge_pipeline()
    jobs = pipeline.named_steps["features"].n_jobs
    Xn, normalise_s = _timed(lambda: pipeline.named_steps["normalise"].transform(X))
    union = pipeline.named_steps["features"]
    rows = [["normalise (one core)", f"{normalise_s:.1f} s", ""]]
    blocks = [(n, t, "shipped") for n, t in union.transformer_list]
    blocks += [(key, t, f"candidate: {name}") for name, (key, t, _) in extra_blocks().items()]
    serial = {}
    for name, transformer, kind in blocks:
        Z, serial[name] = _timed(lambda: clone(transformer).fit_transform(Xn))
        rows.append([f"block `{name}` (one core)", f"{serial[name]:.1f} s", f"{kind}; {Z.shape[1]:,} columns"])
    Z, union_s = _timed(lambda: union.fit_transform(Xn))
    shipped_serial = sum(serial[n] for n, _ in union.transformer_list)
    rows.append([f"feature union as the judge runs it ({jobs} jobs)", f"{union_s:.1f} s",
                 f"its blocks take {shipped_serial:.1f} s on one core"])
    _, classify_s = _timed(lambda: pipeline.named_steps["classify"].fit(Z, y, groups=groups))
    rows.append([f"classifier (`OpenSet`, {jobs} jobs)", f"{classify_s:.1f} s", f"{Z.shape[0]:,} rows (poems and pieces)"])
    total = normalise_s + union_s + classify_s
    rows.append(["the judge's fit (normalise + union + classifier)", f"{total:.1f} s", "target < 30 s"])
    md = (f"`bench/classifier_speed.py`: the shipped judge fitted as `fit_judge` fits it, on {len(texts):,} poems of "
          "the train + val splits and their pieces, each step timed once (this machine's timings vary by about "
          "±2 s). A block's time includes loading what it first uses (pymorphy3 for `lemmas`, the stress "
          "dictionary for `prosody`), as a fresh worker of the union's pool does. The candidate blocks are bench/classifier_models.py's (bench/_judges.py); they are timed alone and are not in the "
          "union or the classifier. Nothing here is used to choose anything.\n\n"
          + markdown_table(["step", "time", "note"], rows))
    print(md)
    update_section("classifier-speed", "## Style classifier: where its training time goes (CPU)\n\n" + md)
    update_json({"classifier_fit_union_s": round(union_s, 1), "classifier_fit_classify_s": round(classify_s, 1)})


if __name__ == "__main__":
    main()
