"""Words: the one tokenizer and the one pymorphy3 analyzer every part of poetbench uses.

``words(text)`` lowercases and finds runs of Cyrillic or Latin letters, joined by inner hyphens
(``кто-то``, ``когда-нибудь``); ``ё`` is kept unless ``fold_yo`` (then read as ``е``, for comparing
texts that spell it either way). The prosody scanner uses ``MARKED_WORD``: the same letters, case
kept, with the stress marks it reads and writes. ``cyrillic_lookalikes`` makes a Latin look-alike
letter inside a Cyrillic word Cyrillic (the scanner and the style judge read text through it).
"""

from __future__ import annotations

import re
from functools import lru_cache

LETTERS = "а-яёА-ЯЁa-zA-Z"
WORD = re.compile(r"[а-яёa-z]+(?:-[а-яёa-z]+)*")  # on lowercased text
MARKED_WORD = re.compile(rf"[{LETTERS}\u0301\u0300]+(?:-[{LETTERS}\u0301\u0300]+)*")
CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LOOKALIKE = re.compile("[aceopxyABCEHKMOPTX]")
_MIXED_WORD = re.compile(r"\b(?=\w*[А-Яа-яЁё])(?=\w*[A-Za-z])\w+\b")
_TO_CYRILLIC = str.maketrans("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ")


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
