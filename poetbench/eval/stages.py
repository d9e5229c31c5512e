"""`poetbench eval` as stages: plan -> generate -> score -> held-out -> summarise -> write.

Each stage is a function with plain inputs and outputs, and each arrow is a file in the output
folder (default ``reports/<run>/``), all readable by pandas: ``generations.jsonl`` (append-only
cache, one row per poem), ``scores.jsonl`` (one row per poem: every ``poem`` metric of the registry
plus what the report shows: meter, rhyme scheme, per-line stresses and rhyme letters),
``lm.jsonl`` (held-out perplexity/entropy/accuracy per model x author), ``summary.csv`` and
``summary.json`` (one row per model x author x metric with a 95% BCa CI, and paired comparisons
with the base), ``run.json`` (identity, config, sampling, versions, git commit, classifier, timings).
``run_eval`` only composes the stages.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import GenerateError, PoetbenchError
from poetbench.eval import rundir
from poetbench.eval.heldout import LM, heldout, read_cached
from poetbench.eval.plan import EvalOptions, Plan, check_output_dir, claim, make_plan
from poetbench.generation import GENERATIONS, make_backend, run_jobs
from poetbench.io import atomic_write_json, atomic_write_jsonl, atomic_write_text
from poetbench.metrics import registry
from poetbench.eval.summary import REFERENCE, reference_record, summarise
from poetbench.metrics.registry import PoemEvidence
from poetbench.prompts import theme_for_poem
from poetbench.workspace import Workspace

SUMMARY_FIELDS = ["model", "author", "metric", "mean", "ci_low", "ci_high", "n", "n_seeds"]


@dataclass
class EvalResult:
    output_dir: Path
    summary: list[dict]
    comparisons: list[dict]
    lm: list[dict]
    run: dict


def run_eval(config: RunConfig, opts: EvalOptions, progress=None, log: Callable[[str], None] = print,
             ws: Workspace | None = None) -> EvalResult | None:
    """Generate poems with the base model and each adapter, score them, and compare them. Under
    ``accelerate launch`` every rank generates its share of the batches into its own file; rank 0
    merges them, scores and writes (other ranks return None)."""
    from contextlib import ExitStack

    from poetbench.runtime import broadcast, rank, world_size

    ws = ws or Workspace.from_env()
    t0 = time.time()
    plan = make_plan(config, opts, ws, log)
    distributed = world_size() > 1
    with ExitStack() as stack:
        stack.enter_context(ws.exported())  # the judge's scans find this workspace's stress dictionaries
        failure, lm_cached = None, {}
        if rank() == 0:  # one process claims the folder; a refusal stops every rank
            try:
                check_output_dir(plan.out_dir)
                stack.enter_context(rundir.folder_lock(plan.out_dir))
                claim(plan, log)
                # the held-out rows already computed here; a damaged file stops the run before it writes anything
                lm_cached = read_cached(plan.out_dir / LM) if opts.lm else {}
                atomic_write_json(plan.out_dir / "run.json", {"format": "poetbench-eval/1", "status": "running",
                                                              "identity": plan.identity,
                                                              "timings": {"earlier": plan.earlier}})
            except PoetbenchError as e:
                if not distributed:
                    raise
                failure = e
        if distributed:
            message = broadcast(str(failure) if failure else None)
            if failure is not None:
                raise failure
            if message is not None:
                raise GenerateError(message)
        backend = make_backend(opts.backend, plan.entries, plan.base_path, config,
                               tensor_parallel_size=opts.tensor_parallel_size, merge=opts.merge_adapters)
        t_gen = time.time()
        rows, probe = generate(plan, backend, progress)
        gen_s = time.time() - t_gen
        if distributed and rank() != 0:
            backend.close()
            return None
        scored = score_all(plan, rows + plan.also_rows, log)
        lm_rows = heldout(plan, backend, lm_cached, progress) if opts.lm else []
        backend.close()
        summary, comparisons = summarise(plan, scored, lm_rows)
        run = write(plan, summary, comparisons, scored.real, probe, scored.classifier,
                    timings_of(plan, gen_s, time.time() - t0))
    return EvalResult(plan.out_dir, summary, comparisons, lm_rows, run)


# --------------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------------


def generate(plan: Plan, backend, progress=None, after_batch=None) -> tuple[list[dict], dict[str, float]]:
    """Every job's row (cached ones read back), and each adapter's probe change. The probe runs in
    the backend that generates, only when there is something to generate."""
    from poetbench.generation.backend import (generated_batch_size, merge_rank_files, pending, rank_file, rank_files,
                                              read_done)
    from poetbench.runtime import broadcast, rank, wait_for_everyone, world_size

    out = plan.out_dir / GENERATIONS
    world = world_size()
    probe = {}
    leftovers = rank_files(out)  # of an interrupted distributed run
    if world == 1 and leftovers:
        merge_rank_files(out, plan.jobs, plan.opts.batch_size or 8)
        leftovers = []
    cached = read_done(out)
    for f in leftovers:  # (distributed: merged by rank 0 once every rank has finished)
        cached.update(read_done(f))
    missing = [j for j in plan.jobs if j.key not in cached]
    if missing:
        plan.batch_size = plan.opts.batch_size or backend.auto_batch_size(plan.jobs, plan.params)
    else:  # nothing to generate: run.json records the size the poems were generated with
        plan.batch_size = generated_batch_size(plan.jobs, cached) or plan.opts.batch_size or 8
    if world > 1:
        plan.batch_size = broadcast(plan.batch_size)  # the batches (and seeds) must be those of one process
    todo = pending(plan.jobs, cached, plan.batch_size)
    if todo[rank()::world]:
        probe = backend.probe(plan.prompts.eval_prompt(plan.themes[0], plan.names[plan.authors[0]]))
    if world > 1:
        run_jobs(backend, plan.jobs, rank_file(out, rank()), plan.params, plan.batch_size, plan.base_id, progress,
                 after_batch=after_batch, done=cached, shard=(rank(), world))
        wait_for_everyone()
        if rank() != 0:
            return [], probe
        done = merge_rank_files(out, plan.jobs, plan.batch_size)
    else:
        done = run_jobs(backend, plan.jobs, out, plan.params, plan.batch_size, plan.base_id, progress,
                        after_batch=after_batch, done=cached)
    plan.cached = sum(j.key in cached for j in plan.jobs)
    return [done[j.key] for j in plan.jobs], probe


# --------------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------------


def score(plan: Plan, rows: list[dict], classifier, train_texts: dict[str, list[str]], features) -> list[dict]:
    """One row per poem: every poem-level metric of the registry, the prosodic profile the
    distribution distances use, and the per-line analysis the report shows. ``features``: the
    rows' style features (``classifier.features``), computed once for scoring and detectability."""
    from poetbench.metrics.prosody import line_scans, profile
    from poetbench.metrics.style import predicted_author
    from poetbench.metrics.text import Memorisation
    from poetbench.prosody.scan import scan_poems

    memo = {a: Memorisation(train_texts[a]) for a in plan.authors}
    texts = [r["text"] for r in rows]
    proba = classifier.proba_of_features(features) if rows else []
    out = []
    for r, p, scan in zip(rows, proba, scan_poems(texts)):
        ev = PoemEvidence(r["text"], r["author"], scan, dict(zip(classifier.authors, map(float, p))), memo[r["author"]])
        row = {"key": r["key"], "model": r["model"], "author": r["author"], "theme": r["theme"],
               "sample": r["sample"], **profile(scan), "stanza_sizes": scan.stanza_sizes,
               "predicted_author": predicted_author(ev), "lines": ev.text_stats["lines"]}
        if r.get("weights"):  # one training seed of the row's adapter
            row["weights"] = r["weights"]
        row.update({m.name: m.fn(ev) for m in registry.metrics("poem")})
        row["line_scans"] = line_scans(scan)
        out.append(row)
    return out


def reference_rows(plan: Plan) -> list[dict]:
    """Each author's held-out test poems (real, never trained on), as the rows of a model named
    ``reference``: every per-poem metric gets the value the poet's own unseen poems have."""
    rows = []
    for author in plan.authors:
        for i, r in enumerate(corpus_mod.load_records(plan.config.corpus_dir, author, "test")):
            rows.append({"key": f"{REFERENCE}:{r['id']}", "model": REFERENCE, "author": author,
                         "theme": theme_for_poem(r.get("title"), r["text"]), "sample": i, "text": r["text"],
                         "work": work_of(r)})
    return rows


def work_of(record: dict) -> str:
    """The work a corpus record belongs to: its parts (a long work split) share title and source."""
    return f"{record.get('title')}|{record.get('source')}" if record.get("part") else record["id"]


@dataclass
class Scored:
    scores: list[dict]
    texts: dict[str, str]  # every scored poem by key
    real: dict[str, list[dict]]  # per author, the profiles the distribution distances compare with
    classifier: object
    train_texts: dict[str, list[str]]
    features: object = None  # the judge's style features, one row per score row
    works: dict[str, str] = field(default_factory=dict)  # the reference poems' works, by key

    @cached_property
    def delta_space(self):
        """Cosine Delta's side of the authors' training texts, fitted once for every group."""
        from poetbench.metrics.style import DeltaSpace

        return DeltaSpace(self.train_texts)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {s["key"]: i for i, s in enumerate(self.scores)}

    def features_of(self, keys: list[str]):
        """The feature rows of the poems with these keys (None when there are none)."""
        if self.features is None or not keys:
            return None
        return self.features[[self._index[k] for k in keys]]


def score_all(plan: Plan, rows: list[dict], log, classifier=None) -> Scored:
    """Score ``rows`` beside the reference rows with the judge (the given one, else the configured
    corpora's), and write scores.jsonl. The real profiles are the reference's (the held-out poems),
    else the training poems' (no test split)."""
    classifier = classifier or judge_for(plan.config, plan.ws, log)
    train_texts = {a: [r["text"] for r in corpus_mod.load_records(plan.config.corpus_dir, a, "train")]
                   for a in plan.metas}
    rows = rows + reference_rows(plan)
    features = classifier.features([r["text"] for r in rows]) if rows else None
    scores = score(plan, rows, classifier, train_texts, features)
    atomic_write_jsonl(plan.out_dir / "scores.jsonl", scores)
    real = {a: [profile_of(s) for s in scores if s["model"] == REFERENCE and s["author"] == a]
            or real_profiles(train_texts[a]) for a in plan.authors}
    return Scored(scores, {r["key"]: r["text"] for r in rows}, real, classifier, train_texts, features,
                  {r["key"]: r["work"] for r in rows if "work" in r})


def profile_of(score_row: dict) -> dict:
    return {k: score_row[k] for k in ("meter", "feet", "rhyme_scheme", "syllables")}


def real_profiles(texts: list[str]) -> list[dict]:
    from poetbench.metrics.prosody import profile
    from poetbench.prosody.scan import scan_poems

    return [profile(s) for s in scan_poems(texts)]


def judge_for(config, ws, log):
    from poetbench.style.classifier import ensure_classifier

    return ensure_classifier(config, log=log, ws=ws)


def timings_of(plan: Plan, gen_s: float, total_s: float) -> dict:
    """Poems/s counts only the poems generated by this run (not those read back from the cache);
    ``earlier``: the timings of the earlier runs that generated poems in this folder (``claim``)."""
    generated = len(plan.jobs) - plan.cached
    return {"generation_s": round(gen_s, 1), "total_s": round(total_s, 1), "poems": len(plan.jobs),
            "generated": generated, "cached": plan.cached,
            "poems_per_s": round(generated / gen_s, 2) if generated and gen_s > 0 else None,
            **({"earlier": plan.earlier} if plan.earlier else {})}


# --------------------------------------------------------------------------------------------
# write
# --------------------------------------------------------------------------------------------


def write(plan: Plan, summary: list[dict], comparisons: list[dict], real: dict[str, list[dict]], probe: dict,
          classifier, timings: dict) -> dict:
    """summary.csv, summary.json and the final run.json: what the report reads, so it never
    recomputes (the classifier's evaluation and the training table's path are recorded here)."""
    from poetbench.runtime import versions
    from poetbench.style.classifier import judge_record

    config, opts = plan.config, plan.opts
    write_summary(plan.out_dir, summary, comparisons, real_author_of(plan, real))
    training = _training_csv(plan)
    run = {
        "format": "poetbench-eval/1", "status": "complete", "identity": plan.identity, "config": config.to_dict(),
        "options": {
            "models": opts.models, "adapters": str(plan.adapters_dir) if plan.adapters_dir else None,
            "samples": opts.samples, "themes": plan.themes, "batch_size": plan.batch_size,
            "batch_size_option": opts.batch_size or "auto", "merge_adapters": opts.merge_adapters, "seed": plan.seed,
            "sampling": plan.params.to_dict(), "backend": opts.backend, "prompts": plan.prompts.to_dict(),
            "lm": opts.lm, "all_themes": list(plan.prompts.themes), "also": plan.also_files,
            "controls": [{"model": name, "against": against} for name, against in plan.controls]},
        "base": {"path": plan.base_path, "id": plan.base_id},
        "models": [{"name": e.name, "row": e.label, "adapter": str(e.adapter_path) if e.adapter_path else None,
                    "author": e.author, "adapter_sha256": e.adapter_sha256, "probe_change": probe.get(e.name)}
                   for e in plan.entries],
        "n_seeds": max([sum(f.label == e.label for f in plan.entries) for e in plan.entries] or [1]),
        "authors": plan.authors, "corpora": {a: plan.metas[a]["corpus_sha256"] for a in plan.authors},
        "reference": reference_record(summary),
        "classifier": judge_record(classifier),
        "training_csv": training,
        "versions": versions(), "git_commit": _git_commit(), "timings": timings,
    }
    atomic_write_json(plan.out_dir / "run.json", run)
    return run


def real_author_of(plan: Plan, real: dict[str, list[dict]]) -> dict:
    """What summary.json records of the real authors: each one's meters (the report's chart)."""
    from poetbench.prosody.meter import meter_label

    return {"meters": {a: dict(Counter(meter_label(r["meter"], r["feet"]) for r in real[a])) for a in plan.authors}}


def _training_csv(plan: Plan) -> str | None:
    """The adapters' training table, copied into the run folder (so the run stands alone): from
    beside the adapters, or from where `poetbench train` wrote it. Its name in the run folder."""
    import shutil

    own = plan.out_dir / "training.csv"
    if plan.adapters_dir is not None and not own.exists():
        for candidate in (plan.adapters_dir / "training.csv", plan.ws.reports / plan.adapters_dir.name / "training.csv"):
            if candidate.is_file() and candidate.resolve() != own.resolve():
                shutil.copyfile(candidate, own)
                break
    return own.name if own.is_file() else None


def write_summary(out_dir: Path, summary: list[dict], comparisons: list[dict], real: dict | None = None) -> None:
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS)
    w.writeheader()
    w.writerows(summary)
    atomic_write_text(out_dir / "summary.csv", buf.getvalue())
    atomic_write_json(out_dir / "summary.json", {"summary": summary, "comparisons": comparisons,
                                                 "real_author": real or {}})


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None
