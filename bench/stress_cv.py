"""Which words' stress the meter may move, chosen by cross-validation over Rifma dev poems.

    .venv/bin/python bench/stress_cv.py [--rifma PATH]

The engine reads a word's stress from the dictionaries, else from its lemma, else from a guess (the
suffix table, or the penultimate syllable). For the kinds in ``readings.METER_MOVES`` a single reading
is not final: the word's other syllables are readings too, after it, and the meter chooses. Each
candidate set of kinds is scored with bench/prosody_accuracy.py's metric (polysyllabic words with
one gold stress, whole poems scanned as `poetbench scan` does) over 5 folds of poems; a kind is
moved only when moving it beats not moving it, and each switch in ``RULES`` is kept on only when on
beats off, by ``_results.CHOICE_RULE`` (the paired gain per fold).

Which polysyllabic function words may go unstressed (``readings.UNSTRESSED_POLYSYLLABLES``): the markup
marks the stress as read in the verse, so a word it leaves unmarked is unstressed there. The
standard metric leaves such words out, which would count every word the rule unstresses against it
and none for it; so these classes are judged on the same words plus the polysyllables the markup
leaves unmarked (gold: no stress). Rule, written down before the first run: the classes are added
in order (the dictionaries' unstressed readings, then prepositions, then conjunctions), each kept
only when it beats the row above on that measure by the same rule; the standard metric is reported
beside it. Prints a table and updates bench/RESULTS.md (section stress-cv) and bench/results.json
(``stress_cv_gain``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import CHOICE_RULE, markdown_table, real_gain, update_json, update_section  # noqa: E402
from stress_peers import engine_words, score_lines  # noqa: E402

import poetbench.prosody.meter as meter  # noqa: E402
import poetbench.prosody.readings as M  # noqa: E402
from poetbench.prosody import scan_record  # noqa: E402
from poetbench.prosody.stress import default_dictionary  # noqa: E402
from poetbench.words import readable  # noqa: E402

CANDIDATES = {
    "no word moved (the guess stands)": frozenset(),
    "guessed words (suffix table, penultimate)": frozenset({"suffix", "guess"}),
    "... and lemma-derived forms": frozenset({"suffix", "guess", "lemma"}),
    "... and a dictionary word's one reading": frozenset({"suffix", "guess", "lemma", "dict"}),
}


def set_moves(moves: frozenset) -> None:
    """Make ``moves`` the kinds the meter may move, emptying the caches that hold words' readings."""
    M.METER_MOVES = moves
    for cached in (M._word_options, M._word_stress, M._token_parts, meter._fits):
        cached.cache_clear()


# Switches of the stress rules, each scored on and off with the shipped moves, by the same folds
RULES = {"a -ённый participle written with е may take the stress one syllable earlier "
         "(`readings.PARTICIPLE_WITHOUT_YO`)": "PARTICIPLE_WITHOUT_YO",
         "a second-conjugation present/future form stressed on its ending or the syllable before may take the "
         "other (кати́тся / ка́тится; `readings.MOBILE_VERB_STRESS`)": "MOBILE_VERB_STRESS",
         "a reflexive past form in -лась/-лось/-лись stressed on its ending may take the syllable before "
         "(прервала́сь / прерва́лась; `readings.REFLEXIVE_PAST_STEM`)": "REFLEXIVE_PAST_STEM",
         "a трёх-/четырёх- compound is stressed after its prefix, whose ё is a secondary stress "
         "(трёхцве́тный; `readings.NUMERAL_PREFIX_YO`)": "NUMERAL_PREFIX_YO"}


# Which polysyllabic function words may go unstressed, each row adding a class to the one above
UNSTRESSED = {
    "none": frozenset(),
    "polysyllables the dictionaries list with an unstressed reading (или, когда, изо)": frozenset({"dictionary"}),
    "... and prepositions (перед, через, между)": frozenset({"dictionary", "PREP"}),
    "... and conjunctions (если, чтобы, будто)": frozenset({"dictionary", "PREP", "CONJ"}),
}


def per_poem_with(rows: list[dict], rule: str, value, dic) -> np.ndarray:
    """``per_poem`` with the shipped moves and the module switch ``rule`` set to ``value``."""
    saved = getattr(M, rule)
    setattr(M, rule, value)
    try:
        return per_poem(rows, M.METER_MOVES, dic)
    finally:
        setattr(M, rule, saved)


def per_poem(rows: list[dict], moves: frozenset, dic) -> np.ndarray:
    """(right, evaluated) words per poem with ``moves`` as the kinds the meter may move."""
    saved = M.METER_MOVES
    set_moves(moves)
    try:
        out = []
        for r in rows:
            pred = engine_words(scan_record({"poem_text": r["poem_text"]}, dic)["accented_text"])
            gold = engine_words(readable(r["accentuation_markup"]))
            words, every = score_lines(pred, gold), score_lines(pred, gold, unmarked=True)
            out.append((sum(g == p for _, g, p in words), len(words), sum(g == p for _, g, p in every), len(every)))
        return np.array(out)
    finally:
        set_moves(saved)


def ladder(accs: dict[str, np.ndarray]) -> tuple[str, dict[str, bool | None]]:
    """Nested candidates, each row adding to the one above, by their per-fold figures: whether each row
    beats the one above by the rule (None for the first), and the row kept: the last of the rows from
    the first on that each beat the one above."""
    beats, kept, above, previous = {}, None, None, None
    for name, acc in accs.items():
        beats[name] = None if above is None else real_gain(acc - above)
        if above is None or (beats[name] and kept == previous):
            kept = name
        above, previous = acc, name
    return kept, beats


def _beats(value: bool | None) -> str:
    return "—" if value is None else "yes" if value else "no"


def unstressed_section(rows: list[dict], dic, shipped_counts: np.ndarray, fold_acc) -> str:
    """The ``UNSTRESSED`` ladder (module docstring), as markdown."""
    counts = {name: shipped_counts if classes == M.UNSTRESSED_POLYSYLLABLES else
              per_poem_with(rows, "UNSTRESSED_POLYSYLLABLES", classes, dic) for name, classes in UNSTRESSED.items()}
    base_all, base = fold_acc(counts[next(iter(UNSTRESSED))], 2), fold_acc(counts[next(iter(UNSTRESSED))])
    kept, beats = ladder({name: fold_acc(c, 2) for name, c in counts.items()})
    table = [[name, f"{c[:, 2].sum() / c[:, 3].sum():.2%}", " ".join(f"{g:+.2%}" for g in fold_acc(c, 2) - base_all),
              f"{c[:, 0].sum() / c[:, 1].sum():.2%}", " ".join(f"{g:+.2%}" for g in fold_acc(c) - base),
              _beats(beats[name])] for name, c in counts.items()]
    shipped = next(n for n, m in UNSTRESSED.items() if m == M.UNSTRESSED_POLYSYLLABLES)
    words = int(counts[shipped][:, 3].sum() - counts[shipped][:, 1].sum())
    return ("\n\nWhich polysyllabic function words the meter may leave unstressed (`readings.UNSTRESSED_POLYSYLLABLES`; "
            "a word's reading 0, taken where its stress would fall on a weak position). The markup marks the stress as "
            "read in the verse, so the measure here also counts the polysyllables it leaves unmarked "
            f"({words} words; gold: no stress), which the standard metric leaves out. Rule, written down before the "
            "first run: each row adds a class to the one above and is kept only when it beats that row on this "
            "measure by the same rule; the standard metric is shown beside it.\n\n"
            + markdown_table(["unstressed where the meter puts no stress", "accuracy with unmarked words",
                              "gain per fold over none", "standard metric", "gain per fold over none",
                              "beats the row above"], table)
            + f"\n\nChosen by that rule: {kept}; shipped: {shipped}"
            + ("." if kept == shipped else ": they differ, change UNSTRESSED_POLYSYLLABLES."))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rifma", default="../shared/prosody/rifma_dev.jsonl")
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(args.rifma, encoding="utf-8")]
    dic = default_dictionary()
    folds = np.array_split(np.random.default_rng(0).permutation(len(rows)), 5)
    results = {name: per_poem(rows, moves, dic) for name, moves in CANDIDATES.items()}

    def fold_acc(counts: np.ndarray, col: int = 0) -> np.ndarray:
        """Per fold: the standard metric (``col`` 0) or the one with unmarked words (``col`` 2)."""
        return np.array([counts[f, col].sum() / counts[f, col + 1].sum() for f in folds])

    base = fold_acc(results["no word moved (the guess stands)"])
    accs = {name: fold_acc(counts) for name, counts in results.items()}
    gains = {name: acc - base for name, acc in accs.items()}
    kept, beats = ladder(accs)
    table = [[name, f"{counts[:, 0].sum() / counts[:, 1].sum():.2%}",
              f"{accs[name].mean():.2%} ± {accs[name].std():.2%}", " ".join(f"{g:+.2%}" for g in gains[name]),
              _beats(beats[name])] for name, counts in results.items()]
    shipped = next(n for n, m in CANDIDATES.items() if m == M.METER_MOVES)
    md = ("`bench/stress_cv.py`: which words' single stress reading the meter may move (their other syllables "
          "become readings after it), over 5 folds of Rifma dev poems; the metric of bench/prosody_accuracy.py. "
          f"A set of kinds is kept only when it beats the one before it: {CHOICE_RULE} (the rule of every bench/ "
          "script).\n\n"
          + markdown_table(["the meter may move", "accuracy, whole split", "mean ± sd over folds",
                            "gain per fold over no word moved", "beats the row above"], table)
          + f"\n\nChosen by that rule: {kept}; shipped: {shipped} (`readings.METER_MOVES`)"
          + ("." if kept == shipped else ": they differ, change METER_MOVES.")
          + " Used for choosing: the per-fold figures only; the independent data was not read.")
    rule_rows, keep = [], {}
    for name, switch in RULES.items():
        shipped_value = bool(getattr(M, switch))  # its scan is the shipped moves' row above
        counts = {shipped_value: results[shipped], not shipped_value: per_poem_with(rows, switch, not shipped_value, dic)}
        off, on = fold_acc(counts[False]), fold_acc(counts[True])
        keep[switch] = real_gain(on - off)
        rule_rows.append([name, f"{off.mean():.2%} → {on.mean():.2%}", " ".join(f"{g:+.2%}" for g in on - off),
                          "yes" if keep[switch] else "no", "on" if getattr(M, switch) else "off"])
    md += ("\n\nRules switched on and off with the shipped moves (kept when on beats off by the same rule):\n\n"
           + markdown_table(["rule", "mean over folds, off → on", "gain per fold", "kept by the rule", "shipped"],
                            rule_rows))
    if any(keep[s] != bool(getattr(M, s)) for s in keep):
        md += "\n\nA shipped switch differs from what the rule keeps: change it."
    md += unstressed_section(rows, dic, results[shipped], fold_acc)
    print(md)
    update_section("stress-cv", "## Word stress: which readings the meter may move (CV)\n\n" + md)
    update_json({"stress_cv_gain": round(float(gains[shipped].mean()), 4)})


if __name__ == "__main__":
    main()
