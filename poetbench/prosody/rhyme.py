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
from collections.abc import Callable
from functools import lru_cache

# stressed е stays "е": written for both э and ё (полет = полёт), so it may match э or, weaker, о
STRESSED = str.maketrans({"я": "а", "ю": "у", "ё": "о", "ы": "и"})
UNSTRESSED = str.maketrans({"о": "а", "е": "и", "я": "и", "э": "и", "ы": "и", "ю": "у", "ё": "о"})
DEVOICE = {"б": "п", "в": "ф", "г": "к", "д": "т", "ж": "ш", "з": "с"}
VOWELS = set("аеёиоуыэюя")
SLANT_THRESHOLD = 0.72
# a slant rhyme across a longer gap must be closer to be heard: lines three apart need 0.77, four 0.82
DIST_STEP = 0.05
# a slant score from the similarity of two consonant skeletons: one consonant more (3 against 4) or
# one other consonant among six (тя́гостной / ра́достный) clears the threshold, shorter differences not
SKELETON_FACTOR = 0.87
# Scores of the slant classes (exact = 1.0); a pair rhymes at SLANT_THRESHOLD or above.
SCORES = {
    "vowels": 0.9,  # same consonants, other unstressed vowels: се́рдце / две́рца
    "voicing": 0.75,  # a voiced consonant for a voiceless one inside the ending: ка́пли / осла́бли
    "trailing": 0.85,  # the same but for a final consonant: де́дом / бе́ды
    # closed masculine: same support and other final consonants, both obstruents or both sonorants
    # (жира́ф / жира́х); one final consonant more (звё́зд / гро́з); the velars к / х (ду́х / кру́г)
    "closed": 0.75,
    "closed_longer": 0.75,
    "closed_velar": 0.75,
    "open_closed": 0.8,  # open vs closed masculine by one consonant: поля́ / ковыля́м
    "mono_end": 0.75,  # line-final monosyllable vs the unstressed last syllable: мы / ри́тмы
    "form": 0.5,  # lines the form rhymes, same stressed vowel only: овса́ / офса́йд in a порошок
}
# Rules of the scheme decoder that are not scores (bench/rhyme_cv.py switches them off in turn)
RULES = {
    "exact_links": True,  # every exact pair in the window shares a letter, not only best partners
    "rubai": True,  # AA-A is lettered AABA, as Rifma letters the rubai
}


VOICELESS = set("пфктшсхцчщ")
SONORANTS = set("лмнрй")
_NON_LETTER = re.compile(r"[^а-яё]")
_NON_LETTER_SPACE = re.compile(r"[^а-яё ]")
_TSYA = re.compile(r"ть?ся$")
_OGO = re.compile(r"([ое])го$")
_OG = re.compile(r"[ое]г$")
_TC = re.compile(r"[тд]ц")
_SCH = re.compile(r"[сзж]ч")  # ре́зче = ве́щи: [щ]
_TSK = re.compile(r"[тд]ск")  # де́тской = неме́цкой: [цк]
_SEPARATING = re.compile(r"[ьъ](?=[аеёиоуыэюя])")
_FINAL_J = re.compile(r"([аиуэо])й$")
_DOUBLE = re.compile(r"([бвгджзйклмнпрстфхцчшщ])\1")  # doubled consonants; two vowels stay two syllables
_LAST_SYLLABLE = re.compile(r"[^аеёиоуыэюя]?[аеёиоуыэюя][^аеёиоуыэюя]*$")
_END_J = re.compile(r"й$")
IOTATED = set("яюеёи")
# a support consonant stands for its class: voicing aside, and the soft hushing щ as ч (плечо́ / ещё́)
SUPPORT_CLASS = {**DEVOICE, "щ": "ч"}
SUPPORT_VOWELS = set("аеёиоуыэюяьъ")


@lru_cache(maxsize=200_000)
def rhyme_key(tail: str, before: str = "") -> str:
    """Normalised rhyme part ``support|V|post``: ``V`` the stressed vowel (iotation dropped),
    ``post`` what follows it (unstressed vowels reduced, devoicing, ь/ъ and a final й dropped),
    ``support`` the consonant before the stressed vowel ("й" after a vowel or at a word start),
    which only an open masculine ending (мечта́ / красота́) needs."""
    tail = _NON_LETTER.sub("", tail.lower())
    if not tail:
        return ""
    tail = _TSYA.sub("ца", tail)
    tail = _OGO.sub(r"\1во", tail)  # -ого/-его read -ово/-ево
    tail = _TSK.sub("цк", _SCH.sub("щ", _TC.sub("ц", tail)))
    v = tail[0]
    # a separating ь/ъ before a vowel is a [j] (зо́рье ≠ мо́ре); elsewhere it only softens
    post = _SEPARATING.sub("й", tail[1:]).replace("ь", "").replace("ъ", "").translate(UNSTRESSED)
    post = _FINAL_J.sub(r"\1", post)
    chars = list(post)
    for i in range(len(chars) - 1, -1, -1):  # final and regressive devoicing
        nxt = chars[i + 1] if i + 1 < len(chars) else None
        if chars[i] in DEVOICE and (nxt is None or nxt in VOICELESS):
            chars[i] = DEVOICE[chars[i]]
    post = _DOUBLE.sub(r"\1", "".join(chars))
    prior = _NON_LETTER_SPACE.sub("", before.lower())  # a space before the vowel: it starts a word
    prev = prior[-1:]
    if v in IOTATED and (not prev or prev in SUPPORT_VOWELS or prev == " "):
        support = "й"
    elif not post and v == "о" and _OG.search(prior):
        support = SUPPORT_CLASS["в"]  # своего́ / торжество́: the г of -его/-ого is read в
    else:
        support = SUPPORT_CLASS.get(prev, prev) if prev not in ("", " ") else ""
    return f"{support}|{v.translate(STRESSED)}|{post}"


@lru_cache(maxsize=100_000)
def ending_key(word: str, monosyllable: bool) -> str:
    """The last syllable of a line's last word (consonants + reduced vowel), for the rhymes Rifma
    counts between a line-final monosyllable and a longer word's unstressed end (мы / ри́тмы)."""
    w = _NON_LETTER.sub("", word.lower()).replace("ь", "").replace("ъ", "")
    m = _LAST_SYLLABLE.search(w)
    if not m:
        return ""
    if "е" in m.group() or "ё" in m.group():
        return ""
    syl = _END_J.sub("", m.group().translate(STRESSED).translate(UNSTRESSED))
    return ("~m|" if monosyllable else "~f|") + syl


_VOWELS_ONLY = str.maketrans({c: "V" for c in "аиуэо"})
_NEUTRAL = str.maketrans({**{k: v for k, v in DEVOICE.items()}, **{c: "V" for c in "аиуэо"}})


@lru_cache(maxsize=200_000)
def rhyme_score(a: str, b: str) -> float:
    """1.0 exact; 0.9 same consonants with other unstressed vowels; 0.75 a consonant voiced in one and
    voiceless in the other; 0.85 the same but a final consonant; a lower slant score for close
    consonant skeletons; 0 when the stressed vowels differ or an open masculine ending lacks the
    same support."""
    if not a or not b:
        return 0.0
    if a[0] == "~" or b[0] == "~":  # a line-final monosyllable against an unstressed last syllable
        if a[0] == b[0] == "~" and "~m" in (a[:2], b[:2]) and a[3:] == b[3:]:
            return SCORES["mono_end"]
        return 0.0
    sa, va, pa = a.split("|")
    sb, vb, pb = b.split("|")
    factor = 1.0
    if va != vb:
        if {va, vb} == {"е", "э"}:
            pass
        elif {va, vb} == {"е", "о"}:
            factor = 0.95  # е written for ё
        else:
            return 0.0
    if not pa or not pb:  # open masculine needs its supporting consonant
        if sa != sb:  # (supports are stored by their class already)
            return 0.0
        if pa == pb:
            return factor
        return SCORES["open_closed"] * factor if len(pa + pb) == 1 and (pa + pb) not in "аиуэо" else 0.0  # поля́ / ковыля́м
    if pa == pb:
        return factor
    ka, kb = pa.translate(_NEUTRAL), pb.translate(_NEUTRAL)
    if ka == kb:
        if pa.translate(_VOWELS_ONLY) != pb.translate(_VOWELS_ONLY):
            return SCORES["voicing"] * factor
        return SCORES["vowels"] * factor
    if "V" in ka and "V" in kb and ka.rstrip("бвгджзйклмнпрстфхцчшщ") == kb.rstrip("бвгджзйклмнпрстфхцчшщ"):
        return SCORES["trailing"]
    if "V" not in ka and "V" not in kb:  # closed masculine endings
        if sa == sb and sa and (ka[-1] in SONORANTS) == (kb[-1] in SONORANTS):
            # same support, other final consonants of one kind: жира́ф / жира́х, се́ть / се́сть (a
            # sonorant or й against an obstruent is heard: любо́вь / любо́й)
            return SCORES["closed"]
        if abs(len(ka) - len(kb)) == 1 and (ka.startswith(kb) or kb.startswith(ka)):
            return SCORES["closed_longer"]  # one more final consonant: звё́зд / гро́з
        if {ka, kb} == {"к", "х"}:
            return SCORES["closed_velar"]  # velar finals: ду́х / кру́г
    if ka[0] == "V" or kb[0] == "V":
        return 0.0
    return _skeleton_similarity(ka, kb)


@lru_cache(maxsize=100_000)
def _skeleton_similarity(ka: str, kb: str) -> float:
    """Slant score of two consonant skeletons (few distinct pairs: cached apart from the keys); 0 when
    even their lengths rule out reaching SLANT_THRESHOLD (a single edit apart at most, for short ones)."""
    if 2 * min(len(ka), len(kb)) / (len(ka) + len(kb)) * SKELETON_FACTOR < SLANT_THRESHOLD:
        return 0.0
    return round(difflib.SequenceMatcher(None, ka, kb).ratio() * SKELETON_FACTOR, 3)


def _vowel_class(key: str) -> str:
    """What must match before two keys can rhyme at all: the stressed vowel (е, э and о are one
    class: е is written for э and for ё), or for a line-final syllable key that syllable."""
    if not key:
        return ""
    if key[0] == "~":
        return key[2:]
    v = key.split("|", 2)[1]
    return "е" if v in "эо" else v


def _best_pair(a: list[tuple[str, str, float]], b: list[tuple[str, str, float]]) -> tuple[float, int, int]:
    """Best weighted score over the candidate keys of two lines (a line-final homograph has several),
    and which candidates of ``a`` and of ``b`` gave it. Keys come with their vowel class, so pairs
    that cannot rhyme are skipped without scoring, and with their weight."""
    best, wa, wb = 0.0, 0, 0
    for ia, (ka, ca, qa) in enumerate(a):
        for ib, (kb, cb, qb) in enumerate(b):
            if ca != cb:
                continue
            sc = rhyme_score(ka, kb) * qa * qb
            if sc > best:
                best, wa, wb = sc, ia, ib
    return best, wa, wb


def scheme(keys: list[list[str]], window: int = 4, threshold: float = SLANT_THRESHOLD,
           weights: list[list[float]] | None = None, form_pairs: tuple[tuple[int, int], ...] = (),
           accept: Callable[[int, int, float, float], bool] | None = None) -> tuple[str, list[float], list[int]]:
    """Rhyme letters for one stanza, Rifma's notation. ``keys[i]`` are line i's candidate rhyme keys
    (first = default reading); ``weights[i]`` scale their scores (a reading the dictionary or the
    meter does not give weighs less). Each line takes the reading its best partner within ``window``
    lines rhymes with (exact rhymes and nearer lines first); then, as a word has one stress, it links
    to its best partner among those rhyming with the readings taken, and to every exact one of them
    (a slant rhyme more than two lines apart needs DIST_STEP more per line). Linked lines share a
    letter.
    ``form_pairs`` are lines the stanza's form rhymes (the порошок's 2nd and 4th): they are linked
    when their stressed vowels agree, however loose the rest. Also returns each line's best score
    (0 when unrhymed) and the index of the candidate key that rhymed.
    ``accept(i, j, score, unweighted score)``, when given, decides instead of the threshold and the
    distance step which pairs may link (bench/rhyme_pairs.py puts a learned line-pair model there)."""
    n = len(keys)
    chosen = [0] * n
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    best = [0.0] * n
    weights = weights or [[1.0] * len(ks) for ks in keys]
    classed = [[(k, _vowel_class(k), q) for k, q in zip(ks, qs)] for ks, qs in zip(keys, weights)]
    classes = [{c for _, c, _ in ks} for ks in classed]
    cands: list[list[tuple[float, int, int, int, int]]] = [[] for _ in range(n)]
    exact = []
    for i in range(n):
        for j in range(i + 1, min(n, i + window + 1)):
            if classes[i].isdisjoint(classes[j]):
                continue
            sc, wi, wj = _best_pair(classed[i], classed[j])
            if sc >= 1.0:
                exact.append((i, j, wi, wj))
            if accept is not None:
                linked = accept(i, j, sc, rhyme_score(keys[i][wi], keys[j][wj]))
            else:
                gap = DIST_STEP * max(0, j - i - 2)
                linked = sc >= threshold + gap or (sc >= threshold and rhyme_score(keys[i][wi], keys[j][wj]) >= 1.0)
            if linked:
                cands[i].append((sc, i - j, j, wi, wj))
                cands[j].append((sc, i - j, i, wj, wi))
    for i in range(n):  # each line's reading: the one its best partner rhymes with
        if cands[i]:
            chosen[i] = max(cands[i])[3]
    for i in range(n):  # then its best partner among those that rhyme with the readings chosen
        fitting = [c for c in cands[i] if c[3] == chosen[i] and c[4] == chosen[c[2]]]
        if fitting:
            sc, _, j, _, _ = max(fitting)
            best[i] = sc
            parent[find(i)] = find(j)
    for i, j, wi, wj in exact if RULES["exact_links"] else ():  # with the readings the lines rhyme by
        if chosen[i] == wi and chosen[j] == wj:
            parent[find(i)] = find(j)
    for i, j in form_pairs:
        if find(i) != find(j) and j < n and not classes[i].isdisjoint(classes[j]):
            parent[find(i)] = find(j)
            best[i], best[j] = max(best[i], SCORES["form"]), max(best[j], SCORES["form"])
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
    letters_out = "".join(out)
    if letters_out == "AA-A" and RULES["rubai"]:  # the rubai: Rifma letters its unrhymed third line (AABA)
        letters_out = "AABA"
    return letters_out, best, chosen


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
