"""Prosody metrics: per poem from the prosody engine's scan, per group the Jensen–Shannon divergence
of meter, line-length and rhyme-scheme distributions from the real author's poems."""

from __future__ import annotations

from collections import Counter

import numpy as np


def profile(scan) -> dict:
    """What the distribution distances compare, for generated and real poems alike."""
    return {"meter": scan.meter, "feet": scan.feet, "rhyme_scheme": scan.rhyme_scheme,
            "syllables": [ln.syllables for ln in scan.lines if ln.text.strip()]}


def line_scans(scan) -> list[dict]:
    """Per line what the report shows: the text, its stress marks, meter and rhyme letter."""
    return [{"text": ln.text, "accented": ln.accented, "meter": ln.meter, "rhyme": ln.rhyme} for ln in scan.lines]


def distribution(profiles: list[dict], what: str) -> Counter:
    if what == "meter":
        return Counter(f"{s['meter']}{s['feet'] or ''}" for s in profiles)
    if what == "line_syllables":
        return Counter(min(n, 20) for s in profiles for n in s["syllables"])
    return Counter(p for s in profiles for p in s["rhyme_scheme"].split())


def js_to_real(what: str):
    """A group metric: JS divergence of ``what``'s distribution in the group from the real author's."""
    def fn(group) -> float:
        return js_divergence(distribution(group.rows, what), distribution(group.real, what))

    return fn


def regularity(poem) -> float:
    return poem.scan.regularity


def rhyme_rate(poem) -> float:
    return poem.scan.rhyme_rate


def exact_rhyme_share(poem) -> float:
    return poem.scan.exact_rhyme_share


def four_quatrains(poem) -> float:
    return float(poem.scan.four_quatrains)


def js_divergence(p: dict, q: dict) -> float:
    """Jensen–Shannon divergence (base 2, in [0, 1]) of two count distributions over labels: the
    square of ``scipy.spatial.distance.jensenshannon``."""
    from scipy.spatial.distance import jensenshannon

    keys = sorted(set(p) | set(q))
    a = np.array([p.get(k, 0) for k in keys], float)
    b = np.array([q.get(k, 0) for k in keys], float)
    if not keys or a.sum() == 0 or b.sum() == 0:
        return float("nan")
    return float(jensenshannon(a, b, base=2) ** 2)
