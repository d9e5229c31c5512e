"""Words of a line and their stress readings: the candidates the meter chooses among.

Each word contributes its vowels and its stress readings (1-based vowel indices), and where they came
from: a mark, a written ё, the accent dictionaries, a lemma, a guess. A reading 0 lets a function word
go unstressed. The switches here (``METER_MOVES`` and the rules after it) were each chosen by
bench/stress_cv.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from poetbench.prosody.morph import finite_verb_tense, lemmas, part_of_speech_in
from poetbench.prosody.stress import ACUTE, VOWELS, Options, StressDictionary, key_of, marked_vowels, vowel_count
from poetbench.words import MARKED_WORD as WORD  # letters with the stress marks the scanner reads

_VOWEL_SET = frozenset(VOWELS + VOWELS.upper())
_POETIC_SOFT = re.compile(r"ь([яеюи])")
POSTFIX_PARTICLES = frozenset({"то", "ка", "либо", "нибудь", "таки", "де", "с", "тко"})


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
