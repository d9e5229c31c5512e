"""The blind pairs of a run: for each author, theme and sample, every two model rows' poems (base,
adapters, controls, poems scored with ``--also``/``score``), and each of them against one real
held-out poem of the author (the ``reference`` row); left and right in a seeded random order, the
pairs in a seeded random sequence. Deterministic: the same run gives the same pairs."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import CorpusError, RatingsError
from poetbench.eval.runfiles import read_run
from poetbench.eval.summary import REFERENCE
from poetbench.generation import GENERATIONS, read_done


def _h(*parts) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def run_id(pairs: list[dict]) -> str:
    """What identifies the run the pairs come from: the poems they are made of."""
    return _h(*sorted({p[side] for p in pairs for side in ("left_key", "right_key")}))[:16]


def build_pairs(config: RunConfig, run_dir: Path) -> list[dict]:
    run_dir = Path(run_dir)
    files = read_run(run_dir)
    texts = {k: r["text"] for k, r in read_done(run_dir / GENERATIONS).items()}
    declared = corpus_mod.load_authors(config.authors_file, config.corpus_root)
    scores = [s for s in files["scores"] if s["key"] in texts or s["model"] == REFERENCE]
    real: dict[str, list[str]] = {}
    for author in sorted({s["author"] for s in scores}):
        try:
            records = {r["id"]: r["text"] for r in corpus_mod.load_records(config.corpus_dir, author, "test")}
        except CorpusError:  # no corpus here: no real poems to show for this author
            records = {}
        for s in scores:
            if s["model"] == REFERENCE and s["author"] == author and s["key"].split(":", 1)[1] in records:
                texts[s["key"]] = records[s["key"].split(":", 1)[1]]
                real.setdefault(author, []).append(s["key"])
    groups: dict[tuple, list[dict]] = {}
    for s in scores:
        if s["model"] != REFERENCE:
            groups.setdefault((s["author"], s["theme"], s["sample"]), []).append(s)
    pairs = []
    for (author, theme, sample), rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda s: s["model"])
        sides = [(s["key"], s["model"]) for s in rows]
        if real.get(author):
            ref = sorted(real[author], key=lambda k: _h(k, theme, sample))[0]
            sides.append((ref, REFERENCE))
        for (ka, ma), (kb, mb) in itertools.combinations(sides, 2):
            if ma == mb:
                continue
            pair_id = _h(ka, kb)[:16]
            if int(_h("side", pair_id)[:2], 16) % 2:
                (ka, ma), (kb, mb) = (kb, mb), (ka, ma)
            pairs.append({"pair_id": pair_id, "author": author,
                          "author_name": declared[author].name if author in declared else author, "theme": theme,
                          "left_key": ka, "right_key": kb, "left_model": ma, "right_model": mb,
                          "left_text": texts[ka], "right_text": texts[kb], "order": _h("order", pair_id)})
    if not pairs:
        raise RatingsError(f"{run_dir}: no pairs to rate (the run needs two model rows, or a model row and the "
                           "authors' held-out poems, for one author)")
    pairs.sort(key=lambda p: p["order"])
    for i, p in enumerate(pairs):
        p["position"] = i
        del p["order"]
    return pairs
