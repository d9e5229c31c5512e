"""What a careful editor does to poems before they are data: cleaning, splitting long works, the
deterministic split, and near-duplicate detection."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from poetbench.words import INVISIBLE, STRESS_MARKS, readable
from poetbench.words import words as split_words

SPLITS = ("train", "val", "test")



_TAG = re.compile(r"<[^>\n]{1,200}>")
# An academic edition's marks around words: <и>, прекрас<ный> (letters the editor supplied) and
# [деве] (words from the drafts): the words are the poem's, the marks go. Any other <...> is a tag, or
# an editor's note such as <?> or <нрзб.>, and goes whole.
_SUPPLIED = re.compile("<([А-Яа-яЁё][А-Яа-яЁё\u0300\u0301 -]{0,200})>")
_DRAFT_BRACKETS = re.compile(r"[\[\]]")
_SUPERSCRIPT_DIGITS = re.compile("[\u00b9\u00b2\u00b3\u2070-\u2079]+")
_FOOTNOTE_AFTER_WORD = re.compile(r"(?<=[А-Яа-яЁёA-Za-z.,;:!?»)])\d{1,2}\b(?![.,]\d)")
_FOOTNOTE_BRACKET = re.compile(r"\[\d{1,3}(?:\s*[-–—]\s*[^\]\n]*)?\]|\{\d{1,3}\}|\*{1,3}(?=\s|$)(?<=\w\*)")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SPACED_DASH = re.compile(r"(?<=\S) +(?:-{1,2}|–|—|―) +")
_LINE_START_DASH = re.compile(r"^(?:-{1,2}|–|—|―) *")
_SEPARATOR_LINE = re.compile(r"^[IVXLC]{1,6}\.?$")  # a stanza number in Roman numerals (other separators have no letter)
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# Where a tag, an editor's note or a footnote mark was taken out: it takes the spaces before it when
# punctuation or the line's end follows (`жар <?>,` → `жар,`), not a word's space.
_GONE = "\ue000"
_GONE_BEFORE_PUNCT = re.compile(" *\ue000[\ue000 ]*(?=[,.;:!?…»)]|$)")
# A numbered list (`1. Золотой голос`, `2. ...`): an edition's table of contents, not verse.
_LIST_ITEM = re.compile(r"^\d{1,3}[.)] ")
LETTER = re.compile(r"[^\W\d_]")  # a letter of any alphabet (not a digit or underscore)


def clean_text(text: str) -> str:
    """What a careful editor does to a poem before it is used as data.

    NFC; HTML tags and entities removed; invisible format characters (soft hyphens, zero-width spaces and
    joiners, BOMs: ``words.INVISIBLE``) removed; an edition's marks around words it supplied or took from
    the drafts dropped, the words kept (``прекрас<ный>``, ``[деве]``); stress marks and editorial
    footnote digits stripped (with the space before them where punctuation follows: `жар <?>,` →
    `жар,`);
    whitespace and dashes normalised (spaced dashes and dialogue dashes become an em dash);
    separator lines (`* * *`, stanza numbers) and any other line without a letter (an edition's
    `· · ·`, `. . . . .`, `………`, a lone dash, a date) become stanza breaks; `ё` and stanza breaks kept.
    """
    text = html.unescape(_TAG.sub(_GONE, _SUPPLIED.sub(r"\1", text)))
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = STRESS_MARKS.sub("", unicodedata.normalize("NFD", text))
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = _SUPERSCRIPT_DIGITS.sub("", text)
    out: list[str] = []
    for raw in text.split("\n"):
        line = _gone(_SPACES.sub(" ", raw))
        if _SEPARATOR_LINE.match(line):
            line = ""
        if line:
            line = _DRAFT_BRACKETS.sub("", _gone(_FOOTNOTE_BRACKET.sub(_GONE, line)))
            line = _FOOTNOTE_AFTER_WORD.sub("", line)
            line = _SPACED_DASH.sub(" — ", line)
            line = _LINE_START_DASH.sub("— ", line)
            line = _SPACES.sub(" ", line).strip()
        if not LETTER.search(line):  # a separator (`* * *`, `12.`) or what an edition sets between verses (`· · ·`, a date)
            line = ""
        if line or (out and out[-1] != ""):
            out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def _gone(line: str) -> str:
    return _SPACES.sub(" ", _GONE_BEFORE_PUNCT.sub("", line).replace(_GONE, "")).strip()


# A title that says the poem is only attributed to the poet: an edition's section of doubtful works
# (`Dubia`, `Приписываемое`, `Стихотворения, приписываемые Тютчеву`). Not a title with a word of doubt
# in it: Tyutchev's `Молчит сомнительно Восток…` is his.
_DOUBTFUL = re.compile(r"\bdubia\b|\bприписываем", re.IGNORECASE)


def is_doubtful(title: str | None) -> bool:
    """Whether a title marks its text as of doubtful attribution: no evidence of the poet's style."""
    return bool(title) and _DOUBTFUL.search(title) is not None


def is_a_list(text: str) -> bool:
    """Two or more numbered lines (`1. ...`): a table of contents or a list of titles, not a poem."""
    return sum(1 for line in text.split("\n") if _LIST_ITEM.match(line)) >= 2


def verse_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def cyrillic_share(text: str) -> float:
    letters = LETTER.findall(text)
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _CYRILLIC.match(ch)) / len(letters)


def split_long(text: str, max_lines: int) -> list[str]:
    """Split a work into parts of at most ``max_lines`` verse lines, at stanza breaks when a stanza
    fits, else at line boundaries. Keeps long narrative poems from dominating the training tokens."""
    if len(verse_lines(text)) <= max_lines:
        return [text]
    stanzas = [s.split("\n") for s in text.split("\n\n")]
    parts: list[list[list[str]]] = [[]]
    count = 0
    for stanza in stanzas:
        while len(stanza) > max_lines:  # a stanza longer than a part: cut it by lines
            if parts[-1]:
                parts.append([])
            parts[-1].append(stanza[:max_lines])
            parts.append([])
            stanza = stanza[max_lines:]
            count = 0
        if count + len(stanza) > max_lines and parts[-1]:
            parts.append([])
            count = 0
        parts[-1].append(stanza)
        count += len(stanza)
    return ["\n\n".join("\n".join(s) for s in part) for part in parts if part]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_of(key_sha: str, fractions: list[float]) -> str:
    """Deterministic split from a text hash: adding a poem never moves the others."""
    u = int(key_sha[:15], 16) / 16**15
    edge = 0.0
    for name, frac in zip(SPLITS, fractions):
        edge += frac
        if u < edge:
            return name
    return SPLITS[-1]


def _shingles(text: str, n: int = 3) -> frozenset:
    words = split_words(text, fold_yo=True)
    if len(words) < n:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def near_duplicates(texts: list[str], threshold: float, inside: bool = False) -> set[int]:
    """Indices to drop: each text whose word-3-shingle Jaccard with an earlier kept text is at least
    ``threshold``; with ``inside``, each text that at least ``threshold`` of its shingles put inside an
    earlier kept one without being a near duplicate of it (a part of it: texts ordered longest first).
    Candidates come from shared shingles, so this stays near-linear on real corpora."""
    sets = [_shingles(t) for t in texts]
    index: dict[str, list[int]] = {}
    dropped: set[int] = set()
    for i, s in enumerate(sets):
        seen: set[int] = set()
        for sh in s:
            seen.update(index.get(sh, ()))
        for j in seen:
            if not inside and min(len(s), len(sets[j])) / max(len(s), len(sets[j])) < threshold:
                continue  # sizes too far apart for a near copy
            shared = len(s & sets[j])
            near_copy = shared / (len(s) + len(sets[j]) - shared) >= threshold  # Jaccard
            # with ``inside``: a part, not a near copy (whose own pass counts it)
            if (shared >= threshold * len(s) and not near_copy) if inside else near_copy:
                dropped.add(i)
                break
        if i not in dropped:
            for sh in s:
                index.setdefault(sh, []).append(i)
    return dropped


SHARED_LINE_LETTERS = 20  # a line this long (in letters) found in two poems is a quotation, not chance


def line_keys(text: str, min_letters: int = SHARED_LINE_LETTERS) -> set[str]:
    """The lines of ``text`` with more than ``min_letters`` letters, as letters only (lower case, ё as е,
    read as they print: ``words.readable``, so a quotation retyped with Latin look-alikes is still one)."""
    out = set()
    for line in readable(text).split("\n"):
        key = "".join(ch for ch in line.lower().replace("ё", "е") if ch.isalpha())
        if len(key) > min_letters:
            out.add(key)
    return out


def sharing_a_line(texts: list[str], others: list[str]) -> set[int]:
    """Indices of ``texts`` that share a line of over ``SHARED_LINE_LETTERS`` letters with any of ``others``."""
    known = set().union(*(line_keys(t) for t in others)) if others else set()
    return {i for i, t in enumerate(texts) if line_keys(t) & known}
