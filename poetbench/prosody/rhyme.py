"""Rhyme between line endings and rhyme schemes in Rifma's notation (``ABAB``, ``-A-A``).

A line's rhyme part runs from its last stressed vowel to its end. It is compared after the
equivalences Russian rhyme uses: iotated vowels under stress (я=а, ю=у, е=э, ё=о, и=ы), reduction of
unstressed vowels (о→а, е/я/э/ы→и, ю→у), final devoicing, dropped ь/ъ and a final й after an
unstressed vowel, doubled consonants, -тся/-ться. Equal keys are an exact rhyme; close keys with the
same stressed vowel are a slant rhyme with a score below 1.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

STRESSED = str.maketrans({"я": "а", "ю": "у", "е": "э", "ё": "о", "ы": "и"})
UNSTRESSED = str.maketrans({"о": "а", "е": "и", "я": "и", "э": "и", "ы": "и", "ю": "у", "ё": "о"})
DEVOICE = {"б": "п", "в": "ф", "г": "к", "д": "т", "ж": "ш", "з": "с"}
VOWELS = set("аеёиоуыэюя")
SLANT_THRESHOLD = 0.7


VOICELESS = set("пфктшсхцчщ")


def rhyme_key(tail: str, before: str = "") -> str:
    """Normalised rhyme part. ``tail`` starts at the stressed vowel; ``before`` is the text before
    it, whose last consonant supports an open masculine ending (мечта́ / красота́), written before a
    ``|`` so it can be compared apart."""
    tail = re.sub(r"[^а-яё]", "", tail.lower())
    if not tail:
        return ""
    tail = re.sub(r"ть?ся$", "ца", tail)
    tail = re.sub(r"([оe])го$", r"\1во", tail)  # -ого/-его read -ово/-ево
    tail = tail.replace("ь", "").replace("ъ", "")
    head, rest = tail[0].translate(STRESSED), tail[1:]
    rest = rest.translate(UNSTRESSED)
    rest = re.sub(r"([аиуэо])й$", r"\1", rest)
    chars = list(rest)
    for i in range(len(chars) - 1, -1, -1):  # final and regressive devoicing
        nxt = chars[i + 1] if i + 1 < len(chars) else None
        if chars[i] in DEVOICE and (nxt is None or nxt in VOICELESS):
            chars[i] = DEVOICE[chars[i]]
    rest = re.sub(r"(.)\1", r"\1", "".join(chars))
    key = head + rest
    if not rest:
        support = re.sub(r"[^а-яё]", "", before.lower()).replace("ь", "").replace("ъ", "")[-1:]
        key = DEVOICE.get(support, support) + "|" + key
    return key


def rhyme_score(a: str, b: str) -> float:
    """1.0 for an exact rhyme, a slant score in (0, 1) for near rhymes, 0 when the stressed vowels
    differ."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    sa, sb = a.split("|")[-1], b.split("|")[-1]
    if sa[0] != sb[0]:
        return 0.0
    if "|" in a or "|" in b:  # open masculine: same vowel, different support consonant
        return 0.85 if sa == sb else 0.0
    if sa == sb:
        return 1.0
    return round(difflib.SequenceMatcher(None, sa, sb).ratio() * 0.95, 3)


def _best_pair(a: list[str], b: list[str]) -> tuple[float, int]:
    """Best score over the candidate keys of two lines (a line-final homograph has several), and
    which of ``a``'s candidates gave it."""
    best, which = 0.0, 0
    for ia, ka in enumerate(a):
        for kb in b:
            sc = rhyme_score(ka, kb)
            if sc > best:
                best, which = sc, ia
    return best, which


def scheme(keys: list[list[str]], window: int = 4, threshold: float = SLANT_THRESHOLD
           ) -> tuple[str, list[float], list[int]]:
    """Rhyme letters for one stanza, Rifma's notation. ``keys[i]`` are line i's candidate rhyme keys
    (first = default reading). Each line links to its best partner within ``window`` lines (exact
    rhymes and nearer lines first); linked lines share a letter. Also returns each line's best score
    (0 when unrhymed) and the index of the candidate key that rhymed."""
    n = len(keys)
    chosen = [0] * n
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    best = [0.0] * n
    for i in range(n):
        cands = []
        for j in range(max(0, i - window), min(n, i + window + 1)):
            if j != i:
                sc, which = _best_pair(keys[i], keys[j])
                if sc >= threshold:
                    cands.append((sc, -abs(i - j), j, which))
        if cands:
            sc, _, j, which = max(cands)
            best[i], chosen[i] = sc, which
            parent[find(i)] = find(j)
    roots = [find(i) for i in range(n)]
    sizes = Counter(roots)
    letters: dict[int, str] = {}
    out = []
    for r in roots:
        if sizes[r] < 2:
            out.append("-")
            continue
        if r not in letters:
            letters[r] = chr(ord("A") + len(letters)) if len(letters) < 26 else "Z"
        out.append(letters[r])
    return "".join(out), best, chosen


def normalise_scheme(s: str) -> str:
    """Relabel letters in order of first appearance, per stanza (Rifma: schemes are equal when
    their relabelled letters are)."""
    out = []
    for part in s.split():
        mapping: dict[str, str] = {}
        buf = []
        for ch in part:
            if ch == "-":
                buf.append("-")
            else:
                mapping.setdefault(ch, chr(ord("A") + len(mapping)))
                buf.append(mapping[ch])
        out.append("".join(buf))
    return " ".join(out)
