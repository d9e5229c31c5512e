"""The summarise stage of ``poetbench eval``: per model x author, each poem metric's mean with its
95% CI (two-level over training seeds when a row has several), each group metric, each held-out
metric; and the paired comparisons (adapters against the base, controls against the row they
vary), with Benjamini–Hochberg q-values."""

from __future__ import annotations

from poetbench.metrics import registry
from poetbench.metrics.registry import GroupEvidence

REFERENCE = "reference"


def summarise(plan, scored, lm_rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Per model x author: each poem metric's mean with its 95% BCa CI, each group metric's value
    (with its CI when it has one), each lm metric; and the paired comparisons of every adapter with
    the base."""
    from poetbench.eval.stats import add_q_values, two_level_ci

    seed = plan.seed
    scores = scored.scores
    summary, comparisons = [], []
    groups: dict[tuple[str, str], list[dict]] = {}
    for s in scores:
        groups.setdefault((s["model"], s["author"]), []).append(s)
    real_keys = {a: [s["key"] for s in scores if s["model"] == REFERENCE and s["author"] == a] for a in plan.authors}
    for (model, author), rows in sorted(groups.items()):
        by_seed = seed_groups(rows)
        for m in registry.metrics("poem"):
            mean, low, high = two_level_ci([[r[m.name] for r in g] for g in by_seed], seed=seed)
            summary.append(_row(model, author, m.name, mean, len(rows), low, high, len(by_seed)))
        keys = [r["key"] for r in rows]
        group = GroupEvidence(model, author, rows, [scored.texts[k] for k in keys], scored.real[author],
                              scored.delta_space, scored.features_of(keys), scored.features_of(real_keys.get(author)),
                              [scored.works[k] for k in real_keys.get(author, [])], reference=model == REFERENCE,
                              seed=seed)
        for m in registry.metrics("group"):  # (over the seeds' poems together)
            value = m.fn(group)
            value = value if isinstance(value, tuple) else (value, None, None)
            summary.append(_row(model, author, m.name, value[0], len(rows), value[1], value[2], len(by_seed)))
    lm_groups: dict[tuple[str, str], list[dict]] = {}
    for r in lm_rows:
        lm_groups.setdefault((r["model"], r["author"]), []).append(r)
    for (model, author), rows in lm_groups.items():  # several training seeds: their mean, and their range
        for m in registry.metrics("lm"):
            values = [m.fn(r) for r in rows]
            spread = (min(values), max(values)) if len(values) > 1 else (None, None)
            summary.append(_row(model, author, m.name, sum(values) / len(values), rows[0]["poems"], *spread,
                                len(rows)))
    # every adapter against the base; each control row (--controls) against the row it varies
    relations = [(label, "base") for label in dict.fromkeys(e.label for e in plan.entries if not e.is_base)]
    relations += list(plan.controls)
    for name, against in relations:
        for author in dict.fromkeys(s["author"] for s in scores if s["model"] == name):
            ours = [s for s in scores if s["model"] == name and s["author"] == author]
            theirs = [s for s in scores if s["model"] == against and s["author"] == author]
            for m in registry.metrics("poem"):
                c = paired_over_seeds(ours, theirs, m.name, seed)
                if c is not None:
                    comparisons.append({"model": name, "author": author, "metric": m.name, **c,
                                        **({"against": against} if (name, against) in plan.controls else {})})
    return summary, add_q_values(comparisons)


def reference_record(summary: list[dict]) -> dict:
    """What run.json records of the reference rows: each author's held-out poems (a group's n)."""
    first = registry.metrics("poem")[0].name
    return {"model": REFERENCE, "split": "test",
            "poems": {r["author"]: r["n"] for r in summary if r["model"] == REFERENCE and r["metric"] == first}}


def seed_groups(rows: list[dict]) -> list[list[dict]]:
    """A row's poems by training seed (``weights``); one group when it has one seed."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r.get("weights", ""), []).append(r)
    return list(groups.values())


def paired_over_seeds(ours: list[dict], theirs: list[dict], metric: str, seed: int) -> dict | None:
    """``ours`` minus ``theirs`` on the same theme and sample (and the same training seed, when both rows
    have the same seeds: a control against its adapter). With several training seeds in ``ours``: the
    Wilcoxon test on each prompt's means over the seeds, and the two-level bootstrap CI (seeds, then
    prompts) of the difference; ``n_seeds`` says how many."""
    from poetbench.eval.stats import paired_comparison, two_level_ci

    by_seed = {g[0].get("weights", ""): {(s["theme"], s["sample"]): s[metric] for s in g} for g in seed_groups(theirs)}
    only = next(iter(by_seed.values())) if len(by_seed) == 1 else None
    groups = []
    for g in seed_groups(ours):
        base = by_seed.get(g[0].get("weights", ""), only)
        if base is None:  # several seeds on the other side too, but not these: pair with their mean
            base = {k: sum(b[k] for b in by_seed.values() if k in b) / sum(k in b for b in by_seed.values())
                    for k in set().union(*by_seed.values())}
        pairs = [((s["theme"], s["sample"]), s[metric], base[(s["theme"], s["sample"])]) for s in g
                 if (s["theme"], s["sample"]) in base]
        if pairs:
            groups.append(pairs)
    if not groups:
        return None
    per_prompt: dict[tuple, list[tuple[float, float]]] = {}
    for g in groups:
        for key, v, b in g:
            per_prompt.setdefault(key, []).append((v, b))
    keys = sorted(per_prompt)
    c = paired_comparison([sum(v for v, _ in per_prompt[k]) / len(per_prompt[k]) for k in keys],
                          [sum(b for _, b in per_prompt[k]) / len(per_prompt[k]) for k in keys], seed=seed)
    if len(groups) > 1:
        c["diff"], c["ci_low"], c["ci_high"] = two_level_ci([[v - b for _, v, b in g] for g in groups], seed=seed)
    return c | {"n_seeds": len(groups)}


def _row(model, author, metric, mean, n, low=None, high=None, n_seeds=1) -> dict:
    return {"model": model, "author": author, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high, "n": n,
            "n_seeds": n_seeds}
