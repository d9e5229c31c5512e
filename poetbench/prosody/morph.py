"""pymorphy3 for the prosody engine: lemmas of word forms the stress dictionary lacks, and which
dictionary words are finite verb forms."""

from __future__ import annotations

from functools import lru_cache

from poetbench.words import morph as _analyzer


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
