"""Word stress on Rifma dev: poetbench's engine beside the stress placers a user would otherwise pick.

    .venv/bin/python bench/stress_peers.py [--rifma PATH] [--sample N]

Peers (optional extras, never required: ``pip install 'poetbench[peers]'``; both bundle their models):
``silero-stress`` and ``ruaccent-predictor``. The metric (``score_lines``; bench/prosody_accuracy.py and bench/stress_cv.py use it too): polysyllabic
words whose gold markup (``accentuation_markup``) stresses one vowel, the placer right when it
stresses exactly that vowel. Each placer gets the plain text line by line; poetbench's engine gets
whole poems (its meter resolves what the dictionary leaves open, as `poetbench scan` does).

silero-stress and the engine run on the whole split; ruaccent-predictor (a character-level
transformer, about 0.8 s a line on this CPU) on a fixed sample of the first ``--sample`` poems, where
all three are also compared. Where a peer is right and the engine wrong, the word is classed as
unknown to the dictionary, a homograph (the dictionary has several readings) or other (one reading,
yet the verse stresses another vowel). The fallback question (use a peer for the engine's unknown
words) is answered by 5-fold cross-validation over poems: the gain in each fold, mean and sd.
Nothing here changes the engine unless that gain is positive in every fold.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

from poetbench.prosody import scan_record  # noqa: E402
from poetbench.prosody.stress import ACUTE, default_dictionary, key_of, marked_vowels, vowel_count  # noqa: E402
from poetbench.words import readable  # noqa: E402

VOW = set("аеёиоуыэюяАЕЁИОУЫЭЮЯ")
GOLD_WORD = re.compile(r"[А-Яа-яЁё\u0301\u0300]+")
PLUS_WORD = re.compile(r"[А-Яа-яЁё+\u0300]+")


def gold_words(line: str) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for w in GOLD_WORD.findall(line.replace("\u0300", "")):
        out.append((w.replace(ACUTE, ""), marked_vowels(w)))
    return out


def plus_words(line: str) -> list[tuple[str, tuple[int, ...]]]:
    """Words of a ``+``-before-the-vowel line (silero; ruaccent's synthesis format): (word, stressed)."""
    out = []
    for w in PLUS_WORD.findall(line.replace("\u0300", "")):
        marks, plain = list(marked_vowels(w, "+", before=True)), w.replace("+", "")
        if not marks and "ё" in plain.lower():  # ruaccent leaves ё unmarked: it is always stressed
            marks = [1 + [c for c in plain.lower() if c in VOW].index("ё")]
        out.append((plain, tuple(marks)))
    return out


def engine_words(poem_markup: str) -> list[list[tuple[str, tuple[int, ...]]]]:
    return [gold_words(line) for line in poem_markup.split("\n")]


def score_lines(pred_lines, gold_lines, unmarked: bool = False):
    """Per evaluated word: (word, gold, predicted) for polysyllabic words with one gold stress (and,
    with ``unmarked``, those the markup leaves unstressed: gold ())."""
    out = []
    for pl, gl in zip(pred_lines, gold_lines):
        if len(pl) != len(gl):
            continue
        for (pw, ps), (gw, gs) in zip(pl, gl):
            if vowel_count(gw) < 2 or len(gs) > 1 or (not gs and not unmarked):
                continue
            out.append((gw, gs, ps))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rifma", default="../shared/prosody/rifma_dev.jsonl")
    ap.add_argument("--sample", type=int, default=40, help="poems for the slow peer (ruaccent-predictor)")
    args = ap.parse_args()
    # every placer reads the text as the engine does (words.readable: look-alike letters, invisible characters)
    rows = [json.loads(line) for line in open(args.rifma, encoding="utf-8")]
    for r in rows:
        r["poem_text"], r["accentuation_markup"] = map(readable, (r["poem_text"], r["accentuation_markup"]))
    dic = default_dictionary()
    gold = [[gold_words(line) for line in r["accentuation_markup"].split("\n")] for r in rows]
    results, per_poem = {}, {}

    t0 = time.time()
    engine = [score_lines(engine_words(scan_record({"poem_text": r["poem_text"]}, dic)["accented_text"]), g)
              for r, g in zip(rows, gold)]
    results["poetbench"] = (engine, time.time() - t0)

    peers = {}
    try:
        import torch
        from silero_stress import load_accentor as silero_loader

        torch.set_num_threads(2)
        silero = silero_loader()
        peers["silero-stress"] = (lambda lines: [silero(line) for line in lines], len(rows))
    except ImportError:
        print("silero-stress is not installed (pip install silero-stress): left out")
    try:
        import ruaccent

        ru = ruaccent.load_accentor()
        peers["ruaccent-predictor"] = (lambda lines: ru(lines, format="synthesis", batch_size=64), args.sample)
    except ImportError:
        print("ruaccent-predictor is not installed (pip install ruaccent-predictor): left out")
    for name, (place, n) in peers.items():
        t0 = time.time()
        scored = []
        for r, g in zip(rows[:n], gold[:n]):
            lines = r["poem_text"].split("\n")
            done = place([line for line in lines if line.strip()]) if any(line.strip() for line in lines) else []
            it = iter(done)
            out_lines = [plus_words(next(it)) if line.strip() else [] for line in lines]
            scored.append(score_lines(out_lines, g))
        results[name] = (scored, time.time() - t0)

    def acc(scored):
        words = [w for poem in scored for w in poem]
        return sum(g == p for _, g, p in words) / max(1, len(words)), len(words)

    table = []
    n_sample = args.sample
    for name, (scored, secs) in results.items():
        a, n = acc(scored)
        a_s, n_s = acc(scored[:n_sample])
        words = sum(len(p) for p in scored)
        table.append([name, f"{a:.2%}" if len(scored) == len(rows) else "—", f"{n}" if len(scored) == len(rows) else "—",
                      f"{a_s:.2%} ({n_s} words)", f"{words / secs:,.0f}"])
    md = markdown_table(["placer", f"accuracy, all {len(rows)} poems", "words", f"accuracy, first {n_sample} poems",
                         "words/s (2 threads)"], table)

    # where a peer is right and the engine wrong: why
    notes = []
    fallback = {}
    for name, (scored, _) in results.items():
        if name == "poetbench":
            continue
        why = Counter()
        for poem_e, poem_p in zip(engine, scored):
            if len(poem_e) != len(poem_p):
                continue
            for (w, g, pe), (_, _, pp) in zip(poem_e, poem_p):
                if pp == g and pe != g:
                    options = dic.lookup(key_of(w))
                    why["unknown to the dictionary" if options is None else
                        "homograph (several readings)" if len(set(options.primary)) > 1 else "other (one reading)"] += 1
        notes.append(f"{name} right where the engine is wrong: " + ", ".join(f"{k} {v}" for k, v in why.most_common()))
        # the fallback for unknown words, 5-fold CV over poems: gain per fold
        n = len(scored)
        folds = np.array_split(np.random.default_rng(0).permutation(n), 5)
        gains = []
        for fold in folds:
            base_ok = fall_ok = total = 0
            for i in fold:
                if len(engine[i]) != len(scored[i]):
                    continue
                for (w, g, pe), (_, _, pp) in zip(engine[i], scored[i]):
                    total += 1
                    base_ok += pe == g
                    fall_ok += (pp if dic.lookup(key_of(w)) is None else pe) == g
            gains.append((fall_ok - base_ok) / max(1, total))
        fallback[name] = (float(np.mean(gains)), float(np.std(gains)), all(g > 0 for g in gains))
        notes.append(f"engine + {name} for the dictionary's unknown words: {np.mean(gains):+.2%} ± {np.std(gains):.2%} "
                     f"over 5 folds ({'positive in every fold' if fallback[name][2] else 'not positive in every fold'})")
    print(md)
    for note in notes:
        print(note)
    body = ("## Word stress against peers (Rifma dev)\n\n" + md + "\n\n" + "\n".join(f"- {n}" for n in notes) +
            "\n\nThe engine's figure is its own on the same words as bench/prosody_accuracy.py (metrically "
            "resolved, whole poems). No figure here was used to choose anything in the engine.")
    update_section("stress-peers", body)
    update_json({f"stress_peer_{k.replace('-', '_')}": round(acc(v[0][:n_sample])[0], 4) for k, v in results.items()})


if __name__ == "__main__":
    main()
