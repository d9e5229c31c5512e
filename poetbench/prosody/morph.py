"""pymorphy3 for the prosody engine: lemmas of word forms the stress dictionary lacks, which
dictionary words are finite verb forms, and which are prepositions or conjunctions."""

from __future__ import annotations

from functools import lru_cache

from poetbench.words import morph as _analyzer
from poetbench.words import part_of_speech


@lru_cache(maxsize=50_000)
def lemmas(word: str, limit: int = 2) -> tuple[str, ...]:
    """Distinct normal forms of the most probable parses (dictionary words only, no guesses)."""
    out: list[str] = []
    if not _analyzer().word_is_known(word):  # a cheap check first: parsing an unknown word is slow
        return ()
    for parse in _analyzer().parse(word)[:limit]:
        if not parse.is_known:
            continue
        lemma = parse.normal_form
        if lemma != word and lemma not in out:
            out.append(lemma)
    return tuple(out)


@lru_cache(maxsize=50_000)
def finite_verb_tense(word: str) -> str | None:
    """``pres``, ``futr`` or ``past`` when the most probable parse of a dictionary word is a finite
    verb form; None otherwise (an unknown word is not parsed: a guess would be slow and unsure)."""
    if not _analyzer().word_is_known(word):
        return None
    tag = _analyzer().parse(word)[0].tag
    return str(tag.tense) if tag.POS == "VERB" and tag.tense else None


FUNCTION_WORDS_FILE = "function_words.tsv"  # in poetbench/data; written by `python -m poetbench.data.function_words`


def part_of_speech_in(word: str, parts: frozenset[str]) -> bool:
    """Whether the most probable parse of ``word`` (``words.part_of_speech``) is one of ``parts``,
    pymorphy3's unchanging parts of speech (``PREP``, ``CONJ``). Only the words its dictionary lists as
    such (``function_words``) are parsed: the prosody engine asks this of every dictionary word it
    scans, and a parse costs about 0.1 ms."""
    return word.replace("ё", "е") in function_words(parts) and part_of_speech(word) in parts


@lru_cache(maxsize=8)
def function_words(parts: frozenset[str]) -> frozenset[str]:
    """The words (ё as е) that pymorphy3's dictionary lists as one of ``parts``, from
    poetbench/data/function_words.tsv (every preposition and conjunction, ``list_function_words``)."""
    from importlib import resources

    text = resources.files("poetbench.data").joinpath(FUNCTION_WORDS_FILE).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return frozenset(word for word, tags in rows if parts & set(tags.split(",")))


def list_function_words(parts: frozenset[str] = frozenset({"PREP", "CONJ"})) -> dict[str, set[str]]:
    """Every word of pymorphy3's dictionary in a paradigm of ``parts`` (these parts do not inflect,
    so each such paradigm has one form), with those parts. Reads the whole dictionary: about 40 s."""
    d = _analyzer().dictionary
    of = {i: {str(d.gramtab[p[len(p) // 3 + k]].POS) for k in range(len(p) // 3)} for i, p in enumerate(d.paradigms)}
    out: dict[str, set[str]] = {}
    for word, (paradigm, _) in d.words.iteritems():
        if of[paradigm] <= parts:
            out.setdefault(word.replace("ё", "е"), set()).update(of[paradigm])
    return out
