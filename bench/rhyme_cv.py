"""The rhyme engine's rules, re-selected by cross-validation inside Rifma dev.

    .venv/bin/python bench/rhyme_cv.py [--rifma PATH] [--folds 5]

Every score and switch of the scheme decoder (``rhyme.SCORES``, ``rhyme.RULES``, the slant
threshold, the distance step, the skeleton factor, the window, and the weights the scan gives other
readings of a line-final word) is chosen again in each fold: coordinate ascent from the shipped values
over a fixed grid (each value tried in turn, ties keep the shipped one; two passes), on the other
folds only, then scored on the held-out fold. A value of 0 switches a slant class or a reading off, so
the grid also asks whether each rule should exist at all. The held-out mean of the re-selected rules
is an honest estimate of the selection itself; beside it, the shipped rules on the same folds. The
shipped rules change only where the re-selected ones beat them on held-out folds by more than the
folds' standard deviation.

The scan runs once (the line keys and their weights do not depend on these values): each stanza's
decoder inputs are recorded, with the scan's reading weights replaced by markers, and the decoder
is re-run per candidate. Prints a table and updates bench/RESULTS.md (section rhyme-cv) and
bench/results.json (``rhyme_cv_shipped``, ``rhyme_cv_reselected``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, real_gain, update_json, update_section  # noqa: E402

import poetbench.prosody.rhyme as R  # noqa: E402
import poetbench.prosody.scan as S  # noqa: E402

WEIGHTS = ("SHIFTED_STRESS_WEIGHT", "SHIFTED_FINAL_WEIGHT", "GUESSED_STRESS_WEIGHT", "COMPOUND_WEIGHT")
MARKERS = {name: 0.5 + 0.001 * (i + 1) for i, name in enumerate(WEIGHTS)}  # no real weight takes these
GRID = {
    "threshold": [0.66, 0.68, 0.70, 0.72, 0.74, 0.76, 0.78],
    "dist_step": [0.0, 0.025, 0.05, 0.075, 0.1],
    "skeleton_factor": [0.8, 0.83, 0.85, 0.87, 0.9, 0.93],
    "window": [3, 4, 5, 6],
    "score:vowels": [0, 0.8, 0.85, 0.9, 0.95],
    "score:voicing": [0, 0.7, 0.75, 0.8, 0.85],
    "score:trailing": [0, 0.75, 0.8, 0.85, 0.9],
    "score:closed": [0, 0.7, 0.75, 0.8, 0.85],
    "score:closed_longer": [0, 0.7, 0.75, 0.8, 0.85],
    "score:closed_velar": [0, 0.75, 0.8],
    "score:open_closed": [0, 0.75, 0.8, 0.85],
    "score:mono_end": [0, 0.7, 0.75, 0.8],
    "score:form": [0, 0.5],
    "rule:exact_links": [False, True],
    "rule:rubai": [False, True],
    **{f"weight:{w}": [0, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0] for w in WEIGHTS},
}


def shipped() -> dict:
    return {"threshold": R.SLANT_THRESHOLD, "dist_step": R.DIST_STEP, "skeleton_factor": R.SKELETON_FACTOR,
            "window": 4, **{f"score:{k}": v for k, v in R.SCORES.items()},
            **{f"rule:{k}": v for k, v in R.RULES.items()}, **{f"weight:{w}": getattr(S, w) for w in WEIGHTS}}


def record(rows: list[dict]) -> list[list[tuple]]:
    """Each poem's stanzas as the decoder's inputs (keys, marked weights, form pairs), from one scan."""
    real_scheme, real_weights = S.scheme, {w: getattr(S, w) for w in WEIGHTS}
    inputs: list[list[tuple]] = []

    def recorder(keys, window=4, threshold=R.SLANT_THRESHOLD, weights=None, form_pairs=()):
        inputs[-1].append((keys, weights, form_pairs))
        return real_scheme(keys, window, threshold, weights, form_pairs)

    try:
        S.scheme = recorder
        for w, m in MARKERS.items():
            setattr(S, w, m)
        dic = S.default_dictionary()
        for r in rows:
            inputs.append([])
            S.scan_poem(r["poem_text"], dic)
    finally:
        S.scheme = real_scheme
        for w, v in real_weights.items():
            setattr(S, w, v)
    return inputs


class Decoder:
    """Per-poem exact-match of the decoded schemes under a set of values (memoised)."""

    def __init__(self, inputs, gold):
        self.inputs, self.gold, self.memo = inputs, gold, {}
        self.saved = (R.DIST_STEP, R.SKELETON_FACTOR, dict(R.SCORES), dict(R.RULES))

    def __call__(self, p: dict) -> np.ndarray:
        key = tuple(sorted(p.items()))
        if key not in self.memo:
            self.memo[key] = self._run(p)
        return self.memo[key]

    @staticmethod
    def _set(dist_step, skeleton_factor, scores, rules) -> None:
        R.DIST_STEP, R.SKELETON_FACTOR = dist_step, skeleton_factor
        R.SCORES.update(scores)
        R.RULES.update(rules)
        R.rhyme_score.cache_clear()  # its scores depend on the values just set
        R._skeleton_similarity.cache_clear()

    def _run(self, p: dict) -> np.ndarray:
        self._set(p["dist_step"], p["skeleton_factor"], {k: p[f"score:{k}"] for k in R.SCORES},
                  {k: p[f"rule:{k}"] for k in R.RULES})
        real = {m: p[f"weight:{w}"] for w, m in MARKERS.items()}
        out = np.zeros(len(self.gold), bool)
        try:
            for n, stanzas in enumerate(self.inputs):
                parts = [R.scheme(keys, p["window"], p["threshold"], [[real.get(x, x) for x in ws] for ws in weights],
                                  form)[0] for keys, weights, form in stanzas]
                out[n] = R.normalise_scheme(" ".join(parts)) == self.gold[n]
        finally:
            self._set(*self.saved)
        return out


def select(decode: Decoder, idx: np.ndarray, start: dict, passes: int = 2) -> dict:
    """Coordinate ascent on the poems ``idx``: each value of each grid entry in turn; ties keep the
    current value."""
    p = dict(start)
    for _ in range(passes):
        changed = False
        for name, values in GRID.items():
            best_value, best = p[name], decode(p)[idx].mean()
            for v in values:
                score = decode({**p, name: v})[idx].mean()
                if score > best + 1e-12:
                    best_value, best = v, score
            if best_value != p[name]:
                p[name], changed = best_value, True
        if not changed:
            break
    return p


def rifma_folds(description: str) -> tuple[argparse.Namespace, list[dict], list[str], list[np.ndarray]]:
    """The command line of the Rifma CV benches; Rifma dev's poems, their gold schemes (relabelled) and
    the folds (shared with bench/rhyme_pairs.py)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--rifma", default="../shared/prosody/rifma_dev.jsonl")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(args.rifma, encoding="utf-8")]
    gold = [R.normalise_scheme(r["rhyme_scheme"]) for r in rows]
    return args, rows, gold, np.array_split(np.random.default_rng(0).permutation(len(rows)), args.folds)


def main() -> None:
    t0 = time.time()
    args, rows, gold, folds = rifma_folds(__doc__)
    decode = Decoder(record(rows), gold)
    base = shipped()
    now = decode(base)
    table, held_shipped, held_selected, changes = [], [], [], {}
    for f, test in enumerate(folds):
        train = np.concatenate([g for k, g in enumerate(folds) if k != f])
        p = select(decode, train, base)
        diff = {k: v for k, v in p.items() if v != base[k]}
        for k, v in diff.items():
            changes.setdefault(f"{k}={v}", []).append(f)
        held_shipped.append(now[test].mean())
        held_selected.append(decode(p)[test].mean())
        table.append([f"fold {f + 1} ({len(test)} poems)", f"{now[train].mean():.2%} → {decode(p)[train].mean():.2%}",
                      f"{held_shipped[-1]:.2%}", f"{held_selected[-1]:.2%}",
                      ", ".join(f"{k}={v}" for k, v in diff.items()) or "none"])
    table.append(["mean ± sd", "", f"{np.mean(held_shipped):.2%} ± {np.std(held_shipped):.2%}",
                  f"{np.mean(held_selected):.2%} ± {np.std(held_selected):.2%}", ""])
    off = sorted({k.split("=")[0] for k in changes if k.split("=")[1] in ("0", "False")})
    gain = np.mean(held_selected) - np.mean(held_shipped)
    sd = float(np.std(np.array(held_selected) - np.array(held_shipped)))
    whole = select(decode, np.arange(len(rows)), base)
    whole_diff = {k: v for k, v in whole.items() if v != base[k]}
    verdict = ("the re-selected rules beat the shipped ones on held-out folds by more than the folds' sd: adopt "
               f"{whole_diff}") if real_gain(np.array(held_selected) - np.array(held_shipped)) and whole_diff else (
        "the re-selected rules do not beat the shipped ones on held-out folds by more than the folds' sd, so the "
        "shipped rules stay")
    md = (f"`bench/rhyme_cv.py`: every score and switch of the rhyme decoder ({len(GRID)} of them: slant classes, "
          "threshold, distance step, skeleton factor, window, the exact-links and rubai rules, the weights of other "
          "readings of a line-final word; 0 switches a class or a reading off) chosen again by coordinate ascent "
          f"on {args.folds - 1} folds of Rifma dev and scored on the fifth. Measure: rhyme scheme exact per poem.\n\n"
          + markdown_table(["fold", "chosen on the other folds: shipped → re-selected", "held-out: shipped rules",
                            "held-out: re-selected rules", "what the selection changed"], table)
          + f"\n\nHeld-out gain of re-selecting: {gain:+.2%} (sd of the per-fold gain {sd:.2%}); {verdict}. "
          f"Selected on the whole split: {', '.join(f'{k}={v}' for k, v in whole_diff.items()) or 'no change'} "
          f"({decode(whole).mean():.2%} there, a dev figure). Changes chosen in several folds: "
          + (", ".join(f"{k} (folds {', '.join(str(i + 1) for i in v)})" for k, v in changes.items() if len(v) > 1)
             or "none")
          + ". Rules or readings switched off in some fold: " + (", ".join(off) or "none, in any fold") + ". Used for "
          "choosing: the training folds' figures only; the held-out columns chose nothing.")
    print(md)
    print(f"{time.time() - t0:.0f} s, {len(decode.memo)} candidate rule sets decoded")
    update_section("rhyme-cv", "## Rhyme rules chosen by cross-validation (Rifma dev)\n\n" + md)
    update_json({"rhyme_cv_shipped": round(float(np.mean(held_shipped)), 4),
                 "rhyme_cv_reselected": round(float(np.mean(held_selected)), 4)})


if __name__ == "__main__":
    main()
