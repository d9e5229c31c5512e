"""The best-fitting meter of a line and of a poem, from its words' stress readings (``readings``).

A line is a sequence of syllables; each word contributes its vowels and its stress candidates.
Classical meters (iamb, trochee, dactyl, amphibrach, anapest) are scored by the licences Russian
verse allows: a strong position may go unstressed (small cost), a monosyllable may be stressed on a
weak position (free), but a polysyllable's stress on a weak position costs a full point. Dolnik
allows one or two unstressed syllables between stresses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from poetbench.prosody.readings import Word

# (name, period, index of the first strong syllable)
METERS = [("iamb", 2, 1), ("trochee", 2, 0), ("dactyl", 3, 0), ("amphibrach", 3, 1), ("anapest", 3, 2)]
FEET_NAMES = {1: "monometer", 2: "dimeter", 3: "trimeter", 4: "tetrameter", 5: "pentameter",
              6: "hexameter", 7: "heptameter", 8: "octameter"}
OMIT_COST = {2: 0.15, 3: 0.4}  # an unstressed strong position: common in binary meters, rarer in ternary
WEAK_STRESS_COST = 1.0
FIT_THRESHOLD = 0.65  # a line fits a meter when its cost is at most this


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
