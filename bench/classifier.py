"""Style classifier on the shared corpora: training time and held-out figures.

    .venv/bin/python bench/classifier.py

Trains from scratch (into a temporary folder) on the train and val splits of every author with
texts, evaluates on the held-out test splits, cross-validates inside the train and val splits (on
``DRAWS`` draws of the folds), prints a table and updates bench/RESULTS.md and bench/results.json.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import SECOND_DRAW, markdown_table, run_judge_bench, update_json, update_section  # noqa: E402
from _pulls import INTERCEPT, add_terms, block_names, pulls, top_terms  # noqa: E402

DRAWS = 5  # draws of the folds the CV is repeated over (seeds 0 to 4), to show how far a draw alone moves it


def closed_set(config, authors: list[str]):
    """The same pipeline without the ``other`` class, fitted on the same poets' poems: what the open-set
    judge's attribution of real poems is compared with."""
    from poetbench.style.classifier import TRAIN_SPLITS, fit_judge, split_texts
    from poetbench.style.store import StyleModel

    texts, labels, _ = split_texts(config, authors, *TRAIN_SPLITS)
    return StyleModel(fit_judge(texts, labels), {})


def cross_validated(config, authors: list[str], folds: int = 5, seed: int = 0, breakdowns: bool = True) -> dict:
    """5-fold cross-validation inside the training data (train + val splits; the parts of one work kept in
    one fold; ``seed`` draws the folds): per-fold macro-F1 and recalls, the pooled confusion matrix, the
    misattributed poems, and (``breakdowns``) Lermontov's recall by period, length, genre and meter."""
    from sklearn.metrics import confusion_matrix, f1_score, recall_score
    from sklearn.model_selection import StratifiedGroupKFold

    from poetbench.config import OTHER
    from poetbench.eval.stages import work_of
    from poetbench.style.classifier import TRAIN_SPLITS, fit_judge, split_records

    records, labels = split_records(config, authors, *TRAIN_SPLITS)
    texts = [r["text"] for r in records]
    y = np.array(labels)
    groups = [f"{l}:{work_of(r)}" for r, l in zip(records, labels)]
    pred = np.empty(len(y), dtype=object)
    f1s, recalls = [], {a: [] for a in authors}
    explain = breakdowns and {"lermontov", "pushkin"} <= set(authors)
    shares, lost_terms, kept_terms = {}, [], []  # the pulls toward Pushkin over Lermontov (bench/_pulls.py)
    for train, test in StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(texts, y, groups):
        model = fit_judge([texts[i] for i in train], list(y[train]))
        pred[test] = model.predict([texts[i] for i in test])
        if explain:
            two = np.array([i for i in test if y[i] in ("lermontov", "pushkin")])
            his = y[two] == "lermontov"
            got, terms = pulls(model, [texts[i] for i in two], "pushkin", "lermontov",
                               {"lost": his & (pred[two] == "pushkin"), "kept": his & (pred[two] == "lermontov")})
            shares.update(zip(two, got))
            add_terms(lost_terms, terms["lost"])
            add_terms(kept_terms, terms["kept"])
        f1s.append(f1_score(y[test], pred[test], labels=authors, average="macro", zero_division=0))
        for a, r in zip(authors, recall_score(y[test], pred[test], labels=authors, average=None, zero_division=0)):
            recalls[a].append(r)
    poets_rows = y != OTHER
    poets = [a for a in authors if a != OTHER]
    poets_f1 = float(f1_score(y[poets_rows], pred[poets_rows], labels=poets, average="macro", zero_division=0))
    wrong = [{"id": r["id"], "true": t, "predicted": p, "title": r.get("title"), "year": r.get("year"),
              "part": r.get("part"), "lines": r.get("lines")} for r, t, p in zip(records, y, pred) if t != p]
    by = {"source": editions(records, y, pred) if breakdowns else []}
    if "lermontov" in authors and breakdowns:
        mine = [(r, p) for r, t, p in zip(records, y, pred) if t == "lermontov"]
        by.update(period=breakdown(mine, period), length=breakdown(mine, length_class),
                  **{"genre, as the title names it": breakdown(mine, genre)})
        if "pushkin" in authors:
            two = np.flatnonzero(np.isin(y, ["lermontov", "pushkin"]))  # only their poems are scanned
            scans = judge_scans([records[i] for i in two])
            by["meter"], by["profile"] = by_meter(scans, y[two], pred[two]), iamb4_profiles(scans, y[two])
    if explain:
        by["pulls"] = pull_rows(block_names(model), shares, y, pred)
        lost, kept = [int(((y == "lermontov") & (pred == p)).sum()) for p in ("pushkin", "lermontov")]
        by["pull terms"] = [[name, top_terms(a, lost, b, kept)]
                            for name, a, b in zip(block_names(model), lost_terms, kept_terms)]
    return {"folds": folds, "by": by, "macro_f1": (float(np.mean(f1s)), float(np.std(f1s))), "poets_macro_f1": poets_f1,
            "recall": {a: (float(np.mean(v)), float(np.std(v))) for a, v in recalls.items()},
            "confusion": confusion_matrix(y, pred, labels=authors).tolist(), "labels": authors, "wrong": wrong}


def pull_rows(blocks: list[str], shares: dict[int, np.ndarray], y: np.ndarray, pred: np.ndarray) -> list[list]:
    """Rows of (block, its mean pull toward Pushkin over Lermontov in Lermontov's poems the judge gives
    Pushkin, in those it keeps for him, and in Pushkin's poems it keeps for Pushkin), the intercepts and
    the whole difference of the two decisions last."""
    kinds = [(y == "lermontov") & (pred == "pushkin"), (y == "lermontov") & (pred == "lermontov"),
             (y == "pushkin") & (pred == "pushkin")]
    means = [np.mean([shares[i] for i in np.flatnonzero(k)], axis=0) for k in kinds]
    names = [*blocks, INTERCEPT]
    rows = [[f"`{n}`" if n != INTERCEPT else "the intercepts", *(f"{m[b]:+.3f}" for m in means)]
            for b, n in enumerate(names)]
    return [["poems", *(int(k.sum()) for k in kinds)], *rows,
            ["the whole difference of the two decisions", *(f"{m.sum():+.3f}" for m in means)]]


def editions(records: list[dict], y: np.ndarray, pred: np.ndarray) -> list[list]:
    """Rows of (poet, source edition, poems, CV recall, commonest wrong guess) for the poets whose
    poems come from more than one edition: the judge should not care which edition set a poem."""
    rows = []
    for a in sorted(set(y)):
        by_source: dict[str, list[str]] = {}
        for r, t, p in zip(records, y, pred):
            if t == a:
                by_source.setdefault(re.sub(r"@\w+", "", r.get("source") or "?"), []).append(p)
        if len(by_source) > 1:
            for source, guesses in sorted(by_source.items()):
                wrong = Counter(g for g in guesses if g != a).most_common(1)
                rows.append([a, f"`{source}`", len(guesses), f"{sum(g == a for g in guesses) / len(guesses):.3f}",
                             f"{wrong[0][0]} ({wrong[0][1]})" if wrong else "—"])
    return rows


def period(record: dict) -> str:
    """Lermontov's periods: the juvenilia of the Moscow boarding school (1828-1829), the university
    and cadet years (1830-1834), the mature poems (1835-1841)."""
    m = re.search(r"18[0-4]\d", record.get("year") or "")
    if not m:
        return "year not given"
    year = int(m.group())
    return "1828-1829" if year < 1830 else "1830-1834" if year < 1835 else "1835-1841"


GENRES = (  # (kind, what its title says), the first that matches; a part of a longer work before all
    ("epigram, epitaph, madrigal, inscription", r"эпиграм|эпитаф|мадригал|надпис"),
    ("addressed: to someone, an epistle, an album, in memory", r"^\(?к |послани|посвящ|альбом|^\(?друг|памяти"),
    ("song, romance, ballad", r"песн|романс|баллад"),
    ("imitation or translation", r"подраж|^\(?из |перевод"),
)


def genre(record: dict) -> str:
    """A poem's kind as its title names it (``GENRES``): the genres where a poet's voice may give way to
    a form's conventions. Parts of a longer work (split for the corpus, or titled a fragment) and untitled
    poems are their own classes."""
    title = (record.get("title") or "").strip().lower()
    if record.get("part") is not None or "отрыв" in title:
        return "part of a longer work, or a fragment"
    if not title:
        return "untitled"
    return next((kind for kind, pattern in GENRES if re.search(pattern, title)), "other titled poems")


def length_class(record: dict) -> str:
    n = record.get("lines") or len([ln for ln in record["text"].split("\n") if ln.strip()])
    return "up to 8 lines" if n <= 8 else "9-16 lines" if n <= 16 else "over 16 lines"


def judge_scans(records: list[dict]) -> list:
    """Each poem scanned as the judge's prosody block scans it: normalised as the judge normalises any
    input (``Normaliser``: cleaning, ``edition_free``), its first ``PROSODY_MAX_LINES`` lines."""
    from poetbench.style.features import Normaliser, prosody_scans

    return prosody_scans(Normaliser().transform([r["text"] for r in records]))


def meter(scan) -> str:
    """A scanned poem's meter; iambs and trochees with their feet."""
    return f"{scan.meter}{scan.feet}" if scan.meter in ("iamb", "trochee") else scan.meter


def by_meter(scans: list, y: np.ndarray, pred: np.ndarray, least: int = 5) -> list[list]:
    """Rows of (meter, Lermontov's poems, his CV recall, his errors to Pushkin, Pushkin's poems, his CV
    recall, his errors to Lermontov) for the meters of at least ``least`` of Lermontov's poems, commonest
    first (``scans``: each poem's ``judge_scans``)."""
    seen: dict[str, dict[str, list[str]]] = {}
    for s, t, p in zip(scans, y, pred):
        if t in ("lermontov", "pushkin"):
            seen.setdefault(meter(s), {"lermontov": [], "pushkin": []})[t].append(p)
    rows = []
    for m, got in sorted(seen.items(), key=lambda kv: -len(kv[1]["lermontov"])):
        if len(got["lermontov"]) >= least:
            row = [m]
            for poet, rival in (("lermontov", "pushkin"), ("pushkin", "lermontov")):
                v = got[poet]
                row += [len(v), f"{sum(p == poet for p in v) / len(v):.3f}" if v else "—", sum(p == rival for p in v)]
            rows.append(row)
    return rows


def iamb4_profiles(scans: list, y: np.ndarray) -> list[list]:
    """Rows of (poet, poems, then mean ± sd over the poems of each ``stress_profile`` figure) for
    Lermontov's and Pushkin's poems in iambic tetrameter: how far the rhythm of the meter they share
    tells them apart."""
    from poetbench.style.features import stress_profile

    keys = ["ictus=iamb4:1", "ictus=iamb4:2", "ictus=iamb4:3", "weak_stress=iamb"]
    rows = []
    for poet in ("lermontov", "pushkin"):
        got = [stress_profile(s) for s, t in zip(scans, y) if t == poet and s.meter == "iamb" and s.feet == 4]
        v = np.array([[g[k] for k in keys] for g in got if g]).reshape(-1, len(keys))
        rows.append([poet, len(v), *(f"{m:.3f} ± {sd:.3f}" for m, sd in zip(v.mean(0), v.std(0)))] if len(v)
                    else [poet, 0, *["—"] * len(keys)])
    return rows


def breakdown(pairs: list[tuple[dict, str]], key) -> list[list]:
    """Rows of (class, poems, CV recall, errors to pushkin) over (record, predicted) pairs."""
    groups: dict[str, list[str]] = {}
    for r, p in pairs:
        groups.setdefault(key(r), []).append(p)
    return [[k, len(v), f"{sum(p == 'lermontov' for p in v) / len(v):.3f}", sum(p == "pushkin" for p in v)]
            for k, v in sorted(groups.items())]


def attribution(model, config, poets: list[str]) -> float:
    """Share of the poets' held-out poems attributed to their own poet."""
    from poetbench.style.classifier import split_texts

    texts, labels, _ = split_texts(config, poets, "test")
    return sum(p == y for p, y in zip(model.predict(texts), labels)) / len(labels)


# what the sources set that is not verse, one of each kind the shared corpora have: (name, line, where)
EDITION_MARKS = [("a line of spaced dots (Lermontov's source)", ". . . . . . . . . .", 4),
                 ("a line of ellipses (Pushkin's)", "………………", 4), ("a line of middle dots (Yesenin's)", "· · ·", 4),
                 ("a lone dash line (Pushkin's)", "—", 4), ("a date line", "1916", None),
                 ("a subtitle in parentheses (Lermontov's)", "(Из Шиллера)", 0)]


def edition_marks(model, config, poets: list[str]) -> list[list]:
    """For each of ``EDITION_MARKS``, added to every held-out poem of the poets (as its first line, after
    its fourth, or last): the poet whose mean probability rises most over the other poets' poems, by how
    much, and how many of those poems then go to that poet. A judge that reads no edition moves by ~0."""
    from poetbench.style.classifier import split_texts

    texts, labels, _ = split_texts(config, poets, "test")
    labels, authors = np.array(labels), list(model.authors)
    before = model.predict_proba(texts)
    rows = []
    for name, line, where in EDITION_MARKS:
        marked = []
        for t in texts:
            lines = t.split("\n")
            at = len(lines) if where is None else where
            marked.append("\n".join(lines[:at] + [line] + lines[at:]))
        after = model.predict_proba(marked)
        rise = {a: float((after - before)[labels != a, j].mean()) for j, a in enumerate(authors) if a in poets}
        top = str(max(rise, key=rise.get))
        j = authors.index(top)
        moved = int(((after.argmax(1) == j) & (before.argmax(1) != j) & (labels != top)).sum())
        if rise[top] < 0.0005:  # no poet gains: the mark is not read
            rows.append([name, f"`{line}`", "none", f"{max(rise[top], 0.0):+.3f}", "0"])
        else:
            rows.append([name, f"`{line}`", top, f"{rise[top]:+.3f}", f"{moved} of {int((labels != top).sum())}"])
    return rows


def pool_draws(model, config, draws: int = 5) -> list[float]:
    """Macro-F1 on pools of 10 held-out poems for ``draws`` draws of the pools (the report's is the
    first): how much the figure owes to which poems were pooled. The poems are scored once."""
    from poetbench.style.classifier import pooled_report, split_texts

    texts, labels, _ = split_texts(config, model.authors, "test")
    proba = model.predict_proba(texts)
    return [pooled_report(proba, labels, model.authors, seed=s)["macro_f1"] for s in range(draws)]


def main() -> None:
    run_judge_bench(run)


def run() -> None:
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
        cv = cross_validated(config, model.authors)
        draws = [cv] + [cross_validated(config, model.authors, seed=s, breakdowns=False) for s in range(1, DRAWS)]
        marks = edition_marks(model, config, poets)
        pools = pool_draws(model, config)
    per = report["per_author"]
    other = model.meta.get("other") or {}
    rows = [
        ["training time (features + calibrated SVM)", f"{model.meta['train_seconds']:.1f} s", "< 30 s"],
        ["trained on", f"{' + '.join(model.meta['train_splits'])} splits ({model.meta['train_poems']} poems)", ""],
        ["held-out poems (test splits)", report["poems"], ""],
        ["poem-level accuracy", f"{report['accuracy']:.3f}", ""],
        ["poem-level macro-F1 (all classes, `other` included)", f"{report['macro_f1']:.3f}", ""],
        ["the poets' poems only: accuracy / macro-F1 over the poets",
         f"{report['poets']['accuracy']:.3f} / {report['poets']['macro_f1']:.3f}" if "poets" in report else "—",
         "≥ 0.90 / ≥ 0.93"],
        ["pools of 10 poems: macro-F1", f"{report['pooled']['macro_f1']:.3f} ({min(pools):.3f}–{max(pools):.3f} over "
         f"{len(pools)} draws of the pools)", "≥ 0.98"],
        ["odds weight of `other` (at most 0.5% of the poets' poems to `other` in CV)",
         f"{model.pipeline.named_steps['classify'].weight_:.4f}", ""],
        ["saved model size", f"{size_mb:.1f} MB", ""],
        ["`other` poems left out (share a line of 20+ letters with a poet)", other.get("left_out", "—"), ""],
        ["poets' held-out poems attributed to their poet: closed-set (no `other`)", f"{closed_attr:.3f}", ""],
        ["... open-set (with `other`)", f"{open_attr:.3f}", "≥ closed-set − 0.01"],
    ] + [[f"{a}: precision / recall (n)", f"{m['precision']:.3f} / {m['recall']:.3f} ({m['support']})",
          "recall ≥ 0.90 for seed authors" if a in ("pushkin", "lermontov") else ""] for a, m in per.items()]
    rows.insert(5, [f"{cv['folds']}-fold CV inside train + val (works kept whole): macro-F1, mean ± sd",
                    f"{cv['macro_f1'][0]:.3f} ± {cv['macro_f1'][1]:.3f}", ""])
    rows.insert(6, ["... the poets' poems only: macro-F1 over the poets (CV, pooled)", f"{cv['poets_macro_f1']:.3f}",
                    "≥ 0.93"])
    for a, (m, sd) in cv["recall"].items():
        rows.append([f"{a}: CV recall, mean ± sd", f"{m:.3f} ± {sd:.3f}", ""])
    md = markdown_table(["measure", "value", "target"], rows)
    over = {"macro-F1 over the poets": [d["poets_macro_f1"] for d in draws],
            **{f"CV recall {a}": [d["recall"][a][0] for d in draws] for a in cv["recall"]}}
    md += (f"\n\nThe same CV on {DRAWS} draws of the folds (seeds 0 to {DRAWS - 1}: the same poems and works, other "
           f"folds; seed 0 is the benches' own, seed {SECOND_DRAW} the one a choice must pass on too), to show how far "
           "a draw alone moves these figures; the mean over the draws is the steadier figure. Used for choosing: "
           "nothing.\n\n"
           + markdown_table(["measure", *[f"seed {s}" for s in range(DRAWS)], "mean ± sd over the draws"],
                            [[name, *[f"{v:.3f}" for v in values], f"{np.mean(values):.3f} ± {np.std(values):.3f}"]
                             for name, values in over.items()]))
    labels = cv["labels"]
    md += "\n\nCross-validated confusion matrix (train + val, rows: true, columns: predicted):\n\n" + markdown_table(
        ["true \\ predicted", *labels], [[a, *row] for a, row in zip(labels, cv["confusion"])])
    lermontov = [w for w in cv["wrong"] if w["true"] == "lermontov"]
    if lermontov:
        parts = sum(w["part"] is not None for w in lermontov)
        md += (f"\n\nLermontov's poems misattributed in CV: {len(lermontov)} (to "
               + ", ".join(f"{k} {v}" for k, v in Counter(w["predicted"] for w in lermontov).most_common())
               + f"); {parts} of them are parts of a long work split for the corpus; their median length "
               f"{int(np.median([w['lines'] for w in lermontov]))} lines.")
        for name, rows_by in cv["by"].items():
            if name not in ("source", "meter", "profile", "pulls", "pull terms"):
                md += (f"\n\nLermontov's CV recall by {name}:\n\n"
                       + markdown_table([name, "poems", "CV recall", "errors to pushkin"], rows_by))
    if cv["by"].get("meter"):
        md += ("\n\nLermontov's and Pushkin's CV recall by meter (as the judge's prosody block scans a poem; the "
               "meters of 5 or more of Lermontov's poems). Used for choosing: nothing.\n\n"
               + markdown_table(["meter", "Lermontov's poems", "CV recall", "errors to pushkin", "Pushkin's poems",
                                 "CV recall", "errors to lermontov"], cv["by"]["meter"]))
        md += ("\n\nThe rhythm of the meter they share: over Lermontov's and Pushkin's train + val poems in iambic "
               "tetrameter, as that block scans them, the share of a poem's lines stressed on each ictus but the last, "
               "and with a stress off the beat, most often a monosyllable's (`features.stress_profile`: mean ± sd "
               "over the poems). bench/classifier_choices.py tried the profile in the judge (`rhythm=True`). Used "
               "for choosing: nothing.\n\n"
               + markdown_table(["poet", "poems", "ictus 1", "ictus 2", "ictus 3", "stress off the beat"],
                                cv["by"]["profile"]))
    if cv["by"].get("pulls"):
        md += ("\n\nWhat moves Lermontov's poems to Pushkin (bench/_pulls.py): the judge's SVM over the poets decides "
               "between the two by the difference of their decision values, which splits exactly into one share per "
               "feature block (its weights on the block's columns times the poem's features, as the judge weighs "
               "them) and the intercepts'. Mean share of each block, in CV (positive: toward Pushkin). A block whose "
               "share is higher in the poems lost to Pushkin than in those kept is what moves them. Used for "
               "choosing: nothing.\n\n"
               + markdown_table(["block", "Lermontov's poems given to Pushkin", "Lermontov's poems kept",
                                 "Pushkin's poems kept"], cv["by"]["pulls"])
               + "\n\nThe terms of each block that pull those lost poems to Pushkin most: a term's mean share per "
               "lost poem less its mean share per kept poem (what the lost poems have, or lack, that the kept ones do "
               "not; lemmas; character n-grams, ␣ a space, ↵ a line break; function words; prosody's named "
               "figures):\n\n"
               + markdown_table(["block", "terms pulling the lost poems toward Pushkin (mean excess share)"],
                                cv["by"]["pull terms"]))
    if cv["by"]["source"]:
        md += ("\n\nCV recall by source edition, for the poets whose poems come from more than one (an "
               "edition may set other poets' poems too: Tyutchev's come from the edition of Yesenin's and from "
               "that of Blok's):\n\n"
               + markdown_table(["poet", "source", "poems", "CV recall", "commonest wrong guess"], cv["by"]["source"]))
    md += ("\n\nMarks of an edition: each mark below added to every poet's held-out poem (first line, after the "
           "fourth, or last), and the poet whose mean probability rises most over the other poets' poems. The "
           "judge takes out what an edition sets between the verses (`edition_free`, features version 10); the "
           "judge of version 9 read these marks: +0.099 for Lermontov from a line of spaced dots (10 poems moved "
           "to him), +0.060 for Pushkin from a line of ellipses (6), +0.059 for Yesenin from middle dots (7), "
           "+0.035 for Lermontov from a subtitle in parentheses (1). Used for choosing: nothing.\n\n"
           + markdown_table(["mark", "line", "poet it favours most", "mean rise of that poet's probability",
                             "other poets' poems that go to that poet"], marks))
    print(md)
    authors = ", ".join(model.authors)
    update_section("classifier", f"## Style classifier on the shared corpora ({authors})\n\n"
                   "Trained on the train + val splits; the figures marked CV are 5-fold cross-validation inside "
                   "them (what choices are to be made on), the others are on the held-out test splits (read once, "
                   "used for no choice). `other` is Rifma's dev split (Russian verse by none of the poets).\n\n" + md)
    update_json({"classifier_train_s": model.meta["train_seconds"], "classifier_macro_f1": round(report["macro_f1"], 4),
                 "classifier_attribution_open": round(open_attr, 4), "classifier_attribution_closed": round(closed_attr, 4),
                 "classifier_cv_macro_f1": round(cv["macro_f1"][0], 4),
                 "classifier_cv_draws": {name: [round(v, 4) for v in values] for name, values in over.items()}})
    for w in cv["wrong"]:
        if w["true"] == "lermontov":
            print(json.dumps(w, ensure_ascii=False))


if __name__ == "__main__":
    main()
