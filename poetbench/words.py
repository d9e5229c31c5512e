"""Words: the one tokenizer and the one pymorphy3 analyzer every part of poetbench uses.

``words(text)`` lowercases and finds runs of Cyrillic or Latin letters, joined by inner hyphens
(``кто-то``, ``когда-нибудь``); ``ё`` is kept unless ``fold_yo`` (then read as ``е``, for comparing
texts that spell it either way). The prosody scanner uses ``MARKED_WORD``: the same letters, case
kept, with the stress marks it reads and writes. ``readable`` is a text as its reader sees it (``й`` and
``ё`` one letter each, no invisible format characters, a Latin look-alike letter inside a Cyrillic word
made Cyrillic: ``cyrillic_lookalikes``); the scanner and the text metrics read poems through it.
"""

from __future__ import annotations

import re
from functools import lru_cache

LETTERS = "а-яёА-ЯЁa-zA-Z"
WORD = re.compile(r"[а-яёa-z]+(?:-[а-яёa-z]+)*")  # on lowercased text
MARKED_WORD = re.compile(rf"[{LETTERS}\u0301\u0300]+(?:-[{LETTERS}\u0301\u0300]+)*")
CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
STRESS_MARKS = re.compile("[\u0300\u0301]")  # the acute (stress) and grave (secondary stress), combining
_LOOKALIKE = re.compile("[aceopxyABCEHKMOPTX]")
_MIXED_WORD = re.compile(r"\b(?=\w*[А-Яа-яЁё])(?=\w*[A-Za-z])\w+\b")
_TO_CYRILLIC = str.maketrans("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ")


# Unicode's format characters (category Cf, Unicode 14): invisible in print, but inside a word they cut it
# in two for every tokenizer (a soft hyphen or zero-width space from a web page, a word joiner, a BOM,
# direction marks). tests/test_words.py checks this class against unicodedata.
INVISIBLE = re.compile("[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
                       "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


# й and ё are one letter each however they were typed; a stress mark is a mark of its own, also on the
# two vowels Unicode has precomposed with a grave (ѐ, ѝ)
_ONE_LETTER = {"и\u0306": "й", "И\u0306": "Й", "е\u0308": "ё", "Е\u0308": "Ё",
               "ѐ": "е\u0300", "ѝ": "и\u0300", "Ѐ": "Е\u0300", "Ѝ": "И\u0300"}
_NOT_ONE_LETTER = re.compile("[иИеЕ][\u0306\u0308]|[ѐѝЀЍ]")
# what a plain text holds (ASCII, Cyrillic but ѐ and ѝ, Latin-1 but the soft hyphen, dashes, quotes and the
# like): a text with nothing else needs no more than its look-alikes fixed
_UNUSUAL = re.compile("[^\x00-\x7f\u0401-\u040c\u040e-\u044f\u0451-\u045c\u045e-\u045f\u00a0-\u00ac\u00ae-\u00ff"
                      "\u2010-\u2027\u2030-\u205f]")


def readable(text: str) -> str:
    """``text`` as its reader sees it: ``й`` and ``ё`` one letter each (typed as ``и`` or ``е`` and a
    combining mark, they cut a word for any tokenizer), stress marks marks of their own (``ѐ`` read as
    ``е`` and a grave), no invisible format characters (``INVISIBLE``), Latin look-alike letters in
    Cyrillic words made Cyrillic (``cyrillic_lookalikes``). Stress marks stay: the scanner reads them."""
    if _UNUSUAL.search(text):
        text = _NOT_ONE_LETTER.sub(lambda m: _ONE_LETTER[m.group(0)], INVISIBLE.sub("", text))
    return cyrillic_lookalikes(text)


def cyrillic_lookalikes(text: str) -> str:
    """``text`` with the Latin letters that look like Cyrillic ones (``o``, ``c``, ``p``, ``H``...) made
    Cyrillic inside words that have Cyrillic letters too: a typist's or a scan's mix-up (``пoмню`` with a
    Latin ``o``), which would hide the word from the stress dictionary and its vowel from the meter. A
    wholly Latin word stays as it is."""
    if not _LOOKALIKE.search(text):
        return text
    return _MIXED_WORD.sub(lambda m: m.group(0).translate(_TO_CYRILLIC), text)


def words(text: str, fold_yo: bool = False) -> list[str]:
    text = text.lower()
    return WORD.findall(text.replace("ё", "е") if fold_yo else text)


@lru_cache(maxsize=1)
def morph():
    """The pymorphy3 analyzer (loading its dictionaries takes a second; one per process)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The normal form of the most probable parse (the word itself for unknown forms)."""
    return morph().parse(word)[0].normal_form


@lru_cache(maxsize=200_000)
def part_of_speech(word: str) -> str:
    """The most probable parse's part of speech (pymorphy3's OpenCorpora name: ``NOUN``, ``VERB``,
    ``ADJF``...), with a noun's or full adjective's case (``NOUN.gent``); ``UNKN`` when it has none."""
    tag = morph().parse(word)[0].tag
    pos = tag.POS or "UNKN"
    return f"{pos}.{tag.case}" if pos in ("NOUN", "ADJF", "NPRO") and tag.case else pos
