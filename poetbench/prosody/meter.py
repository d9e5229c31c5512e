"""Words and lines to stress candidates, and the best-fitting meter of a line and of a poem.

A line is a sequence of syllables; each word contributes its vowels and its stress candidates.
Classical meters (iamb, trochee, dactyl, amphibrach, anapest) are scored by the licences Russian
verse allows: a strong position may go unstressed (small cost), a monosyllable may be stressed on a
weak position (free), but a polysyllable's stress on a weak position costs a full point. Dolnik
allows one or two unstressed syllables between stresses.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from poetbench.prosody.morph import finite_verb_tense, lemmas, part_of_speech_in
from poetbench.prosody.stress import ACUTE, VOWELS, Options, StressDictionary, key_of, marked_vowels, vowel_count
from poetbench.words import MARKED_WORD as WORD  # letters with the stress marks the scanner reads

_VOWEL_SET = frozenset(VOWELS + VOWELS.upper())
_POETIC_SOFT = re.compile(r"ь([яеюи])")
POSTFIX_PARTICLES = frozenset({"то", "ка", "либо", "нибудь", "таки", "де", "с", "тко"})
# (name, period, index of the first strong syllable)
METERS = [("iamb", 2, 1), ("trochee", 2, 0), ("dactyl", 3, 0), ("amphibrach", 3, 1), ("anapest", 3, 2)]
FEET_NAMES = {1: "monometer", 2: "dimeter", 3: "trimeter", 4: "tetrameter", 5: "pentameter",
              6: "hexameter", 7: "heptameter", 8: "octameter"}
OMIT_COST = {2: 0.15, 3: 0.4}  # an unstressed strong position: common in binary meters, rarer in ternary
WEAK_STRESS_COST = 1.0
FIT_THRESHOLD = 0.65  # a line fits a meter when its cost is at most this


@dataclass(slots=True)
class Word:
    text: str
    start: int  # offset in the line
    vowels: list[int]  # offsets (in the line) of its vowels
    options: tuple[int, ...]  # candidate stressed vowels, 1-based; () = none (clitic or no vowel)
    kind: str  # mark, yo, dict, suffix, mono, clitic, guess, none

    @property
    def poly(self) -> bool:
        return len(self.vowels) > 1


def _looked_up(key: str, capitalised: bool, nvowels: int, dic_id: int) -> tuple[tuple[int, ...], str]:
    """A word's readings from the dictionaries (or its lemma, or a guess) and where they came from."""
    dic = _DICTS[dic_id]
    opts = dic.lookup(key)
    if opts is not None and opts.name_only and not capitalised:
        opts = None
    if nvowels == 1:
        if opts is not None and 0 in opts.primary:
            return (), "clitic"
        return (1,), "mono"
    if opts is not None:
        readings = _readings(opts, nvowels)
        if readings and all(opts.yo):
            # every reading needs ё, but the text has е: a poetic -ье form may be meant (подо́бьем,
            # not подобьём): its readings go first
            readings = tuple(p for p in _poetic_soft(key, dic, nvowels) if p not in readings) + readings
            readings += _participle_without_yo(key, readings)
        readings += _mobile_verb(key, readings)
        if readings:
            return readings + _unstressed(key, opts), "dict"
    if "-" in key:  # hyphenated: the stress of the longest part that has one
        return (), "split"
    soft = _poetic_soft(key, dic, nvowels)
    if soft:
        return soft, "dict"
    if key.endswith(("ся", "сь")) and nvowels > 2:  # archaic/poetic reflexives: радуяся, становяся
        base = dic.lookup(key[:-2])
        if base is not None and base.primary and 1 <= base.primary[0] < nvowels:
            return tuple(p for p in base.without_yo() if 1 <= p < nvowels), "dict"
    lemma_guess = _stress_from_lemma(key, dic)
    if lemma_guess:
        return lemma_guess, "lemma"
    guess = dic.by_suffix(key)
    if guess:
        return guess, "suffix"
    return (max(1, nvowels - 1),), "guess"  # penultimate: the commonest place


# Where a polysyllable's stress comes from a guess (the suffix table, or the penultimate), its other
# syllables are readings too, after the guess: the meter then places the stress where the guess
# falls on a weak position. Chosen by bench/stress_cv.py (5-fold CV over Rifma dev poems: positive in
# every fold); lemma-derived forms and a dictionary word's one reading are not moved so.
METER_MOVES = frozenset({"suffix", "guess"})


@lru_cache(maxsize=100_000)
def _word_options(key: str, capitalised: bool, nvowels: int, dic_id: int) -> tuple[tuple[int, ...], str]:
    options, kind = _looked_up(key, capitalised, nvowels, dic_id)
    if kind in METER_MOVES and len(options) == 1:  # (a monosyllable is "mono" or "clitic")
        options += tuple(p for p in range(1, nvowels + 1) if p != options[0])
    return options, kind


def _readings(opts: Options | None, nvowels: int) -> tuple[int, ...]:
    """A dictionary entry's readings that fit a word of ``nvowels`` vowels, ё-readings last."""
    return tuple(p for p in opts.without_yo() if 1 <= p <= nvowels) if opts is not None else ()


# A past passive participle whose dictionary stress is on ё (осуждённый, разлучён) but written with е
# may carry the older stress one syllable earlier (осу́жденный, разлу́чен): that syllable is a reading
# too, after the dictionary's, so the meter may choose it. Chosen by bench/stress_cv.py.
_PARTICIPLE = re.compile(r"е(?:нн(?:ый|ая|ое|ые|ого|ому|ым|ом|ой|ую|ою|ых|ыми)|н|на|но|ны)$")
PARTICIPLE_WITHOUT_YO = True


def _participle_without_yo(key: str, readings: tuple[int, ...]) -> tuple[int, ...]:
    m = _PARTICIPLE.search(key) if PARTICIPLE_WITHOUT_YO else None
    if not m:
        return ()
    at = vowel_count(key[:m.start() + 1])  # the suffix's е, as a vowel index
    return (at - 1,) if at in readings and at > 1 and at - 1 not in readings else ()


# Mobile verb stress: verse of every period reads some verb forms both ways where the dictionary
# gives one reading (кати́тся / ка́тится, осве́тит / освети́т, прервала́сь / прерва́лась). A present or
# future form of a second-conjugation verb (-ишь, -ит, -им, -ите, -ят, -ат after ж ш ч щ; -ся, -сь)
# stressed on its ending's syllable or the one before has the other of the two as a reading too, after
# the dictionary's (MOBILE_VERB_STRESS); so has a reflexive past form in -лась, -лось, -лись stressed
# on its ending, with the syllable before (REFLEXIVE_PAST_STEM). The meter then chooses. Chosen by
# bench/stress_cv.py (a gain in every fold); the classes were found among Rifma dev's errors.
_SECOND_CONJUGATION = re.compile(r"(?:[ия]т|ишь|им|ите|[жшчщ]ат)(?:ся|сь)?$")
_REFLEXIVE_PAST = re.compile(r"л[аои]сь$")
MOBILE_VERB_STRESS = True
REFLEXIVE_PAST_STEM = True


# Function words of two or more syllables may go unstressed in verse (Пе́редо мно́й → Передо мно́й
# яви́лась ты́), as monosyllabic ones do: a reading 0 after the word's own, so that the meter leaves
# the word unstressed where its stress would fall on a weak position (a strong one keeps it). The
# classes (UNSTRESSED_POLYSYLLABLES): "dictionary", the polysyllables the dictionaries list with an
# unstressed reading (или, когда́, изо); "PREP" and "CONJ", pymorphy3's prepositions (перед, через,
# между) and conjunctions (если, чтобы, будто). Chosen by bench/stress_cv.py.
UNSTRESSED_POLYSYLLABLES: frozenset[str] = frozenset({"dictionary", "PREP", "CONJ"})


def _unstressed(key: str, opts: Options) -> tuple[int, ...]:
    if not UNSTRESSED_POLYSYLLABLES:
        return ()
    if "dictionary" in UNSTRESSED_POLYSYLLABLES and 0 in opts.primary:
        return (0,)
    return (0,) if part_of_speech_in(key, UNSTRESSED_POLYSYLLABLES - {"dictionary"}) else ()


# A compound whose first part is трёх- or четырёх- (трёхцве́тный, четырёхле́тний) is stressed in its
# second part: the prefix's written ё marks a secondary stress, which the dictionary lists as one more
# reading (`1",3`). So that ё does not decide the stress as a written ё does elsewhere; the rest of the
# word does; nor, spelled трех-, may the meter put the stress there (NUMERAL_PREFIX_YO). A class of
# Rifma dev's errors (all 4 such words there); chosen by bench/stress_cv.py.
_NUMERAL_PREFIX = re.compile(r"(?:тр[её]х|четыр[её]х)(?=\w*[аеёиоуыэюя])")  # е as in most texts
NUMERAL_PREFIX_YO = True


def _mobile_verb(key: str, readings: tuple[int, ...]) -> tuple[int, ...]:
    if len(readings) != 1:
        return ()
    last = vowel_count(key[:-2] if key.endswith(("ся", "сь")) else key)  # the ending's syllable
    if last < 2:
        return ()
    if MOBILE_VERB_STRESS and readings[0] in (last - 1, last) and _SECOND_CONJUGATION.search(key) \
            and finite_verb_tense(key) in ("pres", "futr"):
        return (last if readings[0] == last - 1 else last - 1,)
    if REFLEXIVE_PAST_STEM and readings[0] == last and _REFLEXIVE_PAST.search(key) \
            and finite_verb_tense(key) == "past":
        return (last - 1,)
    return ()


def _poetic_soft(key: str, dic: StressDictionary, nvowels: int) -> tuple[int, ...]:
    """Readings of a poetic -ье/-ья form from its -ие/-ия word (сомне́нье, сия́нье); () otherwise."""
    return _readings(dic.lookup(_POETIC_SOFT.sub(r"и\1", key)), nvowels) if _POETIC_SOFT.search(key) else ()


def _stress_from_lemma(key: str, dic: StressDictionary) -> tuple[int, ...] | None:
    """A form the dictionary lacks: pymorphy3's lemma, when the lemma's stress falls in the stem the
    two share (a stem-stressed paradigm keeps it there): бессмертьями -> бессмертье."""
    for lemma in lemmas(key):
        opts = dic.lookup(lemma.replace("ё", "е"))
        if opts is None or len(opts.primary) != 1 or opts.primary[0] < 1:
            continue
        common = 0
        while common < min(len(key), len(lemma)) and key[common] == lemma[common]:
            common += 1
        shared_vowels = sum(1 for ch in key[:common] if ch in _VOWEL_SET)
        if opts.primary[0] <= shared_vowels and common < len(key):
            return (opts.primary[0],)
    return None


_DICTS: list[StressDictionary] = []


def _dict_id(dic: StressDictionary) -> int:
    for i, d in enumerate(_DICTS):
        if d is dic:
            return i
    _DICTS.append(dic)
    return len(_DICTS) - 1


def word_stress(text: str, dic: StressDictionary) -> tuple[tuple[int, ...], str]:
    """Stress candidates of one word (1-based vowel indices) and where they came from."""
    return _word_stress(text, _dict_id(dic))


@lru_cache(maxsize=200_000)
def _word_stress(text: str, dic_id: int) -> tuple[tuple[int, ...], str]:
    dic = _DICTS[dic_id]
    lower = text.lower()
    if ACUTE in text:
        return marked_vowels(lower), "mark"
    nv = vowel_count(lower)
    if nv == 0:
        return (), "none"
    prefix = _NUMERAL_PREFIX.match(lower) if NUMERAL_PREFIX_YO else None
    if "ё" in lower and nv > 1:
        n = 0
        for i, ch in enumerate(lower):
            if ch in _VOWEL_SET:
                n += 1
                if ch == "ё" and (prefix is None or i >= prefix.end()):
                    return (n,), "yo"
    options, kind = _word_options(key_of(text), text[:1].isupper(), nv, _dict_id(dic))
    if prefix is not None:  # the prefix's vowels are no reading while the rest of the word has one
        after = vowel_count(lower[:prefix.end()])
        options = tuple(p for p in options if p > after) or options
    return options, kind


def scan_words(line: str, dic: StressDictionary) -> list[Word]:
    words: list[Word] = []
    append = words.append
    dic_id = _dict_id(dic)
    for m in WORD.finditer(line):
        start = m.start()
        for text, offset, vowels, opts, kind in _token_parts(m.group(), dic_id):
            append(Word(text, start + offset, [start + v for v in vowels] if start else list(vowels), opts, kind))
    return words


@lru_cache(maxsize=200_000)
def _token_parts(token: str, dic_id: int) -> tuple:
    """(text, offset, vowel offsets, options, kind) for each word of a token (a hyphenated token
    not in the dictionary is split; postfix particles such as -то are unstressed). Cached by token."""
    options, kind = _word_stress(token, dic_id)
    if kind != "split":
        pieces = [(token, 0, options, kind)]
    else:
        pieces, off = [], 0
        for n_part, piece in enumerate(token.split("-")):
            if n_part > 0 and piece.lower() in POSTFIX_PARTICLES:
                pieces.append((piece, off, (), "postfix"))
            else:
                pieces.append((piece, off, *_word_stress(piece, dic_id)))
            off += len(piece) + 1
    return tuple((text, off, tuple(off + i for i, ch in enumerate(text) if ch in _VOWEL_SET), opts, k)
                 for text, off, opts, k in pieces)


# --------------------------------------------------------------------------------------------
# Meter of a line
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class LineFit:
    meter: str
    feet: int
    cost: float
    stresses: list[int] = field(default_factory=list)  # chosen stressed syllable indices (0-based)
    allowed: set[int] = field(default_factory=set)  # every reading's syllable that suits the meter


# (syllables, ((candidate syllables of a polysyllable), ...), (stressable monosyllables),
#  ((candidate syllables of a polysyllable that may go unstressed), ...))
Structure = tuple


def line_structure(words: list[Word]) -> Structure:
    """What meter fitting needs of a line, hashable: (syllable count, candidate stressed syllables of
    each polysyllable, syllables of stressable monosyllables, candidate syllables of each polysyllable
    that may go unstressed: a reading 0). Clitics contribute syllables only, but the line's last word
    is stressed, as the scan marks it (яви́лась ты́): the line ends on an ictus."""
    n, poly, mono, optional = 0, [], [], []
    final = max((i for i, w in enumerate(words) if w.vowels and w.kind != "postfix"), default=-1)
    for i, w in enumerate(words):
        k = len(w.vowels)
        if k == 0:
            continue
        if w.poly or (w.options and w.kind == "mark"):
            cands = tuple(n + p - 1 for p in w.options if 1 <= p <= k) or (n + k - 1,)
            (optional if w.poly and 0 in w.options and i != final else poly).append(cands)
        elif w.kind not in ("clitic", "postfix") or i == final:
            mono.append(n)
        n += k
    return n, tuple(poly), tuple(mono), tuple(optional)


def fit_classical(structure: Structure, name: str, period: int, first: int) -> LineFit:
    n, poly, mono, optional = structure
    if n == 0:
        return LineFit(name, 0, 99.0)
    cost, chosen, allowed = 0.0, [], set()
    for cands in poly:
        good = [c for c in cands if c >= first and (c - first) % period == 0]
        allowed.update(good)
        if good:
            chosen.append(good[0])
        else:
            cost += WEAK_STRESS_COST
            chosen.append(cands[0])
    for cands in optional:  # stressed on an ictus, else unstressed at no cost
        good = [c for c in cands if c >= first and (c - first) % period == 0]
        allowed.update(good)
        chosen.extend(good[:1])
    stressed = set(chosen)
    stressed.update(i for i in mono if i >= first and (i - first) % period == 0)
    last = max(stressed) if stressed else -1
    if last < first or (last - first) % period:
        # the line's last stress (the rhyme's) must be an ictus
        cost += WEAK_STRESS_COST
        last_strong = first + max(0, (n - 1 - first)) // period * period
    else:
        last_strong = last
    ictuses = range(first, last_strong + 1, period)
    omitted = sum(1 for i in ictuses if i not in stressed)
    cost += OMIT_COST[period] * omitted  # an unstressed ictus: a licence with a small cost
    if first >= 2 and any(i < first for i in chosen):  # anapest with stress in the anacrusis
        cost += 0.3
    return LineFit(name, len(ictuses), round(cost, 3), sorted(stressed), allowed | stressed)


def fit_dolnik(structure: Structure) -> LineFit:
    n, poly, mono, optional = structure
    # monosyllables are left out: in a dolnik they are as often unstressed as stressed (so are the
    # polysyllables that may go unstressed; they keep their stress)
    use = sorted({c[0] for c in poly})
    if len(use) < 2:
        use = sorted(set(use) | set(mono) | {c[0] for c in optional})
    if len(use) < 2:
        return LineFit("dolnik", len(use), 99.0, use)
    gaps = [b - a - 1 for a, b in zip(use, use[1:])]
    bad = sum(1 for g in gaps if g not in (1, 2))
    # a dolnik mixes both intervals; all-equal intervals are a classical meter's business
    cost = float(bad) + (0.0 if {1, 2} <= set(gaps) else 0.3)
    return LineFit("dolnik", len(use), cost, use, set(use) | {c for cands in poly + optional for c in cands})


_METER_NAMES = [m[0] for m in METERS] + ["dolnik"]


@lru_cache(maxsize=50_000)
def _fits(structure: Structure) -> tuple[LineFit, ...]:
    # cached: lines of one poem (and of a corpus) share a handful of structures; treat as read-only
    return tuple([fit_classical(structure, *m) for m in METERS] + [fit_dolnik(structure)])


def line_fits(words: list[Word]) -> tuple[LineFit, ...]:
    return _fits(line_structure(words))


@lru_cache(maxsize=256)
def meter_label(meter: str, feet: int) -> str:
    if meter in ("dolnik", "free", "none") or feet == 0:
        return meter
    return f"{meter} {FEET_NAMES.get(feet, f'{feet}-foot')}"


@dataclass
class PoemMeter:
    meter: str
    feet: int
    regularity: float
    per_line: list[LineFit]


def poem_meter(lines_words: list[list[Word]]) -> PoemMeter:
    """Dominant meter: the one with the lowest total cost over the poem's lines; its feet are the
    most common foot count; regularity is the share of lines that fit it."""
    lines_words = [w for w in lines_words if any(x.vowels for x in w)]
    if not lines_words:
        return PoemMeter("none", 0, 0.0, [])
    all_fits = [line_fits(w) for w in lines_words]
    totals = [0.0] * len(_METER_NAMES)  # line_fits keeps the order of _METER_NAMES
    for fits in all_fits:
        for k, f in enumerate(fits):
            totals[k] += min(f.cost, 2.0)
    classical_best = min(range(len(METERS)), key=totals.__getitem__)
    dolnik = len(METERS)
    # dolnik only when it fits clearly better than every classical meter
    k_best = classical_best if totals[classical_best] <= totals[dolnik] + 0.3 * len(lines_words) else dolnik
    best = _METER_NAMES[k_best]
    per_line = [fits[k_best] for fits in all_fits]
    fitting = [f for f in per_line if f.cost <= FIT_THRESHOLD]
    regularity = len(fitting) / len(per_line)
    if regularity < 0.5:
        return PoemMeter("free", 0, round(regularity, 3), per_line)
    feet = Counter(f.feet for f in fitting).most_common(1)[0][0]
    return PoemMeter(best, feet, round(regularity, 3), per_line)
