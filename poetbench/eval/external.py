"""``poetbench score --poems FILE.jsonl --name NAME``: poems made elsewhere (another model, an API, a
person) scored with every metric, as one more model row, into an output folder with the same files
as an eval run (generations.jsonl, scores.jsonl, summary.csv/json, run.json), beside the
``reference`` rows of the authors' held-out poems."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import ConfigError, CorpusError
from poetbench.eval import rundir
from poetbench.eval.plan import EvalOptions, Plan
from poetbench.io import atomic_write_json, atomic_write_jsonl, iter_jsonl, read_bytes
from poetbench.workspace import Workspace

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,63}$")
RESERVED = ("base", "reference")


def read_poems(path: Path, name: str, known_authors: set[str]) -> list[dict]:
    """The file's rows as generation rows of model ``name``: ``author`` (a known author id) and
    ``text`` (a non-empty string) required, ``theme`` and ``id`` optional; a bad row is one error
    naming its line and field."""
    if not NAME.match(name or "") or name in RESERVED or name.startswith("lora"):
        raise ConfigError(f"--name {name!r}: give a name of letters, digits and :_.@- (not base, reference or "
                          "lora...)")
    rows, seen, counts = [], {}, {}
    for line, obj in iter_jsonl(path):
        author = obj.get("author")
        if not isinstance(author, str) or author not in known_authors:
            raise CorpusError(f"must be one of the authors with a corpus: {', '.join(sorted(known_authors))}",
                              path, line, "author")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError("missing, empty or not a string", path, line, "text")
        theme = obj.get("theme", "")
        if not isinstance(theme, str):
            raise CorpusError("must be a string", path, line, "theme")
        ident = obj.get("id", line)
        if not isinstance(ident, (str, int)) or isinstance(ident, bool):
            raise CorpusError("must be a string or a number", path, line, "id")
        if str(ident) in seen:
            raise CorpusError(f"duplicate id {ident!r} (first at line {seen[str(ident)]})", path, line, "id")
        seen[str(ident)] = line
        sample = counts[(author, theme)] = counts.get((author, theme), -1) + 1
        rows.append({"key": f"{name}:{ident}", "model": name, "author": author, "theme": theme, "sample": sample,
                     "prompt": None, "text": text.strip(), "tokens": None, "backend": "external", "id": ident})
    if not rows:
        raise CorpusError("holds no poems", path)
    return rows


def score_poems(config: RunConfig, poems: Path, name: str, output_dir: Path | None = None,
                log: Callable[[str], None] = print, ws: Workspace | None = None):
    """Score the poems of ``poems`` as model ``name``; see the module docstring."""
    from poetbench.eval.stages import (
        EvalResult, REFERENCE, judge_for, profile_of, real_profiles, reference_rows, score, summarise, timings_of,
        write,
    )
    from poetbench.prompts import default_prompts

    ws = ws or Workspace.from_env()
    t0 = time.time()
    _, metas = corpus_mod.prepare_corpora(config, authors=[], log=log)
    rows = read_poems(Path(poems), name, set(metas))
    authors = list(dict.fromkeys(r["author"] for r in rows))
    declared = corpus_mod.load_authors(config.authors_file, config.corpus_root)
    out_dir = output_dir or ws.reports / f"score-{name.replace(':', '-')}"
    digest = hashlib.sha256(read_bytes(Path(poems))).hexdigest()
    plan = Plan(config, EvalOptions(models=name), ws, [], None, default_prompts(), [], authors,
                {a: declared[a].name for a in authors}, metas, "", f"external:{name}", out_dir, config.seed)
    plan.identity = {"base": f"external:{name}", "models": [[name, digest]], "templates": {}, "themes": [],
                     "sampling": {}, "seed": config.seed}
    with rundir.folder_lock(out_dir):
        from poetbench.eval.plan import claim

        claim(plan, log)
        atomic_write_jsonl(out_dir / "generations.jsonl", rows)
        classifier = judge_for(config, ws, log)
        train_texts = {a: [r["text"] for r in corpus_mod.load_records(config.corpus_dir, a, "train")] for a in metas}
        reference = reference_rows(plan)
        scores = score(plan, rows + reference, classifier, train_texts)
        atomic_write_jsonl(out_dir / "scores.jsonl", scores)
        real = {a: [profile_of(s) for s in scores if s["model"] == REFERENCE and s["author"] == a]
                or real_profiles(train_texts[a]) for a in authors}
        summary, comparisons = summarise(plan, scores, {r["key"]: r["text"] for r in rows + reference}, [], real,
                                         train_texts)
        run = write(plan, summary, comparisons, real, {}, classifier, timings_of(plan, 0.0, time.time() - t0),
                    {a: sum(r["author"] == a for r in reference) for a in authors})
        run.update({"format": "poetbench-score/1", "poems": {"file": str(poems), "sha256": digest, "name": name},
                    "models": [{"name": name, "adapter": None, "author": None, "external": True}]})
        atomic_write_json(out_dir / "run.json", run)
    return EvalResult(out_dir, summary, comparisons, [], run)
