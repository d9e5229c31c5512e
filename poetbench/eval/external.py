"""``poetbench score --poems FILE.jsonl --name NAME``: poems made elsewhere (another model, an API, a
person) scored with every metric, as one more model row, into an output folder with the same files
as an eval run (generations.jsonl, scores.jsonl, summary.csv/json, run.json), beside the
``reference`` rows of the authors' held-out poems."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.eval import rundir
from poetbench.eval.plan import EvalOptions, Plan
from poetbench.eval.poems import read_poems, say_empty
from poetbench.io import atomic_write_json, atomic_write_jsonl
from poetbench.workspace import Workspace

def score_poems(config: RunConfig, poems: Path, name: str, output_dir: Path | None = None,
                log: Callable[[str], None] = print, ws: Workspace | None = None):
    """Score the poems of ``poems`` as model ``name``; see the module docstring."""
    from poetbench.eval.stages import EvalResult, score_all, timings_of, write
    from poetbench.eval.summary import summarise
    from poetbench.prompts import default_prompts

    ws = ws or Workspace.from_env()
    t0 = time.time()
    _, metas = corpus_mod.prepare_corpora(config, authors=[], log=log)
    rows = read_poems(Path(poems), name, set(metas))
    say_empty(rows, name, log)
    authors = list(dict.fromkeys(r["author"] for r in rows))
    declared = corpus_mod.load_authors(config.authors_file, config.corpus_root)
    out_dir = output_dir or ws.reports / f"score-{name.replace(':', '-')}"
    digest = corpus_mod.file_sha256(Path(poems))
    plan = Plan(config, EvalOptions(models=name), ws, [], None, default_prompts(), [], authors,
                {a: declared[a].name for a in authors}, metas, "", f"external:{name}", out_dir, config.seed)
    plan.identity = {"base": f"external:{name}", "models": [[name, digest]], "templates": {}, "themes": [],
                     "sampling": {}, "seed": config.seed}
    with rundir.folder_lock(out_dir), ws.exported():
        from poetbench.eval.plan import claim

        claim(plan, log)
        atomic_write_jsonl(out_dir / "generations.jsonl", rows)
        scored = score_all(plan, rows, log)
        summary, comparisons = summarise(plan, scored, [])
        run = write(plan, summary, comparisons, scored.real, {}, scored.classifier,
                    timings_of(plan, 0.0, time.time() - t0))
        run.update({"format": "poetbench-score/1", "poems": {"file": str(poems), "sha256": digest, "name": name},
                    "models": [{"name": name, "adapter": None, "author": None, "external": True}]})
        atomic_write_json(out_dir / "run.json", run)
    return EvalResult(out_dir, summary, comparisons, [], run)
