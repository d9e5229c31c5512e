"""The first stage of ``poetbench eval``: from options to a plan (models, base, prompts, authors, jobs,
the output folder and the run's identity), with every input checked before anything is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig, SamplingParams, check_fields, documented
from poetbench.errors import ConfigError, GenerateError
from poetbench.eval import rundir
from poetbench.generation import Job, ModelEntry, adapter_manifest, job_key, newest_run, parse_models
from poetbench.io import read_json_object
from poetbench.prompts import PromptSet, default_prompts, load_prompts
from poetbench.workspace import Workspace


@dataclass
class EvalOptions:
    """Options of ``poetbench eval`` (the CLI's options come from this metadata)."""

    models: str = documented("base,lora", "base, lora (every adapter of the run), lora:<author>, or adapter folders; "
                     "comma-separated.")
    adapters: Path | None = documented(None, "The training run's adapter folder [default: the newest run under adapters/].",
                               path="dir")
    samples: int = documented(2, "Poems per (model, author, theme).", ge=1, le=100_000)
    themes: int | None = documented(None, "Use the first N themes [default: all].", ge=1, le=100_000)
    output_dir: Path | None = documented(None, "Where the run's files go [default: reports/<run>/].", path="dir")
    prompts_file: Path | None = documented(None, "Replace themes/templates: a TOML file (keys of poetbench/data/prompts.toml) "
                                   "or JSONL of {theme}.", cli="--prompts", path="existing_file")
    batch_size: int | None = documented(None, "Prompts generated together: a number, or auto (the largest batch that fits "
                                        "the GPU's free memory; 64 on a CPU). Poems are reproducible for a fixed batch "
                                        "size; run.json records the one used.", ge=1, le=65536, cli_type="batch")
    merge_adapters: bool = documented(True, "hf backend: merge each adapter into the base weights for its batches "
                                      "(restored after; the same poems up to float rounding, faster).", flag=True,
                                      cli="--merge-adapters")
    seed: int | None = documented(None, "Sampling seed [default: the config's seed].", ge=0, lt=2**32)
    params: SamplingParams = field(default_factory=SamplingParams, metadata={"help": "Sampling parameters."})
    lm: bool = documented(True, "Compute the held-out perplexity/entropy/accuracy matrix (--no-lm skips it).", flag=True)
    backend: str = documented("hf", "Generation engine: transformers, or one vLLM engine with LoRA "
                      "(pip install 'poetbench[vllm]').", choices=("hf", "vllm"))
    tensor_parallel_size: int = documented(1, "vLLM only: GPUs one model is split across (for bases that do not fit one).",
                                   ge=1, le=64)
    force: bool = documented(False, "The output folder holds another run: move its files aside and start afresh.")
    controls: bool = documented(False, "Add prompt controls: the base prompted without the poet's name (base:anon) "
                                "and each adapter prompted with another author's name (lora:<author>@<other>), "
                                "compared paired with base and with the adapter.")
    report_to: str = documented("none", "Log the summary (and the HTML as an artifact) to an experiment tracker "
                                "(its package must be installed).", choices=("none", "tensorboard", "wandb", "mlflow"))
    also: list[str] = documented([], "Poems made elsewhere to add as model rows: FILE.jsonl:NAME (rows with author, "
                                 "text[, theme, id]); comma-separated.")

    def __post_init__(self):
        for name in ("adapters", "output_dir", "prompts_file"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, Path(getattr(self, name)))
        check_fields(self)


def sampling_for(config: RunConfig, **given) -> SamplingParams:
    """Sampling parameters: those given, else the defaults (``max_new_tokens``: 160 on the tiny
    preset, whose poems are short, else 512)."""
    given.setdefault("max_new_tokens", 160 if config.is_tiny else 512)
    return SamplingParams(**given)


@dataclass
class Plan:
    config: RunConfig
    opts: EvalOptions
    ws: Workspace
    entries: list[ModelEntry]
    adapters_dir: Path | None
    prompts: PromptSet
    themes: list[str]
    authors: list[str]  # the authors poems are generated for
    names: dict[str, str]  # author id -> Russian name
    metas: dict[str, dict]  # every available author's corpus meta
    base_path: str
    base_id: str
    out_dir: Path
    seed: int
    jobs: list[Job] = field(default_factory=list)
    identity: dict = field(default_factory=dict)
    controls: list[tuple[str, str]] = field(default_factory=list)  # (control row, the row it is compared with)
    also_rows: list[dict] = field(default_factory=list)  # the poems of --also FILE.jsonl:NAME, as rows
    also_files: list[dict] = field(default_factory=list)  # their files: {"file", "name", "sha256"}
    cached: int = 0  # jobs whose poems were already in generations.jsonl
    batch_size: int = 8  # the generation batch size used (``--batch-size auto`` resolved)
    earlier: list[dict] = field(default_factory=list)  # earlier runs' generation timings in this folder

    @property
    def params(self) -> SamplingParams:
        return self.opts.params


def make_plan(config: RunConfig, opts: EvalOptions, ws: Workspace, log) -> Plan:
    from poetbench.trackers import require

    require(opts.report_to)
    adapters_dir = opts.adapters if opts.adapters is not None else newest_run(ws.adapters)
    items = [m.strip() for m in (opts.models or "").split(",")]
    if adapters_dir is None and all(items) and any(m == "lora" or m.startswith("lora:") for m in items):
        raise GenerateError(f"no trained adapters under {ws.adapters} (the project folder is {ws.root}): run "
                            "`poetbench train` first, pass --adapters DIR, or point at the project with --project DIR "
                            "or POETBENCH_PROJECT")
    entries = parse_models(opts.models, adapters_dir)
    if opts.adapters is None and adapters_dir is not None and any(not e.is_base for e in entries):
        log(f"adapters: the newest run, {adapters_dir} (pass --adapters DIR for another)")
    prompts = load_prompts(opts.prompts_file) if opts.prompts_file else default_prompts()
    themes = list(prompts.themes[: opts.themes] if opts.themes else prompts.themes)
    if opts.themes and opts.themes > len(themes):
        log(f"[yellow]note[/]: --themes {opts.themes}, but the prompts hold {len(themes)} themes: all "
            f"{len(themes)} are used (add themes with --prompts FILE)")
    adapter_authors = [e.author for e in entries if not e.is_base and e.author is not None]
    authors = list(dict.fromkeys(adapter_authors)) or list(config.authors)
    selected, metas = corpus_mod.prepare_corpora(config, authors=authors, log=log)
    base_path, base_id = resolve_base(entries, config, metas, ws, log)
    run_name = adapters_dir.name if adapters_dir is not None and any(not e.is_base for e in entries) else \
        f"{config.preset}-base"
    seed = config.seed if opts.seed is None else opts.seed
    plan = Plan(config, opts, ws, entries, adapters_dir, prompts, themes, authors, {a.id: a.name for a in selected},
                metas, base_path, base_id, opts.output_dir or ws.reports / run_name, seed)
    plan.jobs = build_jobs(plan)
    if opts.controls:
        plan.controls, control_jobs = build_controls(plan)
        plan.jobs += control_jobs
    from poetbench.eval.poems import read_poems, say_empty

    also = [parse_also(item) for item in opts.also]
    for path, name in also:  # read (and checked) before any poem is generated
        rows = [r for r in read_poems(path, name, set(metas)) if r["author"] in plan.authors]
        say_empty(rows, name, log)
        plan.also_rows += rows
    plan.identity = rundir.identity(base_id, entries, prompts, opts.params, seed)
    if plan.controls:
        plan.identity["controls"] = {"rows": sorted(name for name, _ in plan.controls),
                                     "anon_template": prompts.anon_template}
    plan.also_files = [{"file": str(path), "name": name, "sha256": corpus_mod.file_sha256(path)} for path, name in also]
    plan.identity["also"] = sorted([f["name"], f["sha256"]] for f in plan.also_files)
    return plan


BASE_FIELDS = ("preset", "base_model", "base_revision", "tiny")


def config_for_adapters(config: RunConfig, models: str, adapters: Path | None, ws: Workspace, explicit: bool,
                        log) -> RunConfig:
    """The config with the base the adapters were trained on (their manifests record their training
    config), unless the base was chosen explicitly (--preset or --config): then a disagreeing base is
    ``resolve_base``'s error. Only models that name adapters count."""
    items = [m.strip() for m in (models or "").split(",")]
    if explicit or not any(m == "lora" or m.startswith("lora:") or (m != "base" and Path(m).is_dir()) for m in items):
        return config
    adapters_dir = adapters if adapters is not None else newest_run(ws.adapters)
    if adapters_dir is None:
        return config
    # the manifests only (make_plan checks and hashes the adapters themselves)
    folders = [Path(m) for m in items if m not in ("base", "lora") and not m.startswith("lora:")]
    folders += sorted(p for p in adapters_dir.iterdir() if p.is_dir()) if adapters_dir.is_dir() else []
    trained = []
    for folder in folders:
        manifest = adapter_manifest(folder) if (folder / "poetbench.json").exists() else None
        if manifest is not None and isinstance(manifest.get("hyperparameters"), dict):
            trained.append({k: manifest["hyperparameters"][k] for k in BASE_FIELDS if k in manifest["hyperparameters"]})
    if not trained or trained[0] == {k: config.to_dict()[k] for k in trained[0]}:
        return config
    try:
        adopted = config.replace(**trained[0])
        adopted.__post_init__()  # a dict of tiny fields becomes its dataclass, and every field is checked
    except ConfigError as e:
        raise GenerateError(f"the adapters' manifests name a base this version cannot use ({e}): pass --preset or "
                            "--config") from None
    log(f"base: {'the tiny base' if adopted.is_tiny else adopted.base_model}, as the adapters' manifests name it "
        "(--preset or --config to choose another)")
    return adopted


def parse_also(item: str) -> tuple[Path, str]:
    """``FILE.jsonl:NAME`` -> (path, name); the file must exist."""
    path, sep, name = item.rpartition(":")
    if not sep or not path or not name:
        raise ConfigError(f"--also {item!r}: give FILE.jsonl:NAME")
    if not Path(path).is_file():
        raise ConfigError(f"--also {item!r}: {path} is not a file")
    return Path(path), name



def resolve_base(entries: list[ModelEntry], config: RunConfig, metas: dict, ws: Workspace, log) -> tuple[str, str]:
    """(path or hub id to load, id recorded in keys) of the base all adapters were trained on. A tiny
    base the adapters name is used as it is while it is in the cache, whatever the corpora are now."""
    from poetbench.models.tiny import base_changes, base_key, base_key_data, cached_base, ensure_tiny_base, pretrain_set

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
                                f"(pass --preset or --config to match, or leave both out: eval then takes the base the adapters name)")
    if not config.is_tiny:
        return config.base_model, config.base_model + (f"@{config.base_revision}" if config.base_revision else "")
    cached = cached_base(ws.cache, tiny_key) if tiny_key is not None else None
    if cached is not None:
        return str(cached), "tiny:" + tiny_key
    if tiny_key is not None:  # not cached: rebuilt only when its inputs are as they were
        now = base_key_data(config, pretrain_set(config, metas)[1])
        if base_key(now) != tiny_key:
            theirs = next((b.get("tiny_base") for b in bases.values() if b.get("tiny_base")), None)
            changes = base_changes(theirs, now) if theirs else []
            raise GenerateError(
                f"the adapters were trained on tiny base {tiny_key}, which is not in the cache ({ws.cache / 'tiny-base'}) "
                f"and cannot be rebuilt as it was: {'; '.join(changes) or 'its inputs changed'}. Restore what changed "
                "to rebuild it, or retrain the adapters with `poetbench train --force`")
    path = ensure_tiny_base(config, metas, cache_dir=ws.cache, log=log)
    key = read_json_object(path / "poetbench_base.json", "tiny base manifest", GenerateError)["key"]
    return str(path), "tiny:" + key


def build_jobs(plan: Plan) -> list[Job]:
    """base x every author; each adapter x its own author (an adapter of unknown author, e.g. not
    trained by poetbench, x every author); x themes x samples."""
    jobs = []
    for e in plan.entries:
        if e.is_base or e.author is None:
            pairs = list(plan.authors)
        else:
            pairs = [e.author] if e.author in plan.authors else []
        for author in pairs:
            for theme in plan.themes:
                prompt = plan.prompts.eval_prompt(theme, plan.names[author])
                for k in range(plan.opts.samples):
                    jobs.append(Job(e.label, author, theme, k, prompt,
                                    job_key(plan.base_id, e, prompt, plan.params, plan.seed + k),
                                    weights=e.name if e.row else ""))
    return jobs


ANON = "base:anon"


def build_controls(plan: Plan) -> tuple[list[tuple[str, str]], list[Job]]:
    """``--controls``: the base prompted without the poet's name (``base:anon``, for each author, its
    poems scored against that author) and each adapter prompted with another author's name
    (``lora:<author>@<other>``, scored against the adapter's own author); with the rows each is
    compared with: ``base``, and the adapter."""
    controls, jobs = [], []
    for e in plan.entries:
        if e.is_base:
            controls.append((ANON, e.label))
            for author in plan.authors:
                for theme in plan.themes:
                    prompt = plan.prompts.anon_prompt(theme)
                    jobs += [Job(ANON, author, theme, k, prompt, job_key(plan.base_id, e, prompt, plan.params, plan.seed + k,
                                                                         control=f"anon:{author}"), weights=e.name)
                             for k in range(plan.opts.samples)]
        elif e.author in plan.authors:
            for other in plan.authors:
                if other == e.author:
                    continue
                name = f"{e.label}@{other}"
                if (name, e.label) not in controls:  # (one row for every training seed of the adapter)
                    controls.append((name, e.label))
                for theme in plan.themes:
                    prompt = plan.prompts.eval_prompt(theme, plan.names[other])
                    jobs += [Job(name, e.author, theme, k, prompt, job_key(plan.base_id, e, prompt, plan.params,
                                                                           plan.seed + k), weights=e.name)
                             for k in range(plan.opts.samples)]
    return controls, jobs


def claim(plan: Plan, log) -> None:
    """Refuse a folder that holds another run's files (or move them aside with --force). Runs with
    the folder's lock held."""
    from poetbench.generation import GENERATIONS, read_done

    out_dir = plan.out_dir
    if plan.opts.force:
        moved = rundir.move_aside(out_dir)
        if moved is not None:
            log(f"--force: moved the files already in {out_dir} to {moved}")
        return
    run_json = out_dir / "run.json"
    if run_json.exists() or run_json.is_symlink():
        previous = read_json_object(run_json, "run file", GenerateError)
        diffs = rundir.differences(plan.identity, identity_of(previous))
        if diffs:
            raise GenerateError(f"{out_dir} holds another run ({'; '.join(diffs)}): use another --output-dir, or "
                                "--force to move its files aside")
        plan.earlier = earlier_generation(previous)
    from poetbench.generation.backend import rank_files

    rows = read_done(out_dir / GENERATIONS)
    for f in rank_files(out_dir / GENERATIONS):  # an interrupted distributed run's rows
        rows.update(read_done(f))
    rundir.check_rows(rows, plan.identity, out_dir)


def earlier_generation(run: dict) -> list[dict]:
    """The generation timings of the runs that made poems in a folder, from its run.json (oldest
    first): the earlier ones it carries, and its own when it generated any. A rerun that reads every
    poem back from the cache then still records how fast they were made."""
    timings = run.get("timings") if isinstance(run.get("timings"), dict) else {}
    earlier = timings.get("earlier") if isinstance(timings.get("earlier"), list) else []
    earlier = [t for t in earlier if isinstance(t, dict)]
    generated = timings.get("generated")
    if isinstance(generated, int) and not isinstance(generated, bool) and generated > 0:
        options = run.get("options") if isinstance(run.get("options"), dict) else {}
        earlier.append({k: timings.get(k) for k in ("generation_s", "generated", "poems_per_s")}
                       | {"batch_size": options.get("batch_size")})
    return earlier


def check_output_dir(out_dir: Path) -> None:
    if out_dir.is_dir() and ((out_dir / "adapter_config.json").exists() or
                             any((p / "adapter_config.json").exists() for p in out_dir.iterdir() if p.is_dir())):
        raise GenerateError(f"--output-dir {out_dir} holds trained adapters: write the eval run elsewhere "
                            "(e.g. reports/<run>/)")


def identity_of(run: dict) -> dict:
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
