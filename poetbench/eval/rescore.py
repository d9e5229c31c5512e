"""``poetbench score RUN_DIR [--judge KEY]``: a run's poems scored again, without generating again.

The poems are the run's own (``generations.jsonl``, and the ``--also`` files it recorded, which must
be unchanged); the judge is the one given, else the one the run recorded (its key is in run.json),
so re-scoring never changes a run's figures unless asked to. The files it rewrites (scores.jsonl,
summary.csv/json, run.json, report.html) are first copied into ``<run>/replaced-<time>/``.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import GenerateError
from poetbench.eval import rundir
from poetbench.eval.plan import EvalOptions, Plan
from poetbench.eval.runfiles import held_out_rows
from poetbench.generation import GENERATIONS, ModelEntry, read_done
from poetbench.io import atomic_write_json, read_json_object
from poetbench.workspace import Workspace

REWRITTEN = ("scores.jsonl", "summary.csv", "summary.json", "run.json", "report.html")


def rescore_run(config: RunConfig, run_dir: Path, judge: str | None = None, log: Callable[[str], None] = print,
                ws: Workspace | None = None, out_dir: Path | None = None):
    """Score ``run_dir``'s poems again (see the module docstring); with ``out_dir``, into that folder
    (with a copy of the run's generations), leaving the run as it is."""
    from poetbench.eval.poems import read_poems
    from poetbench.eval.stages import EvalResult, real_author_of, score_all, write_summary
    from poetbench.eval.summary import reference_record, summarise
    from poetbench.prompts import default_prompts
    from poetbench.style.classifier import judge_folder, judge_record
    from poetbench.style.store import load

    ws = ws or Workspace.from_env()
    run_dir = Path(run_dir)
    run_json = run_dir / "run.json"
    if not run_json.is_file() or not (run_dir / GENERATIONS).is_file():
        raise GenerateError(f"{run_dir} is not an eval run's folder (needs run.json and {GENERATIONS})")
    run = read_json_object(run_json, "run file", GenerateError)
    recorded = run.get("classifier") if isinstance(run.get("classifier"), dict) else {}
    key = judge or recorded.get("key")
    if not isinstance(key, str) or not key:
        raise GenerateError(f"the run records no judge: name one with --judge KEY (a folder name under {ws.classifiers})",
                            run_json, field="classifier.key")
    classifier = load(judge_folder(ws.classifiers, key), warn=log)
    _, metas = corpus_mod.prepare_corpora(config, authors=[], log=log)
    models = [m for m in run.get("models", []) if isinstance(m, dict) and isinstance(m.get("name"), str)]
    opts = run.get("options") if isinstance(run.get("options"), dict) else {}
    controls = [(c["model"], c["against"]) for c in opts.get("controls") or []
                if isinstance(c, dict) and isinstance(c.get("model"), str) and isinstance(c.get("against"), str)]
    names = {m.get("row") or m["name"] for m in models} | {name for name, _ in controls}
    rows = [r for r in read_done(run_dir / GENERATIONS).values() if r.get("model") in names]
    for f in opts.get("also") or []:
        path = Path(f.get("file", ""))
        if not path.is_file() or corpus_mod.file_sha256(path) != f.get("sha256"):
            raise GenerateError(f"the run's --also file {path} is gone or has changed since the run; restore it "
                                "to re-score the run", run_json, field="options.also")
        rows += read_poems(path, f["name"], set(metas))
    authors = [a for a in run.get("authors", []) if a in metas]
    if not authors:
        raise GenerateError(f"none of the run's authors has a corpus here ({', '.join(run.get('authors', []))})",
                            run_json, field="authors")
    rows = [r for r in rows if r["author"] in authors]
    declared = corpus_mod.load_authors(config.authors_file, config.corpus_root)
    changed = [a for a in authors if (run.get("corpora") or {}).get(a) not in (None, metas[a]["corpus_sha256"])]
    if changed:
        log(f"[yellow]note[/]: the corpora of {', '.join(changed)} changed since the run: the reference rows are "
            "their held-out poems as they are now")
    entries = [ModelEntry(m["name"], Path(m["adapter"]) if m.get("adapter") else None, m.get("author"),
                          m.get("adapter_sha256"), m.get("row") if m.get("row") not in (None, m["name"]) else None)
               for m in models if not m.get("external")]
    seed = opts.get("seed") if isinstance(opts.get("seed"), int) else config.seed
    dest = Path(out_dir) if out_dir is not None else run_dir
    plan = Plan(config, EvalOptions(models=",".join(sorted(names)) or "base"), ws, entries, None, default_prompts(),
                [], authors, {a: declared[a].name for a in authors}, metas, "", "", dest, seed)
    plan.controls = controls
    t0 = time.time()
    with rundir.folder_lock(dest), ws.exported():
        kept = rundir.keep_copies(run_dir, REWRITTEN) if dest == run_dir else None
        if dest != run_dir:
            for name in (GENERATIONS, "lm.jsonl"):
                if (run_dir / name).is_file():
                    shutil.copyfile(run_dir / name, dest / name)
        scored = score_all(plan, rows, log, classifier=classifier)
        lm_rows = held_out_rows(run_dir, run, GenerateError)
        summary, comparisons = summarise(plan, scored, lm_rows)
        write_summary(dest, summary, comparisons, real_author_of(plan, scored.real))
        run.update({
            "classifier": judge_record(classifier),
            "reference": reference_record(summary),
            "rescored": {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "judge": classifier.path.name,
                         "previous_judge": recorded.get("key"), "previous_files": kept.name if kept else None,
                         "seconds": round(time.time() - t0, 1)},
        })
        if dest != run_dir:
            run["rescored"]["from"] = str(run_dir)
        atomic_write_json(dest / "run.json", run)
    return EvalResult(dest, summary, comparisons, lm_rows, run)
