"""Whole-poem analysis: stress marks, meter, rhyme scheme, clausulas and stanza form.

``scan_poem(text)`` is a pure function of the text (and the stress dictionary) returning plain data;
``poetbench scan`` and the benchmark both call it; ``scan_poems(texts)`` is the batch form.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from poetbench.prosody.meter import (
    FIT_THRESHOLD, METERS, LineFit, fit_classical, fit_dolnik, line_structure, meter_label, poem_meter,
)
from poetbench.prosody.readings import Word, scan_words
from poetbench.prosody.rhyme import ending_key, rhyme_key, scheme
from poetbench.prosody.stress import ACUTE, VOWELS, StressDictionary, default_dictionary
from poetbench.words import readable

CLAUSULA = {0: "masculine", 1: "feminine", 2: "dactylic"}
METER_SHAPE = {name: (period, first) for name, period, first in METERS}
# weight of a line-final word's reading that neither the dictionary nor the meter gives: such a
# reading may rhyme exactly or by the closest slant classes (0.85 x 0.9 other unstressed vowels,
# 0.85 x 0.85 another final consonant: заворо́жен / доро́же clear SLANT_THRESHOLD), not by weaker ones.
# Stressing a final vowel so (мяте́жные -> мятежные́) makes only an exact rhyme (Ру́си / Руси́)
SHIFTED_STRESS_WEIGHT = 0.85
SHIFTED_FINAL_WEIGHT = 0.75
# the other readings of a word the dictionary lacks weigh a little less than its guessed one, so that
# a rhyme needing two unlikely readings (a shifted one and a guessed one) does not count
GUESSED_STRESS_WEIGHT = 0.9
# a compound rhyme across the last two words (сра́ч я́ / безбра́чья) weighs as a whole-word one
COMPOUND_WEIGHT = 0.9
_JUNCTION = re.compile(r"[^а-яё\u0301]+(?=[яеёю])")
# the secondary stress of two-syllable postfixes (1-based vowel)
POSTFIX_STRESS = {"нибудь": 2, "либо": 1, "таки": 2}
MAX_LINES = 2000  # longer input is analysed up to here, so a huge text cannot stall a batch


@dataclass
class LineScan:
    text: str
    accented: str
    syllables: int
    pattern: str  # one char per syllable: "/" stressed, "-" unstressed
    meter: str
    clausula: str | None
    rhyme: str  # letter, or "-" (unrhymed), or "" (blank line)
    rhyme_score: float


@dataclass
class PoemScan:
    meter: str  # iamb, trochee, dactyl, amphibrach, anapest, dolnik, free, none
    feet: int
    meter_label: str  # "iamb tetrameter"
    regularity: float
    rhyme_scheme: str
    rhyme_rate: float  # share of lines with a rhyme partner
    exact_rhyme_share: float  # of rhymed lines, those rhyming exactly
    clausulas: dict[str, int]
    stanzas: int
    stanza_sizes: list[int]
    quatrains: int
    four_quatrains: bool
    accented_text: str
    lines: list[LineScan] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _chosen_stresses(words: list[Word], fit: LineFit | None, feet: int = 0
                     ) -> tuple[list[int], list[int], int | None, int]:
    """Syllable index of each word's stress (or -1), choosing among readings the one the meter
    wants; the metrically acceptable alternatives for the line's last stressed word (a rhyme can
    still decide between them); and that word's index (None when nothing is stressed) with the
    syllables before it. A line-final clitic is stressed: the line ends on an ictus."""
    chosen, n = [], 0
    stressed = fit.allowed if fit else set()
    period, first = METER_SHAPE.get(fit.meter if fit else "", (0, 0))
    last_alts: list[int] = []
    last, n_before_last = None, 0
    last_vocalic = -1
    for i in range(len(words) - 1, -1, -1):
        if words[i].vowels and words[i].kind != "postfix":
            last_vocalic = i
            break
    for wi, w in enumerate(words):
        k = len(w.vowels)
        options = w.options
        if k == 0:
            chosen.append(-1)
            continue
        if not options:
            c = n if wi == last_vocalic else -1
        elif len(options) == 1 and wi != last_vocalic:  # one reading: nothing to choose
            c = n + options[0] - 1 if 1 <= options[0] <= k else -1
        else:
            cands = [n + p - 1 for p in options if 1 <= p <= k]
            # a word that may go unstressed (a reading 0) is, where the meter puts no stress on it
            fitting = [c for c in cands if c in stressed] or (
                [] if 0 in options and wi != last_vocalic and fit is not None else cands)
            if wi == last_vocalic and period and feet:  # the reading that gives the poem's feet first
                fitting.sort(key=lambda c: abs((c - first) // period + 1 - feet))
            c = fitting[0] if fitting else -1
            if wi == last_vocalic:
                last_alts = fitting
        chosen.append(c)
        if c >= 0:
            last, n_before_last = wi, n
        n += k
    return chosen, last_alts, last, n_before_last


def _key_at(line: str, v: int, tail: str | None = None) -> str:
    """The rhyme key from the stressed vowel at ``v`` to the line's end (or ``tail``); only the two
    letters before the vowel matter (support consonant, -ого)."""
    return rhyme_key(line[v:] if tail is None else tail, line[max(0, v - 2):v])


def _compound_key(line: str, words: list[Word], chosen: list[int], last: int) -> str:
    """A compound rhyme's key (безбра́чья / сра́ч я́, одино́ко / чесно́к а́): when the line ends on a
    monosyllable, the rhyme may start at the stress of the word before it and run across the space.
    A word-initial iotated vowel after the junction is read with its [j] (ть я = тья). "" when
    the line does not end so."""
    if len(words[last].vowels) != 1 or any(w.vowels for w in words[last + 1:]):
        return ""
    n = sum(len(w.vowels) for w in words[:last])
    for k in range(last - 1, -1, -1):
        n -= len(words[k].vowels)
        if not words[k].vowels:
            continue
        if chosen[k] >= 0:
            v = words[k].vowels[chosen[k] - n]
        elif len(words[k].vowels) == 1:  # a clitic takes the stress: что́ ли / бо́ли, мне́ бы / тре́бу
            v = words[k].vowels[0]
        else:
            return ""
        return _key_at(line, v, _JUNCTION.sub("ъ", line[v:].lower()))
    return ""


def _poroshok(stanza: list[int], lines: list[str], words: dict[int, list[Word]]) -> bool:
    """The порошок form: four lowercase lines, the last of at most three syllables after three long
    ones (9-8-9-2); its 2nd and 4th lines rhyme by definition, often loosely (избу́ / из бу́кв)."""
    if len(stanza) != 4 or any(lines[i] != lines[i].lower() for i in stanza):
        return False
    syllables = [sum(len(w.vowels) for w in words[i]) for i in stanza]
    return 1 <= syllables[3] <= 3 and min(syllables[:3]) >= 6


def _postfix_key(line: str, words: list[Word]) -> str:
    """A line ending on a two-syllable postfix (кто́-нибу́дь, где́-нибу́дь / гру́дь) may rhyme on the
    postfix's own secondary stress."""
    vocalic = [w for w in words if w.vowels]
    if not vocalic or vocalic[-1].kind != "postfix":
        return ""
    w = vocalic[-1]
    p = POSTFIX_STRESS.get(w.text.lower(), 0)
    if not 1 <= p <= len(w.vowels):
        return ""
    return _key_at(line, w.vowels[p - 1])


def _refit(words: list[Word], last: int, syllable: int, meter: str) -> LineFit | None:
    """The line's fit to the poem's meter once its rhyme has chosen the stress of the last word
    (at line syllable ``syllable``): that word then counts as if the stress were marked."""
    n_before = sum(len(w.vowels) for w in words[:last])
    w = words[last]
    pinned = Word(w.text, w.start, w.vowels, (syllable - n_before + 1,), "mark")
    structure = line_structure(words[:last] + [pinned] + words[last + 1:])
    if meter == "dolnik":
        return fit_dolnik(structure)
    return fit_classical(structure, meter, *METER_SHAPE[meter]) if meter in METER_SHAPE else None


def _accent(line: str, words: list[Word], chosen: list[int]) -> tuple[str, str, int]:
    marks, n = set(), 0
    for w, c in zip(words, chosen):
        if c >= 0:
            marks.add(w.vowels[c - n])
        n += len(w.vowels)
    out, prev = [], 0
    for i in sorted(marks):
        if i + 1 < len(line) and line[i + 1] == ACUTE:
            continue  # already marked in the input
        out.append(line[prev : i + 1])
        out.append(ACUTE)
        prev = i + 1
    out.append(line[prev:])
    pattern = ["-"] * n
    for c in chosen:
        if c >= 0:
            pattern[c] = "/"
    return "".join(out), "".join(pattern), n


def scan_poem(text: str, dic: StressDictionary | None = None, expected_stanzas: int = 4,
              expected_lines: int = 4) -> PoemScan:
    dic = dic or default_dictionary()
    raw_lines = readable(text).replace("\r\n", "\n").split("\n")[:MAX_LINES]
    verse = [(i, ln) for i, ln in enumerate(raw_lines) if ln.strip()]
    words = {i: scan_words(ln, dic) for i, ln in verse}
    pm = poem_meter([words[i] for i, _ in verse])
    fits = dict(zip([i for i, _ in verse if any(x.vowels for x in words[i])], pm.per_line))

    chosen: dict[int, list[int]] = {}
    keys: dict[int, list[str]] = {}
    endings: dict[int, tuple[str, bool]] = {}
    alts: dict[int, list[int]] = {}
    weights: dict[int, list[float]] = {}
    lasts: dict[int, int | None] = {}  # each line's last stressed word (the rhyme's), found once
    for i, ln in verse:
        chosen[i], last_alts, last, n_before = _chosen_stresses(words[i], fits.get(i), pm.feet)
        lasts[i] = last
        keys[i], alts[i], weights[i] = [""], [], [1.0]
        if last is not None:
            w = words[i][last]
            options = [chosen[i][last]] + [a for a in last_alts if a != chosen[i][last]]
            unknown = w.kind in ("suffix", "guess")
            # an unknown word's readings but the one the meter chose are guesses (GUESSED_STRESS_WEIGHT)
            weights[i] = [1.0] + [GUESSED_STRESS_WEIGHT if unknown else 1.0] * (len(options) - 1)
            if unknown or w.kind in ("dict", "lemma"):
                # the rhyme partner may tell an unknown word's stress, and poets shift a known word's
                # stress for a rhyme (Ру́си / Руси́): the word's other syllables on the meter's strong
                # positions are read too, weighed so that a shifted one needs a close rhyme
                period, first = METER_SHAPE.get(pm.meter, (0, 0))
                final = n_before + len(w.vowels) - 1
                final_open = w.text[-1].lower() in VOWELS
                for c in range(n_before, final + 1):
                    if c in options or (period and (c < first or (c - first) % period)):
                        continue
                    options.append(c)
                    if unknown:
                        weights[i].append(GUESSED_STRESS_WEIGHT)
                    elif c == final and final_open:
                        weights[i].append(SHIFTED_FINAL_WEIGHT)
                    else:
                        weights[i].append(SHIFTED_STRESS_WEIGHT)
            keys[i] = [_key_at(ln, w.vowels[c - n_before]) for c in options]
            alts[i] = options
            if last == len(words[i]) - 1:
                endings[i] = (w.text, len(w.vowels) == 1)
            compound = _compound_key(ln, words[i], chosen[i], last)
            if compound:
                keys[i].append(compound)
                weights[i].append(COMPOUND_WEIGHT)
        postfix = _postfix_key(ln, words[i])
        if postfix:
            keys[i].append(postfix)
            weights[i].append(1.0)

    # a line-final monosyllable may rhyme with another line's unstressed last syllable (мы / ри́тмы):
    # those candidate keys are only worth comparing when such a line exists
    if any(mono for _, mono in endings.values()):
        for i, (word, mono) in endings.items():
            keys[i].append(ending_key(word, mono))
            weights[i].append(1.0)

    # stanzas: blank-line separated blocks
    stanzas: list[list[int]] = []
    for i, ln in enumerate(raw_lines):
        if ln.strip():
            if not stanzas or (i > 0 and not raw_lines[i - 1].strip()):
                stanzas.append([])
            stanzas[-1].append(i)
    letters: dict[int, tuple[str, float]] = {}
    parts = []
    refitted = False
    for st in stanzas:
        form = ((1, 3),) if _poroshok(st, raw_lines, words) else ()
        sch, scores, picks = scheme([keys[i] for i in st], weights=[weights[i] for i in st], form_pairs=form)
        parts.append(sch)
        for i, c, sc, pick in zip(st, sch, scores, picks):
            letters[i] = (c, sc)
            if 0 < pick < len(alts[i]):  # the rhyme chose another reading of the line-final word
                chosen[i][lasts[i]] = alts[i][pick]
                refit = _refit(words[i], lasts[i], alts[i][pick], pm.meter)
                if refit is not None:
                    fits[i] = refit
                    refitted = True
    rhyme_scheme = " ".join(parts)
    regularity = pm.regularity
    if refitted and pm.meter not in ("free", "none"):
        regularity = round(sum(1 for f in fits.values() if f.cost <= FIT_THRESHOLD) / len(fits), 3)

    lines: dict[int, LineScan] = {}
    for i, ln in verse:
        accented, pattern, n = _accent(ln, words[i], chosen[i])
        last = lasts[i]
        clausula = CLAUSULA.get(n - 1 - chosen[i][last], "hyperdactylic") if last is not None else None
        fit = fits.get(i)
        label = meter_label(fit.meter, fit.feet) if fit and fit.cost <= FIT_THRESHOLD else ("free" if n else "none")
        lines[i] = LineScan(ln, accented, n, pattern, label, clausula, *letters[i])
    out_lines = [lines.get(i) or LineScan(ln, ln, 0, "", "", None, "", 0.0) for i, ln in enumerate(raw_lines)]
    rhymed = [l for l in out_lines if l.rhyme_score > 0]  # (the rubai's lettered third line is unrhymed)
    sizes = [len(s) for s in stanzas]
    quatrains = sum(1 for s in sizes if s == expected_lines)
    accented_text = "\n".join(l.accented for l in out_lines)
    if len(raw_lines) < len(text.split("\n")):
        accented_text += "\n" + "\n".join(text.split("\n")[MAX_LINES:])
    return PoemScan(
        meter=pm.meter, feet=pm.feet, meter_label=meter_label(pm.meter, pm.feet), regularity=regularity,
        rhyme_scheme=rhyme_scheme,
        rhyme_rate=round(len(rhymed) / len(verse), 3) if verse else 0.0,
        exact_rhyme_share=round(sum(1 for l in rhymed if l.rhyme_score >= 1.0) / len(rhymed), 3) if rhymed else 0.0,
        clausulas=dict(Counter(l.clausula for l in out_lines if l.clausula)),
        stanzas=len(stanzas), stanza_sizes=sizes, quatrains=quatrains,
        four_quatrains=sizes == [expected_lines] * expected_stanzas,
        accented_text=accented_text, lines=out_lines,
    )


@contextmanager
def paused_gc():
    """Python's cyclic garbage collector paused for a batch. The engine makes no reference cycles
    (reference counting frees all it allocates), while its word and rhyme caches grow into hundreds
    of thousands of objects that every full collection would walk again: about a fifth of the time
    of scanning a corpus. Restores the collector's previous state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def scan_poems(texts: Iterable[str], dic: StressDictionary | None = None, **kwargs) -> list[PoemScan]:
    """``scan_poem`` over many texts (the batch path of `poetbench scan --jsonl`, eval and the
    classifier features)."""
    dic = dic or default_dictionary()
    with paused_gc():
        return [scan_poem(t, dic, **kwargs) for t in texts]
