"""Choices of the style classifier made by cross-validation inside the training data.

    .venv/bin/python bench/classifier_choices.py

For each candidate (the SVM's C; the class weighting; the weights of the feature blocks; the
training examples cut from long poems: ``augment`` = N adds each training poem of 2N lines or more
again as stanza-aligned pieces of about N lines, ``style.augment``, shipped N = 4, 0 none, the
held-out poems untouched; the edition's typography kept, ``edition_free=False``; a block of
part-of-speech n-grams, ``parts_of_speech`` = its weight; the n-gram blocks' ``min_df``; the features
fitted on whole poems only, ``vocabulary="poems"``, rather than on every row with the pieces; the
SVM's rows weighted so that a long poem's pieces count less, ``poem_weight`` = p: each row weighs its
poem's row count to the power -p, 1 making each poem and its pieces weigh one row together; the stress
profile of the poem's meter in the prosody block, ``rhythm``: how often each ictus is stressed, the
measure by which verse scholars tell poets and periods apart, ``features.stress_profile``; the n-gram
lengths of the two character blocks, ``chars`` (within words, shipped 2-5) and ``char_spans`` (across
word boundaries, shipped 1-4) = (shortest, longest): one character longer each, written down on
2026-12-06 before their first run, because the character Markov chains of order 5, which read six
characters at a time, were the one kind of judge that added to the shipped one on the benches' folds,
bench/classifier_models.py), 5-fold
cross-validation over the poets' train + val poems (the parts of one work kept in one fold; the test
splits are never read): macro-F1 over the poets and each poet's recall, mean over folds, on the
held-out poems as they are, on the same poems set as another edition would set them (``retypeset``:
quote marks, ellipsis, ``ё`` and stanza breaks changed, seeded), and on the re-typeset poems of 16
lines or more cut into pieces of about 8 lines (``pieces``), as long as the poems the judge scores in
an eval (8-16 lines at 160 new tokens). Each shared corpus is one edition, so the first figure
rewards a judge that knows the editions; the re-typeset whole poems are what choices are made by,
the pieces show the judge at a generated poem's length. Updates bench/RESULTS.md and
bench/results.json.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import (CHOICE_RULE, SECOND_DRAW, markdown_table, real_gain, run_judge_bench, update_json,  # noqa: E402
                      update_section, verdict)

NGRAM_BLOCKS = ("chars", "char_spans")  # a candidate's key naming one of these sets that block's ngram_range
NGRAM_CANDIDATES = [{"C": 0.5, "chars": (2, 6)}, {"C": 0.5, "char_spans": (1, 5)},
                    {"C": 0.5, "chars": (2, 6), "char_spans": (1, 5)}]
CANDIDATES = [{"C": 0.25}, {"C": 0.5}, {"C": 1.0}, {"C": 2.0}, {"C": 0.5, "class_weight": "balanced"},
              {"C": 0.5, "dense_weight": 0.3}, {"C": 0.5, "dense_weight": 0.03},
              {"C": 0.5, "block_weights": {"char_spans": 1.5, "lemmas": 0.5}},
              {"C": 0.5, "parts_of_speech": 0.5}, {"C": 0.5, "parts_of_speech": 1.0}, {"C": 0.5, "min_df": 1},
              {"C": 0.5, "augment": 0}, {"C": 0.5, "augment": 8}, {"C": 0.5, "augment": 12},
              {"C": 0.5, "vocabulary": "poems"}, {"C": 0.5, "poem_weight": 0.5}, {"C": 0.5, "poem_weight": 1.0},
              {"C": 0.5, "rhythm": True}, {"C": 0.5, "edition_free": False}, *NGRAM_CANDIDATES]
PAIRED = [{"C": 0.5, "parts_of_speech": 0.5}, {"C": 0.5, "min_df": 1}, {"C": 0.5, "vocabulary": "poems"},
          {"C": 0.5, "poem_weight": 0.5}, {"C": 0.5, "poem_weight": 1.0}, {"C": 0.5, "rhythm": True},
          *NGRAM_CANDIDATES]
QUOTE_STYLES = [("«", "»"), ('"', '"'), ("„", "“")]


def retypeset(text: str, rng: random.Random) -> str:
    """``text`` as another edition might set it: one of three quote styles, ``…`` or ``...``, ``ё``
    written ``е`` (half the time), and its stanza breaks dropped or, for a poem without them, one
    after every fourth line (half the time each)."""
    quoted = re.split('["„“”«»]', text)
    opening, closing = rng.choice(QUOTE_STYLES)
    text = quoted[0] + "".join((opening if i % 2 == 0 else closing) + p for i, p in enumerate(quoted[1:]))
    text = re.sub(r"\.{2,}|…", rng.choice(["…", "..."]), text)
    if rng.random() < 0.5:
        text = text.replace("ё", "е").replace("Ё", "Е")
    if rng.random() < 0.5:
        if "\n\n" in text:
            text = re.sub(r"\n\s*\n", "\n", text)
        else:
            lines = text.split("\n")
            text = "\n\n".join("\n".join(lines[i:i + 4]) for i in range(0, len(lines), 4))
    return text


def name_of(candidate: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in candidate.items())


SHIPPED_SETTING = {"C": 0.5}  # the shipped judge's settings (the rest are build_pipeline's defaults)
SHIPPED = name_of(SHIPPED_SETTING)  # its row


def lermontov_line(results: dict, poets: list[str]) -> str:
    """What the candidate with Lermontov's best CV recall costs the other poets."""
    if "lermontov" not in poets or SHIPPED not in results:
        return ""
    j = poets.index("lermontov")
    name, (f1, rec) = max(results.items(), key=lambda kv: kv[1][1][j])
    base_f1, base = results[SHIPPED]
    k = int(np.argmin(np.where(np.arange(len(poets)) == j, np.inf, rec - base)))
    return (f"The candidate with Lermontov's best CV recall, {name}, raises it {base[j]:.3f} → {rec[j]:.3f} but "
            f"lowers {poets[k]}'s {base[k]:.3f} → {rec[k]:.3f}: macro-F1 {base_f1:.3f} → {f1:.3f}.")


@dataclass
class Folds:
    """The poets' train + val poems and the 5 folds every choice of the judge is made on (the parts of one
    work in one fold), with each poem re-typeset (``moved``) and, at 16 lines or more, re-typeset and cut
    into pieces of about 8 lines (``cut``, one list a poem); ``groups``: each poem's work (poet and work id).
    """

    poets: list[str]
    texts: list[str]
    y: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    moved: list[str]
    cut: list[list[str]]
    groups: np.ndarray


def cv_folds(seed: int = 0) -> Folds:
    """The folds of the choices benches (this one and bench/classifier_models.py); the test splits are
    not read. ``seed`` draws the folds (0: the benches' own; bench/classifier_confirm.py draws others)."""
    from sklearn.model_selection import StratifiedGroupKFold

    from poetbench.config import OTHER, preset
    from poetbench.corpus.build import prepare_corpora
    from poetbench.eval.stages import work_of
    from poetbench.style.augment import pieces
    from poetbench.style.classifier import TRAIN_SPLITS, split_records

    config = preset("tiny")
    _, metas = prepare_corpora(config, authors=[], log=lambda m: None)
    poets = sorted(a for a in metas if a != OTHER)
    records, labels = split_records(config, poets, *TRAIN_SPLITS)
    texts, y = [r["text"] for r in records], np.array(labels)
    groups = np.array([f"{l}:{work_of(r)}" for r, l in zip(records, labels)])
    folds = list(StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(texts, y, groups))
    rng = random.Random(0)
    moved = [retypeset(t, rng) for t in texts]
    cut = [pieces(m, 8) if t.count("\n") >= 15 else [m] for t, m in zip(texts, moved)]  # 16+ lines: ~8-line pieces
    return Folds(poets, texts, y, folds, moved, cut, groups)


def held_out_views(data: Folds, test) -> tuple[list[str], list[str], list[str]]:
    """A fold's held-out poems as set, re-typeset, and re-typeset in pieces (``fold_scores``' order)."""
    return ([data.texts[i] for i in test], [data.moved[i] for i in test], [p for i in test for p in data.cut[i]])


def fold_scores(data: Folds, test, as_set, moved, cut) -> tuple:
    """One fold's figures from the labels predicted for ``held_out_views``: macro-F1 over the poets as set;
    macro-F1 and each poet's recall re-typeset; the same on the pieces."""
    from sklearn.metrics import f1_score, recall_score

    poets, y = data.poets, data.y
    truth = np.array([y[i] for i in test for _ in data.cut[i]])
    return (f1_score(y[test], as_set, labels=poets, average="macro"),
            f1_score(y[test], moved, labels=poets, average="macro"),
            recall_score(y[test], moved, labels=poets, average=None),
            f1_score(truth, cut, labels=poets, average="macro"), recall_score(truth, cut, labels=poets, average=None))


@dataclass
class Scores:
    """A candidate's ``fold_scores``, fold by fold, and its row of the table."""

    as_set: list = field(default_factory=list)
    moved: list = field(default_factory=list)
    recall: list = field(default_factory=list)
    cut: list = field(default_factory=list)
    cut_recall: list = field(default_factory=list)

    def add(self, fold: tuple) -> None:
        for got, kept in zip(fold, (self.as_set, self.moved, self.recall, self.cut, self.cut_recall)):
            kept.append(got)

    @staticmethod
    def headers(poets: list[str]) -> list[str]:
        return ["candidate", "CV macro-F1, as set", "CV macro-F1, re-typeset",
                *[f"CV recall {p}, re-typeset" for p in poets], "CV macro-F1, 8-line pieces",
                *[f"CV recall {p}, pieces" for p in poets]]

    def row(self, name: str) -> list[str]:
        def spread(v):
            return f"{np.mean(v):.3f} ± {np.std(v):.3f}"

        return [name, spread(self.as_set), spread(self.moved), *[f"{r:.3f}" for r in np.mean(self.recall, axis=0)],
                spread(self.cut), *[f"{r:.3f}" for r in np.mean(self.cut_recall, axis=0)]]


def main() -> None:
    run_judge_bench(run)


def fit_candidate(data: Folds, rows, cand: dict):
    """The judge of setting ``cand`` trained on ``data``'s poems ``rows`` as the judge is trained
    (``fit_augmented``: the poems and their pieces)."""
    from poetbench.style.augment import AUGMENT_LINES, fit_augmented
    from poetbench.style.classifier import judge_pipeline

    options = {k: v for k, v in cand.items() if k not in ("augment", "vocabulary", *NGRAM_BLOCKS)}
    lengths = {f"features__{k}__ngram_range": v for k, v in cand.items() if k in NGRAM_BLOCKS}
    return fit_augmented(judge_pipeline(**options).set_params(**lengths), [data.texts[i] for i in rows], data.y[rows],
                         cand.get("augment", AUGMENT_LINES), cand.get("vocabulary", "rows"))


def cv_scores(data: Folds, cand: dict) -> Scores:
    """A candidate's ``fold_scores`` on each of ``data``'s folds (``fit_candidate``)."""
    got = Scores()
    for train, test in data.folds:
        model = fit_candidate(data, train, cand)
        got.add(fold_scores(data, test, *(model.predict(v) for v in held_out_views(data, test))))
    return got


def confirm(cand: dict) -> np.ndarray:
    """The paired gains per fold of ``cand`` over the shipped setting on the second draw of the folds
    (bench/classifier_confirm.py's rule: a candidate that passes ships only when they pass it too)."""
    second = cv_folds(seed=SECOND_DRAW)
    return np.array(cv_scores(second, cand).moved) - np.array(cv_scores(second, SHIPPED_SETTING).moved)


def run() -> None:
    from poetbench.style.augment import AUGMENT_LINES
    from poetbench.style.features import FEATURE_CONFIG

    data = cv_folds()
    poets = data.poets
    rows, results, per_fold, as_set, cut_fold = [], {}, {}, {}, {}
    for cand in CANDIDATES:
        got = cv_scores(data, cand)
        name, rec, f1s = name_of(cand), np.mean(got.recall, axis=0), np.array(got.moved)
        results[name], per_fold[name], as_set[name] = (float(f1s.mean()), rec), f1s, float(np.mean(got.as_set))
        cut_fold[name] = (np.array(got.cut), np.array(got.cut_recall))
        rows.append(got.row(name))
        print(rows[-1], "re-typeset per fold:", " ".join(f"{f:.4f}" for f in f1s), flush=True)
    best = max(results, key=lambda n: results[n][0])  # the first of equals, as the table lists them
    shipped = results[SHIPPED][0]
    md = markdown_table(Scores.headers(poets), rows)
    best_gain = per_fold[best] - per_fold[SHIPPED]
    second = None if best == SHIPPED or not real_gain(best_gain) else confirm(
        next(c for c in CANDIDATES if name_of(c) == best))
    stays = second is None or not real_gain(second)
    kept = name_of({"C": 0.5, "edition_free": False})
    edition = (f"Keeping the edition's typography (`edition_free=False`) scores "
               f"{as_set[kept]:.3f} on the poems as set (edition-free: {as_set[SHIPPED]:.3f}) but {results[kept][0]:.3f} re-typeset, against "
               f"{shipped:.3f} for the edition-free judge (paired gain per fold: "
               + ", ".join(f"{d:+.3f}" for d in per_fold[SHIPPED] - per_fold[kept]) + "). "
               if kept in results else "")
    note = (f"Judge features version {FEATURE_CONFIG['version']}. 5-fold CV over the poets' train + val poems (works kept whole; test splits not read); the held-out "
            f"poems scored as set and re-typeset as another edition would set them (quote marks, ellipsis, ё, "
            f"stanza breaks; `retypeset`), choices by the re-typeset figure. " + edition + f"Best by re-typeset CV "
            f"macro-F1: {best} ({results[best][0]:.3f}); shipped: {FEATURE_CONFIG['classifier']} ({shipped:.3f}). "
            + f"Paired gain per fold of the best over the shipped one: {', '.join(f'{d:+.3f}' for d in best_gain)}. "
            f"A candidate ships when {CHOICE_RULE} (the rule of every bench/ script), and again on a second draw of the "
            f"folds (seed {SECOND_DRAW}, bench/classifier_confirm.py's rule). "
            + (f"The best passes on these folds; on the second draw, paired gain per fold: {verdict(second)}. "
               if second is not None else "")
            + (("None does, so the shipped one stays. " if second is None else "So the shipped one stays. ")
               + lermontov_line(results, poets)
               + " Where Lermontov's errors are (by period and length): section \"Style classifier on the shared "
               "corpora\"." if stays else "The best does: ship it."))
    none = name_of({"C": 0.5, "augment": 0})
    if none in results:
        j = poets.index("lermontov") if "lermontov" in poets else 0
        note += (f" Pieces (`augment={AUGMENT_LINES}`, shipped) against none (`augment=0`), paired gain per fold: "
                 "re-typeset whole poems " + ", ".join(f"{d:+.3f}" for d in per_fold[SHIPPED] - per_fold[none])
                 + "; 8-line pieces " + ", ".join(f"{d:+.3f}" for d in cut_fold[SHIPPED][0] - cut_fold[none][0])
                 + f"; {poets[j]}'s recall on the pieces "
                 + ", ".join(f"{d:+.3f}" for d in cut_fold[SHIPPED][1][:, j] - cut_fold[none][1][:, j])
                 + f". The piece size {AUGMENT_LINES} was chosen on these folds among 0, 4, 8 and 12 (and 4 with at most "
                 "three pieces a poem, worse), so that choice is made on them too; the test splits were read once after.")
    paired = [n for n in map(name_of, PAIRED) if n in results]
    if paired:
        note += (" Paired gain per fold over the shipped setting, re-typeset whole poems: " + "; ".join(
            f"{n}: " + ", ".join(f"{d:+.3f}" for d in per_fold[n] - per_fold[SHIPPED]) for n in paired) + ".")
    if any(name_of(c) in results for c in NGRAM_CANDIDATES):
        note += (" `chars` and `char_spans` are the n-gram lengths of the two character blocks (shipped 2-5 within words "
                 "and 1-4 across them), one character longer each, written down before their first run: the order-5 "
                 "character chains were the one kind of judge that added to the shipped one here "
                 "(bench/classifier_models.py).")
    print(md + "\n\n" + note)
    update_section("classifier-choices", "## Style classifier: choices by cross-validation\n\n" + note + "\n\n" + md)
    update_json({"classifier_cv_best": best, "classifier_cv_best_macro_f1": round(results[best][0], 4)})


if __name__ == "__main__":
    main()
