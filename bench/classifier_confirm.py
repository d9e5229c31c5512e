"""A second draw of the folds for the style-judge candidates that pass the choice rule.

    .venv/bin/python bench/classifier_confirm.py ["Crammer-Singer LinearSVC" ...]

The choices benches (bench/classifier_choices.py, bench/classifier_models.py) judge every candidate on
one draw of 5 folds (seed 0). A candidate whose gain over the shipped judge is small may pass the rule
on that draw by how the works fell into folds. So, the rule as decided on 2026-12-05 before any figure
of a second draw was seen: a candidate that passes ``CHOICE_RULE`` on the benches' folds ships only
when it passes it again on a second draw (``cv_folds(seed=SECOND_DRAW)``, seed 1: the same poems and
works, the same figures, other folds). The second draw only confirms: it never makes a candidate ship that the first
did not pass, and nothing is chosen on it.

The candidates are the classifiers of bench/_judges.py (``classifiers``) named on the command line;
without names, the one that passes now (Crammer-Singer LinearSVC, bench/classifier_models.py). Each
fold's blocks are the shipped judge's, fitted once on the fold's training poems and their pieces and
shared, as in bench/classifier_models.py. Prints a table and updates bench/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import CHOICE_RULE, SECOND_DRAW, markdown_table, run_judge_bench, update_section, verdict  # noqa: E402
from _judges import (SHIPPED, block_spans, classifiers, fit_predict, fold_features, markov_log_proba,  # noqa: E402
                     markov_mix, markov_weight)
from classifier_choices import Scores, cv_folds, fold_scores  # noqa: E402

# pass the rule on the benches' folds (bench/classifier_models.py, corpora of cleaning version 8)
PASSING = ["shipped × char Markov chains^0.25", "shipped × char Markov chains^0.5"]


def main() -> None:
    run_judge_bench(lambda: run(sys.argv[1:] or PASSING))


def second_draw(names: list[str], added: dict[str, list[str]] | None = None) -> tuple[dict, dict, list[str]]:
    """``Scores`` of the shipped judge and of each of ``names`` on the second draw of the folds, each
    name's paired gains per fold over the shipped judge (re-typeset whole poems), and the poets. A name
    is a classifier of ``classifiers``, a key of ``added``: the shipped classifier on those blocks
    (``extra_blocks``' keys beside the shipped ones, as bench/classifier_models.py builds it), or a
    ``MARKOV_MIX``: the shipped judge's log-probabilities plus w times the character chains'."""
    from sklearn.base import clone

    from poetbench.style.features import build_pipeline

    added = added or {}
    data = cv_folds(seed=SECOND_DRAW)
    pipeline = build_pipeline()
    dense_weight = pipeline.named_steps["features"].transformer_weights["prosody"]
    base = [n for n, _ in pipeline.named_steps["features"].transformer_list]
    scores: dict[str, Scores] = {}
    for fold, (train, test) in enumerate(data.folds):
        blocks, y, groups, sizes = fold_features(pipeline, data, train, test, extra=bool(added))
        spans = block_spans({n: blocks[n][0].shape[1] for n in base})
        models = {n: (base, m) for n, m in classifiers(pipeline.named_steps["classify"], spans, dense_weight).items()}
        models.update({n: (used, clone(pipeline.named_steps["classify"])) for n, used in added.items()})
        mixes = {n: markov_weight(n) for n in names if markov_weight(n)}
        unknown = set(names) - set(models) - set(mixes)
        if unknown:
            raise SystemExit(f"no candidate {', '.join(sorted(unknown))}; known: {', '.join(models)}")
        for name in [SHIPPED, *[n for n in names if n not in mixes]]:
            used, model = models[name]
            probas = fit_predict(model, blocks, used, y, groups, len(sizes))
            if name == SHIPPED:
                shipped_views = probas
            add(scores, name, fold, data, test, [np.asarray(model.classes_)[p.argmax(axis=1)] for p in probas])
        markov = markov_log_proba(data, train, test) if mixes else []
        for name, w in mixes.items():
            add(scores, name, fold, data, test,
                [np.array(data.poets)[lp.argmax(axis=1)] for lp in markov_mix(shipped_views, markov, w)])
    shipped = np.array(scores[SHIPPED].moved)
    return scores, {n: np.array(scores[n].moved) - shipped for n in names}, data.poets


def add(scores: dict, name: str, fold: int, data, test, labels: list) -> None:
    """One fold's figures of ``name`` from the labels it gives the held-out views."""
    scores.setdefault(name, Scores()).add(fold_scores(data, test, *labels))
    print(f"second draw, fold {fold + 1} {name}: re-typeset macro-F1 {scores[name].moved[-1]:.4f}", flush=True)


def run(names: list[str]) -> None:
    from poetbench.style.features import FEATURE_CONFIG

    scores, gains, poets = second_draw(names)
    md = markdown_table(Scores.headers(poets), [scores[n].row(n) for n in scores])
    note = (f"`bench/classifier_confirm.py`, judge features version {FEATURE_CONFIG['version']}: a second draw of the "
            f"5 folds (seed {SECOND_DRAW}; the benches' own are seed 0) over the same poets' train + val poems, works kept "
            "whole, test splits not read, for the candidates that pass the rule on the benches' folds. Rule (decided "
            f"before any second-draw figure): such a candidate ships only when {CHOICE_RULE} on this draw too; "
            "nothing is chosen here. Paired gain per fold over the shipped judge, re-typeset whole poems: "
            + "; ".join(f"{n}: {verdict(g)}" for n, g in gains.items()) + ".")
    print(md + "\n\n" + note)
    update_section("classifier-confirm", "## Style classifier: a second draw of the folds (CV)\n\n" + note + "\n\n" + md)


if __name__ == "__main__":
    main()
