"""`poetbench eval`: generate poems with the base model and each adapter, score them, compare.

Files in the output folder (default ``reports/<run>/``), all readable by pandas:
``generations.jsonl`` (append-only cache, one row per poem), ``scores.jsonl`` (one row per poem),
``lm.jsonl`` (held-out perplexity/entropy/accuracy per model x author), ``summary.csv`` and
``summary.json`` (one row per model x author x metric with a 95% CI, and paired comparisons with the
base), ``run.json`` (config, sampling, versions, git commit, timings).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig, _f, check_fields
from poetbench.generate import (
    GENERATIONS, GenerateError, Job, ModelBank, ModelEntry, SamplingParams, generate, job_key, newest_run, read_done,
    parse_models,
)
from poetbench.io import atomic_write_json, atomic_write_jsonl, atomic_write_text
from poetbench.prompts import PromptSet, default_prompts, load_prompts, theme_for_poem

POEM_METRICS = ["p_target", "is_target", "regularity", "rhyme_rate", "exact_rhyme_share", "four_quatrains",
                "longest_copied_run", "copied_line_share", "words", "distinct_1", "distinct_2", "repeated_lines"]
LM_METRICS = ["perplexity", "entropy", "mean_token_accuracy"]


@dataclass
class EvalOptions:
    models: str = _f("base,lora", "base, lora (every adapter of the run), lora:<author>, or adapter folders; "
                     "comma-separated.")
    adapters: Path | None = _f(None, "The training run's adapter folder [default: the newest run under adapters/].")
    samples: int = _f(2, "Poems per (model, author, theme).", ge=1, le=100_000)
    themes: int | None = _f(None, "Use the first N themes [default: all].", ge=1, le=100_000)
    output_dir: Path | None = _f(None, "[default: reports/<run>/]")
    prompts_file: Path | None = _f(None, "Replace themes/templates: a TOML file (keys of poetbench/data/prompts.toml) "
                                   "or JSONL of {theme}.")
    batch_size: int = _f(8, "Prompts generated together.", ge=1, le=65536)
    seed: int = _f(42, "Sampling seed [default: the config's seed].", ge=0, lt=2**32)
    params: SamplingParams = field(default_factory=SamplingParams, metadata={"help": "Sampling parameters."})
    lm: bool = _f(True, "Compute the held-out perplexity/entropy/accuracy matrix.")
    backend: str = _f("hf", "Generation engine: transformers, or one vLLM engine with LoRA "
                      "(pip install 'poetbench[vllm]').", choices=("hf", "vllm"))
    force: bool = _f(False, "Start the output folder afresh, moving another run's files aside.")

    def __post_init__(self):
        for name in ("adapters", "output_dir", "prompts_file"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, Path(getattr(self, name)))
        check_fields(self)


@dataclass
class EvalResult:
    output_dir: Path
    summary: list[dict]
    comparisons: list[dict]
    lm: list[dict]
    run: dict


def _base_of(entries: list[ModelEntry], config: RunConfig, log) -> tuple[str, str]:
    """(path or hub id to load, id recorded in keys) of the base all adapters were trained on."""
    from poetbench.train import prepare_corpora
    from poetbench.tiny import all_train_records, ensure_tiny_base

    from poetbench.generate import adapter_manifest
    from poetbench.io import read_json_object

    bases = {}
    for e in entries:
        if e.is_base:
            continue
        manifest = adapter_manifest(e.adapter_path)
        if manifest is not None:
            bases[e.name] = manifest["base_model"]
        else:
            cfg = read_json_object(e.adapter_path / "adapter_config.json", "adapter config", GenerateError)
            bases[e.name] = {"id": cfg.get("base_model_name_or_path"), "path": cfg.get("base_model_name_or_path")}
    ids = {(b.get("id"), b.get("tiny_key")) for b in bases.values()}
    if len(ids) > 1:
        raise GenerateError("the adapters were trained on different base models: " +
                            ", ".join(f"{n}: {b.get('id')}" for n, b in bases.items()))
    wanted = "tiny" if config.is_tiny else config.base_model
    tiny_key = None
    if ids:
        base_id, tiny_key = ids.pop()
        if base_id != wanted:
            raise GenerateError(f"the adapters were trained on base {base_id!r}, not {wanted!r} "
                                f"(pass --preset/--base-model to match)")
    if not config.is_tiny:
        return config.base_model, config.base_model + (f"@{config.base_revision}" if config.base_revision else "")
    _, metas = prepare_corpora(config, authors=[], log=log)
    path = ensure_tiny_base(config, all_train_records(config, metas), {a: m["corpus_sha256"] for a, m in metas.items()},
                            log=log)
    key = read_json_object(path / "poetbench_base.json", "tiny base manifest", GenerateError)["key"]
    if tiny_key is not None and tiny_key != key:
        raise GenerateError(f"the adapters were trained on another tiny base ({tiny_key}; the corpora or the tiny "
                            f"config have changed since, giving {key}): retrain them with `poetbench train --force`")
    return str(path), "tiny:" + key


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def build_jobs(entries: list[ModelEntry], authors: dict[str, str], prompts: PromptSet, themes: list[str],
               samples: int, seed: int, base_id: str, params: SamplingParams) -> list[Job]:
    """base x every author; each adapter x its own author (an adapter of unknown author, e.g. not
    trained by poetbench, x every author); x themes x samples."""
    jobs = []
    for e in entries:
        if e.is_base or e.author is None:
            pairs = list(authors)
        else:
            pairs = [e.author] if e.author in authors else []
        for author in pairs:
            for theme in themes:
                prompt = prompts.eval_prompt(theme, authors[author])
                for k in range(samples):
                    jobs.append(Job(e.name, author, theme, k, prompt, job_key(base_id, e, prompt, params, seed + k)))
    return jobs


def score_rows(rows: list[dict], train_texts: dict[str, list[str]], classifier) -> list[dict]:
    """Per-poem scores: prosody, style, memorisation and text statistics."""
    from poetbench.metrics.text import Memorisation, text_stats
    from poetbench.prosody.scan import scan_poems

    memo = {a: Memorisation(t) for a, t in train_texts.items()}
    proba = classifier.predict_proba([r["text"] for r in rows]) if rows else []
    scans = scan_poems(r["text"] for r in rows)
    out = []
    for r, p, s in zip(rows, proba, scans):
        probs = dict(zip(classifier.authors, map(float, p)))
        predicted = max(probs, key=probs.get)
        m = memo[r["author"]]
        out.append({
            "key": r["key"], "model": r["model"], "author": r["author"], "theme": r["theme"], "sample": r["sample"],
            **_profile(s), "regularity": s.regularity, "rhyme_rate": s.rhyme_rate,
            "exact_rhyme_share": s.exact_rhyme_share, "four_quatrains": float(s.four_quatrains),
            "stanza_sizes": s.stanza_sizes,
            "p_target": probs.get(r["author"], 0.0), "predicted_author": predicted,
            "is_target": float(predicted == r["author"]),
            "longest_copied_run": m.longest_run(r["text"]), "copied_line_share": m.copied_line_share(r["text"]),
            **text_stats(r["text"]),
        })
    return out


def _distribution(scans: list[dict], what: str) -> Counter:
    if what == "meter":
        return Counter(f"{s['meter']}{s['feet'] or ''}" for s in scans)
    if what == "line_syllables":
        return Counter(min(n, 20) for s in scans for n in s["syllables"])
    return Counter(p for s in scans for p in s["rhyme_scheme"].split())


def _profile(scan) -> dict:
    """What the distribution distances compare, for generated and real poems alike."""
    return {"meter": scan.meter, "feet": scan.feet, "rhyme_scheme": scan.rhyme_scheme,
            "syllables": [ln.syllables for ln in scan.lines if ln.text.strip()]}


def _real_profile(texts: list[str]) -> list[dict]:
    from poetbench.prosody.scan import scan_poems

    return [_profile(s) for s in scan_poems(texts)]


def summarise(scores: list[dict], entries: list[ModelEntry], real: dict[str, list[dict]],
              corpora: dict[str, list[str]], generations: dict[str, dict], seed: int) -> tuple[list[dict], list[dict]]:
    from poetbench.metrics.style import cosine_delta
    from poetbench.stats import bootstrap_ci, js_divergence, paired_comparison

    summary, comparisons = [], []
    groups: dict[tuple[str, str], list[dict]] = {}
    for s in scores:
        groups.setdefault((s["model"], s["author"]), []).append(s)
    for (model, author), rows in sorted(groups.items()):
        for metric in POEM_METRICS:
            mean, low, high = bootstrap_ci([r[metric] for r in rows], seed=seed)
            summary.append({"model": model, "author": author, "metric": metric, "mean": mean, "ci_low": low,
                            "ci_high": high, "n": len(rows)})
        for what in ("meter", "line_syllables", "rhyme_scheme"):
            summary.append({"model": model, "author": author, "metric": f"js_{what}",
                            "mean": js_divergence(_distribution(rows, what), _distribution(real[author], what)),
                            "ci_low": None, "ci_high": None, "n": len(rows)})
        pool = [generations[r["key"]]["text"] for r in rows]
        delta = cosine_delta(pool, corpora)
        summary.append({"model": model, "author": author, "metric": "cosine_delta", "mean": delta[author],
                        "ci_low": None, "ci_high": None, "n": len(rows)})
        summary.append({"model": model, "author": author, "metric": "delta_closest_is_target",
                        "mean": float(min(delta, key=delta.get) == author), "ci_low": None, "ci_high": None,
                        "n": len(rows)})
    base_rows = {(s["author"], s["theme"], s["sample"]): s for s in scores if s["model"] == "base"}
    for e in entries:
        if e.is_base:
            continue
        mine = [s for s in scores if s["model"] == e.name]
        pairs = [(s, base_rows[(s["author"], s["theme"], s["sample"])]) for s in mine
                 if (s["author"], s["theme"], s["sample"]) in base_rows]
        if not pairs:
            continue
        for metric in POEM_METRICS:
            c = paired_comparison([a[metric] for a, _ in pairs], [b[metric] for _, b in pairs], seed=seed)
            comparisons.append({"model": e.name, "author": e.author, "metric": metric, **c})
    return summary, comparisons


def run_eval(config: RunConfig, opts: EvalOptions, progress=None, log: Callable[[str], None] = print) -> EvalResult:
    from poetbench.classifier import ensure_classifier
    from poetbench.metrics.lm import completion_stats
    from poetbench.models import load_model, load_tokenizer, to_accelerator
    from poetbench.runtime import versions
    from poetbench.train import prepare_corpora

    from poetbench import rundir

    t0 = time.time()
    if opts.adapters is not None:
        adapters_dir = opts.adapters
    else:
        from poetbench.workspace import Workspace

        adapters_dir = newest_run(Workspace.from_env().adapters)
    entries = parse_models(opts.models, adapters_dir)
    prompts = load_prompts(opts.prompts_file) if opts.prompts_file else default_prompts()
    themes = list(prompts.themes[: opts.themes] if opts.themes else prompts.themes)
    if not themes:
        raise GenerateError("no themes to generate for (--themes must be at least 1)")
    adapter_authors = [e.author for e in entries if not e.is_base and e.author is not None]
    wanted = list(dict.fromkeys(adapter_authors)) or list(config.authors)
    selected, metas = prepare_corpora(config, authors=wanted, log=log)
    names = {a.id: a.name for a in selected}
    base_path, base_id = _base_of(entries, config, log)
    run_name = adapters_dir.name if adapters_dir is not None and any(not e.is_base for e in entries) else \
        f"{config.preset}-base"
    out_dir = opts.output_dir or _reports_root() / run_name
    params = opts.params
    ident = rundir.identity(base_id, entries, prompts, params, opts.seed)
    if out_dir.is_dir() and ((out_dir / "adapter_config.json").exists() or
                             any((p / "adapter_config.json").exists() for p in out_dir.iterdir() if p.is_dir())):
        raise GenerateError(f"--output-dir {out_dir} holds trained adapters: write the eval run elsewhere "
                            "(e.g. reports/<run>/)")
    with rundir.folder_lock(out_dir):
        _claim(out_dir, ident, opts.force, log)
        atomic_write_json(out_dir / "run.json", {"format": "poetbench-eval/1", "status": "running",
                                                 "identity": ident, "started": time.time()})
        return _run_locked(config, opts, entries, adapters_dir, prompts, themes, wanted, metas, names, base_path,
                           base_id, out_dir, ident, t0, progress, log)


def _reports_root() -> Path:
    from poetbench.workspace import Workspace

    return Workspace.from_env().reports


def _claim(out_dir: Path, ident: dict, force: bool, log) -> None:
    """Refuse a folder that holds another run's files (or move them aside with --force)."""
    from poetbench import rundir
    from poetbench.io import read_json_object

    if force:
        moved = rundir.move_aside(out_dir)
        if moved is not None:
            log(f"--force: moved the files already in {out_dir} to {moved}")
        return
    run_json = out_dir / "run.json"
    if run_json.exists() or run_json.is_symlink():
        theirs = _identity_of(read_json_object(run_json, "run file", GenerateError))
        diffs = rundir.differences(ident, theirs)
        if diffs:
            raise GenerateError(f"{out_dir} holds another run ({'; '.join(diffs)}): use another --output-dir, or "
                                "--force to move its files aside")
    rundir.check_rows(read_done(out_dir / GENERATIONS), ident, out_dir)


def _identity_of(run: dict) -> dict:
    """The identity a run.json records (runs written before identities were recorded: derived)."""
    if isinstance(run.get("identity"), dict):
        return run["identity"]
    opts = run.get("options") if isinstance(run.get("options"), dict) else {}
    out = {}
    if isinstance(run.get("base"), dict) and "id" in run["base"]:
        out["base"] = run["base"]["id"]
    if isinstance(run.get("models"), list):
        out["models"] = sorted([m.get("name"), m.get("adapter_sha256")] for m in run["models"] if isinstance(m, dict))
    if isinstance(opts.get("prompts"), dict):
        out["templates"] = {k: v for k, v in opts["prompts"].items() if k.endswith("template")}
    if "sampling" in opts:
        out["sampling"] = opts["sampling"]
    if "seed" in opts:
        out["seed"] = opts["seed"]
    return out


def _run_locked(config, opts, entries, adapters_dir, prompts, themes, wanted, metas, names, base_path, base_id,
                out_dir, ident, t0, progress, log) -> EvalResult:
    from poetbench.classifier import ensure_classifier
    from poetbench.metrics.lm import completion_stats
    from poetbench.models import load_model, load_tokenizer, to_accelerator
    from poetbench.runtime import versions

    params = opts.params

    tokenizer = load_tokenizer(base_path, config.base_revision, config.trust_remote_code)
    model = to_accelerator(load_model(base_path, config.base_revision, config.dtype, config.trust_remote_code,
                                      config.attn_implementation))
    bank = ModelBank(model, tokenizer, entries)
    probe = prompts.eval_prompt(themes[0], names[wanted[0]])
    changes = bank.verify_adapters(probe)
    jobs = build_jobs(entries, names, prompts, themes, opts.samples, opts.seed, base_id, params)
    t_gen = time.time()
    if opts.backend == "vllm":
        from poetbench.vllm_backend import generate_vllm

        done = generate_vllm(entries, jobs, out_dir / GENERATIONS, params, opts.batch_size, base_id, base_path,
                             config, progress)
    elif opts.backend == "hf":
        done = generate(bank, jobs, out_dir / GENERATIONS, params, opts.batch_size, base_id, progress)
    else:
        raise GenerateError(f"unknown backend {opts.backend!r}: use hf or vllm")
    gen_s = time.time() - t_gen
    rows = [done[j.key] for j in jobs]

    train_texts = {a: [r["text"] for r in corpus_mod.load_records(config.corpus_dir, a, "train")] for a in metas}
    classifier = ensure_classifier(config, log=log)
    scores = score_rows(rows, {a: train_texts[a] for a in wanted}, classifier)
    atomic_write_jsonl(out_dir / "scores.jsonl", scores)

    lm_rows = []
    if opts.lm:
        for author in wanted:
            test = corpus_mod.load_records(config.corpus_dir, author, "test")
            ps = [prompts.train_prompt(theme_for_poem(r.get("title"), r["text"]), names[author]) for r in test]
            cs = [r["text"] for r in test]
            for e in entries:
                with bank.use(e.name) as m:
                    stats = completion_stats(m, tokenizer, ps, cs, batch_size=opts.batch_size,
                                             max_length=config.max_length)
                lm_rows.append({"model": e.name, "model_author": e.author, "author": author, "split": "test",
                                "poems": len(test), **stats})
        atomic_write_jsonl(out_dir / "lm.jsonl", lm_rows)

    real = {a: _real_profile(train_texts[a]) for a in wanted}
    summary, comparisons = summarise(scores, entries, real, train_texts, done, opts.seed)
    for r in lm_rows:
        for metric in LM_METRICS:
            summary.append({"model": r["model"], "author": r["author"], "metric": f"heldout_{metric}",
                            "mean": r[metric], "ci_low": None, "ci_high": None, "n": r["poems"]})
    from poetbench.prosody.meter import meter_label

    real_meters = {a: dict(Counter(meter_label(r["meter"], r["feet"]) for r in real[a])) for a in wanted}
    write_summary(out_dir, summary, comparisons, {"meters": real_meters})
    run = {
        "format": "poetbench-eval/1", "status": "complete", "identity": ident, "config": config.to_dict(), "options": {
            "models": opts.models, "adapters": str(adapters_dir) if adapters_dir else None, "samples": opts.samples,
            "themes": themes, "batch_size": opts.batch_size, "seed": opts.seed, "sampling": params.to_dict(),
            "backend": opts.backend,
            "prompts": prompts.to_dict(), "all_themes": list(prompts.themes)},
        "base": {"path": base_path, "id": base_id},
        "models": [{"name": e.name, "adapter": str(e.adapter_path) if e.adapter_path else None, "author": e.author,
                    "adapter_sha256": e.adapter_sha256, "probe_change": changes.get(e.name)} for e in entries],
        "authors": wanted, "corpora": {a: metas[a]["corpus_sha256"] for a in wanted},
        "classifier": str(classifier.path), "versions": versions(), "git_commit": _git_commit(),
        "timings": {"generation_s": round(gen_s, 1), "total_s": round(time.time() - t0, 1),
                    "poems": len(jobs), "poems_per_s": round(len(jobs) / gen_s, 2) if gen_s > 0 else None},
    }
    atomic_write_json(out_dir / "run.json", run)
    return EvalResult(out_dir, summary, comparisons, lm_rows, run)


def write_summary(out_dir: Path, summary: list[dict], comparisons: list[dict], real: dict | None = None) -> None:
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["model", "author", "metric", "mean", "ci_low", "ci_high", "n"])
    w.writeheader()
    w.writerows(summary)
    atomic_write_text(out_dir / "summary.csv", buf.getvalue())
    atomic_write_json(out_dir / "summary.json", {"summary": summary, "comparisons": comparisons,
                                                 "real_author": real or {}})


