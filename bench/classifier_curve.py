"""How the style judge's CV figures grow with its training data: is Lermontov's recall short of data?

    .venv/bin/python bench/classifier_curve.py

The folds and figures of bench/classifier_choices.py (the poets' train + val poems, works kept whole,
test splits not read). In each fold the shipped judge is trained as that bench trains it
(``fit_candidate``: the poems and their pieces) on a share of the training fold's works, each poet's
works drawn in a fixed random order (seed 0), so that each share holds the smaller ones, and scored
on the whole held-out fold. Share 1 is the choices bench's shipped row. Then, per poet, the gain in re-typeset CV
recall per doubling of the training data (least squares over the shares, recall against log2 of the
share; and the last doubling's, share 0.5 to 1, measured), and how many doublings at the last one's
gain would take the poet to 0.90 (an extrapolation, not a measurement). Used for choosing: nothing;
it says whether more of a poet's poems could close the gap (#19) or whether the fix must come from
the features. Updates bench/RESULTS.md and bench/results.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, run_judge_bench, update_json, update_section  # noqa: E402
from classifier_choices import (SHIPPED_SETTING, Scores, cv_folds, fit_candidate, fold_scores,  # noqa: E402
                                held_out_views)

SHARES = (0.25, 0.5, 0.75, 1.0)
TARGET = 0.90


def main() -> None:
    run_judge_bench(run)


def nested_share(train: np.ndarray, y: np.ndarray, groups: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """The rows of ``train`` whose works are the first ``share`` of each poet's works, in one fixed random
    order per poet (a smaller share's rows are within a larger one's)."""
    rng = np.random.default_rng(seed)
    keep = set()
    for poet in sorted(set(y[train])):
        works = sorted(set(groups[train][y[train] == poet]))
        order = [works[i] for i in rng.permutation(len(works))]
        keep.update(order[:max(1, round(share * len(order)))])
    return np.array([i for i in train if groups[i] in keep])


def doubling_gain(shares, recalls) -> float:
    """The least-squares slope of recall against log2(share): the gain per doubling of the data."""
    return float(np.polyfit(np.log2(shares), recalls, 1)[0])


def run() -> None:
    data = cv_folds()
    poets = data.poets
    scores = {s: Scores() for s in SHARES}
    sizes = {s: [] for s in SHARES}
    for fold, (train, test) in enumerate(data.folds):
        views = held_out_views(data, test)
        for share in SHARES:
            rows = nested_share(train, data.y, data.groups, share)
            sizes[share].append(len(rows))
            model = fit_candidate(data, rows, SHIPPED_SETTING)
            scores[share].add(fold_scores(data, test, *(model.predict(v) for v in views)))
            print(f"fold {fold + 1} share {share}: {len(rows)} poems, re-typeset macro-F1 "
                  f"{scores[share].moved[-1]:.4f}", flush=True)
    recall = {s: np.mean(scores[s].recall, axis=0) for s in SHARES}
    rows = [[f"{s:.2f}", f"{np.mean(sizes[s]):.0f}", *scores[s].row("")[1:3],
             *[f"{r:.3f}" for r in recall[s]]] for s in SHARES]
    md_curve = markdown_table(["share of the training fold's works", "training poems (mean over folds)",
                               "CV macro-F1, as set", "CV macro-F1, re-typeset",
                               *[f"CV recall {p}, re-typeset" for p in poets]], rows)
    fitted = {p: doubling_gain(SHARES, [recall[s][i] for s in SHARES]) for i, p in enumerate(poets)}
    last = {p: float(recall[1.0][i] - recall[0.5][i]) for i, p in enumerate(poets)}  # the last doubling, measured
    full = {p: recall[1.0][i] for i, p in enumerate(poets)}

    def doublings(p: str) -> str:
        if full[p] >= TARGET:
            return "reached"
        if last[p] <= 0:
            return "never"
        n = (TARGET - full[p]) / last[p]
        return f"{n:.1f} (x{2 ** n:.1f} the poems)"

    md_gain = markdown_table(
        ["poet", "CV recall, all the training fold", "gain per doubling, line fitted over the shares",
         "gain of the last doubling (share 0.5 → 1)", f"doublings to {TARGET:.2f} at the last doubling's gain"],
        [[p, f"{full[p]:.3f}", f"{fitted[p]:+.3f}", f"{last[p]:+.3f}", doublings(p)] for p in poets])
    md = ("`bench/classifier_curve.py`: the shipped judge trained on a share of each training fold's works (each "
          "poet's works in a fixed random order, so a smaller share is within a larger one) and scored on the "
          "whole held-out fold; the folds and figures of bench/classifier_choices.py (works kept whole, test "
          "splits not read; share 1 is its shipped row). The fitted gain is the least-squares slope of recall "
          "against log2 of the share; the gains shrink as the data grows, so the last doubling's, measured, is "
          "the one to extrapolate with, and even it overstates the gain. The doublings to 0.90 extend it beyond "
          "the data: they say how far off the target is, not what more poems would give. Used for choosing: "
          "nothing.\n\n" + md_curve + "\n\n" + md_gain)
    print(md)
    update_section("classifier-curve", "## Style classifier: how its CV figures grow with the data\n\n" + md)
    update_json({"classifier_curve": {
        "shares": list(SHARES),
        "macro_f1_retypeset": [round(float(np.mean(scores[s].moved)), 4) for s in SHARES],
        "recall_retypeset": {p: [round(float(recall[s][i]), 4) for s in SHARES] for i, p in enumerate(poets)},
        "gain_per_doubling_fitted": {p: round(g, 4) for p, g in fitted.items()},
        "gain_last_doubling": {p: round(g, 4) for p, g in last.items()}}})


if __name__ == "__main__":
    main()
