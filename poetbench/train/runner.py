"""Per-author LoRA fine-tuning with peft + TRL's SFTTrainer (on a hub model or the tiny offline base).

Output per author: ``<run_dir>/<author>/`` is a standard peft folder plus ``poetbench.json`` (the
manifest). The folder appears only when training finished (temp folder + rename); checkpoints for
``--resume`` live in ``<run_dir>/.checkpoints/<author>/`` until then.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import TrainError
from poetbench.io import LOCK, atomic_write_json, atomic_write_text, exclusive, read_json_object
from poetbench.models.tiny import base_changes, ensure_tiny_base
from poetbench.prompts import PromptSet, default_prompts
from poetbench.runtime import (
    is_main_process, last_checkpoint, progress_callback, quiet_trainer, versions, wait_for_everyone,
)
from poetbench.train.sft import (
    PACKING_ATTENTION, TABLE_HEADERS, TRAIN_COLUMNS, VAL_COLUMNS, final_train_metrics, lora_config, sft_config,
    sft_records,
)
from poetbench.workspace import Workspace, ensure_dir, not_a_file

MANIFEST = "poetbench.json"


@dataclass
class AuthorResult:
    author: str
    path: Path
    skipped: bool
    metrics: dict
    wall_time_s: float | None
    seed: int | None = None  # one of --seeds


@dataclass
class TrainResult:
    run: str
    run_dir: Path
    base_model: str
    results: list[AuthorResult] = field(default_factory=list)
    training_csv: Path | None = None


@dataclass
class RunPlan:
    """What every author of one ``poetbench train`` shares."""

    config: RunConfig
    name: str
    run_dir: Path
    prompts: PromptSet
    base_model: str = ""  # path or hub id the adapters are trained on
    base_info: dict = field(default_factory=dict)  # the tiny base's manifest, when tiny
    tokenizer: object = None
    resume: bool = False
    progress: object = None
    report_to: str = "none"  # an experiment tracker (poetbench.trackers)


PATH_FIELDS = ("authors_file", "corpus_root", "corpus_dir")


def run_name(config: RunConfig, root: Path | None = None) -> str:
    """Deterministic: the same config gives the same run, so rerunning resumes/skips instead of
    starting over. The author list is left out, so authors can be added to a run later; paths
    inside the project folder ``root`` count as relative to it, so the name does not depend on
    where the project lies."""
    changes = {}
    for key in PATH_FIELDS:
        value = getattr(config, key)
        if root is not None and value is not None and Path(value).is_absolute():
            try:
                changes[key] = str(Path(value).relative_to(root))
            except ValueError:
                pass
    portable = config.replace(**changes) if changes else config
    keys = [k for k in portable.to_dict() if k not in ("authors", "preset")]
    return f"{config.preset}-{portable.fingerprint(keys)[:8]}"


def train(config: RunConfig, authors: list[str] | None = None, output_dir: str | Path | None = None,
          resume: bool = False, force: bool = False, progress=None, log: Callable[[str], None] = print,
          cache_dir: Path | None = None, ws: Workspace | None = None, report_to: str = "none") -> TrainResult:
    """Train one LoRA adapter per author. See the module docstring for the output layout."""
    from datasets import disable_progress_bars

    from poetbench.trackers import require

    ws = ws or Workspace.from_env()
    # Args: everything is checked before anything is written
    if config.packing and config.attn_implementation not in PACKING_ATTENTION:
        raise TrainError("--packing needs --attn-implementation flash_attention_2: TRL packs examples into one "
                         "padding-free row, and other attention implementations let them attend to each other")
    require(report_to)
    disable_progress_bars()
    wanted, metas = corpus_mod.prepare_corpora(config, authors, log)
    data = {}
    for author in wanted:
        train_recs = corpus_mod.load_records(config.corpus_dir, author.id, "train")
        if len(train_recs) < config.min_train_poems:
            raise TrainError(
                f"corpus of {author.id!r} has {len(train_recs)} training poems after cleaning; at least "
                f"{config.min_train_poems} are needed (min_train_poems)"
            )
        data[author.id] = (train_recs, corpus_mod.load_records(config.corpus_dir, author.id, "val"))
    name = run_name(config, ws.root)
    run_dir = Path(output_dir) if output_dir is not None else ws.adapters / name
    not_a_file(run_dir, "output folder")
    plan = RunPlan(config, name, run_dir, default_prompts(), resume=resume, progress=progress, report_to=report_to)

    # Output folder: a refused run leaves nothing behind
    created = not run_dir.exists()
    ensure_dir(run_dir, "output folder", TrainError)
    lock = exclusive(run_dir) if is_main_process() else nullcontext()  # one `train` per run folder
    try:
        with lock:
            return _train_locked(plan, wanted, data, metas, force, cache_dir or ws.cache, output_dir, ws, log)
    except BaseException:
        _remove_empty(run_dir / ".checkpoints")
        if created:
            _remove_empty(run_dir)
        raise


def _train_locked(plan: RunPlan, wanted, data, metas, force, cache_dir, output_dir, ws, log) -> TrainResult:
    _load_base(plan, metas, cache_dir, log)
    result = TrainResult(run=plan.name, run_dir=plan.run_dir, base_model=plan.base_model)
    for author in wanted:
        for seed in plan.config.seeds or [None]:
            result.results.append(_author(plan, author, data[author.id], metas[author.id], force, log, seed))
    # the table always beside the adapters (eval copies it from there), and in reports/<run>/ as well unless an
    # eval run already owns that folder: its training.csv is that run's own file
    paths = [plan.run_dir / "training.csv"]
    if output_dir is None:
        reports = ws.reports / plan.name
        if (reports / "run.json").exists():
            log(f"{reports} holds an eval run, and its training.csv is that run's own: the training table is "
                f"written beside the adapters only ({paths[0]})")
        else:
            paths.insert(0, reports / "training.csv")
    if is_main_process():
        write_training_csv(result, *paths)
    result.training_csv = paths[0]
    return result


def _load_base(plan: RunPlan, metas: dict, cache_dir: Path, log) -> None:
    from poetbench.models.loading import load_tokenizer

    config = plan.config
    if config.is_tiny:
        path = ensure_tiny_base(config, metas, cache_dir=cache_dir, progress=plan.progress, log=log)
        plan.base_model = str(path)
        plan.base_info = read_json_object(path / "poetbench_base.json", "tiny base manifest", TrainError)
        _check_run_base(plan)
    else:
        plan.base_model = config.base_model
    plan.tokenizer = load_tokenizer(plan.base_model, config.base_revision, config.trust_remote_code)


def _check_run_base(plan: RunPlan) -> None:
    """The adapters already in the run folder must share the tiny base about to be used: when its
    inputs changed since they were trained, say what changed and how to keep the old base."""
    for manifest_path in sorted(plan.run_dir.glob(f"*/{MANIFEST}")):
        manifest = read_json_object(manifest_path, "adapter manifest", TrainError)
        base = manifest.get("base_model") if isinstance(manifest.get("base_model"), dict) else {}
        theirs = base.get("tiny_key")
        if theirs is None or theirs == plan.base_info.get("key"):
            continue
        changes = base_changes(base.get("tiny_base") or {}, plan.base_info.get("config") or {})
        raise TrainError(
            f"the adapters in {plan.run_dir} were trained on tiny base {theirs}, and the tiny base is now "
            f"{plan.base_info.get('key')} ({'; '.join(changes) or 'its inputs changed'}). To keep the old base, "
            "restore what changed (the corpora named, or the config); else train into a new folder (--output-dir) "
            "or retrain every adapter of this run with --force")


def _remove_empty(folder: Path) -> None:
    """Remove ``folder`` and the folders under it when none holds a file (what a refused run made)."""
    if not folder.is_dir() or any(p.is_file() and p.name != LOCK for p in folder.rglob("*")):
        return
    shutil.rmtree(folder, ignore_errors=True)


def adapter_folder_name(author_id: str, seed: int | None) -> str:
    """``<author>``, or ``<author>-seed<N>`` for one of several training seeds (``--seeds``)."""
    return author_id if seed is None else f"{author_id}-seed{seed}"


def _author(plan: RunPlan, author, data, meta: dict, force: bool, log, seed: int | None = None) -> AuthorResult:
    """One author's adapter (for one of ``--seeds``: ``seed``): skipped when a complete one for the
    same corpus exists."""
    out = plan.run_dir / adapter_folder_name(author.id, seed)
    if (out / MANIFEST).exists() and not force:
        manifest = read_json_object(out / MANIFEST, "adapter manifest", TrainError)
        corpus = manifest.get("corpus")
        if not isinstance(corpus, dict) or corpus.get("sha256") != meta["corpus_sha256"]:
            raise TrainError(f"{out} was trained on a different corpus of {author.id!r}; pass --force to retrain it")
        log(f"{out.name}: adapter exists at {out}, skipped (use --force to retrain)")
        metrics = manifest.get("metrics") if isinstance(manifest.get("metrics"), dict) else {}
        return AuthorResult(author.id, out, True, metrics, manifest.get("wall_time_s"), seed)
    return _train_one(plan, author, data, meta, seed)


def _train_one(plan: RunPlan, author, data, meta: dict, seed: int | None = None) -> AuthorResult:
    from datasets import Dataset
    from trl import SFTTrainer

    from poetbench.models.loading import count_parameters, load_model

    run_dir = plan.run_dir
    config = plan.config if seed is None else plan.config.replace(seed=seed)  # this adapter's training seed
    name = adapter_folder_name(author.id, seed)
    train_recs, val_recs = data
    out = run_dir / name
    ckpt_dir = run_dir / ".checkpoints" / name
    last = last_checkpoint(ckpt_dir) if plan.resume else None
    if not plan.resume and ckpt_dir.exists() and is_main_process():
        shutil.rmtree(ckpt_dir)
    wait_for_everyone()
    t0 = time.time()
    # Model and data
    model = load_model(plan.base_model, config.base_revision, config.dtype, config.trust_remote_code,
                       config.attn_implementation)
    train_ds = Dataset.from_list(sft_records(train_recs, author.name, plan.prompts))
    val_ds = Dataset.from_list(sft_records(val_recs, author.name, plan.prompts)) if val_recs else None
    from poetbench.trackers import train_setup

    report_to, tracker_callbacks = train_setup(plan.report_to, run_dir / "tensorboard" / name)
    args = sft_config(config, ckpt_dir, model=model, report_to=report_to, run_name=f"{plan.name}/{name}")
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, processing_class=plan.tokenizer,
        peft_config=lora_config(config),
        callbacks=[progress_callback(plan.progress, f"train {name}"), *tracker_callbacks],
    )
    quiet_trainer(trainer)
    if len(trainer.train_dataset) == 0:
        raise TrainError(
            f"{author.id}: every training example lost its poem to truncation (the prompt alone fills "
            f"max_length={config.max_length}); raise max_length"
        )
    # Training and the validation pass
    trainable, total = count_parameters(trainer.model)
    trainer.train(resume_from_checkpoint=last)
    metrics = {"train": final_train_metrics(trainer.state.log_history)}
    if val_ds is not None:
        ev = trainer.evaluate()
        metrics["val"] = {k: ev[k] for k in VAL_COLUMNS if k in ev}
    wall = round(time.time() - t0, 1)
    if not is_main_process():  # in a distributed run rank 0 writes the adapter
        wait_for_everyone()
        return AuthorResult(author.id, out, False, metrics, wall, seed)

    # The adapter folder, complete or not at all
    tmp = run_dir / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.model.save_pretrained(str(tmp))
    _canonical_adapter_config(tmp / "adapter_config.json")
    manifest = {
        "format": "poetbench-adapter/1",
        "run": plan.name,
        "author": {"id": author.id, "name": author.name},
        "base_model": {
            "id": config.base_model if not config.is_tiny else "tiny",
            "path": plan.base_model,
            "revision": config.base_revision,
            **({"tiny_key": plan.base_info.get("key"), "tiny_base": plan.base_info.get("config")}
               if plan.base_info else {}),
        },
        "corpus": {
            "sha256": meta["corpus_sha256"], "source": meta["source"], "splits": meta["splits"],
            "train_poems": len(train_recs), "val_poems": len(val_recs),
        },
        "prompts": plan.prompts.to_dict(),
        "hyperparameters": config.to_dict(),
        "effective": {"bf16": args.bf16, "gradient_checkpointing": args.gradient_checkpointing,
                      "per_device_train_batch_size": args.per_device_train_batch_size,
                      "gradient_accumulation_steps": args.gradient_accumulation_steps,
                      "max_steps": trainer.state.max_steps, "resumed_from": last,
                      "world_size": int(os.environ.get("WORLD_SIZE", "1"))},
        "seed": config.seed,
        **({"train_seed": seed, "seeds": plan.config.seeds} if seed is not None else {}),
        "trainable_parameters": trainable,
        "total_parameters": total,
        "versions": versions(),
        "wall_time_s": wall,
        "metrics": metrics,
        "log_history": trainer.state.log_history,
    }
    atomic_write_json(tmp / MANIFEST, manifest)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    wait_for_everyone()
    return AuthorResult(author.id, out, False, metrics, wall, seed)


def _canonical_adapter_config(path: Path) -> None:
    """peft writes ``target_modules`` in the order of a Python set, which changes from process to
    process (hash randomisation): the same adapter trained twice would get two sha256s, and its poems
    would be generated again. Written sorted, the file is the same for the same training."""
    cfg = read_json_object(path, "adapter config", TrainError)
    if isinstance(cfg.get("target_modules"), list):
        cfg["target_modules"] = sorted(cfg["target_modules"])
        atomic_write_json(path, cfg)


def training_rows(result: TrainResult) -> list[dict]:
    rows = []
    for r in result.results:
        row = {"author": r.author if r.seed is None else adapter_folder_name(r.author, r.seed)}
        row.update({k: r.metrics.get("train", {}).get(k) for k in TRAIN_COLUMNS})
        row.update({k: r.metrics.get("val", {}).get(k) for k in VAL_COLUMNS})
        row["wall_time_s"] = r.wall_time_s
        row["skipped"] = r.skipped
        rows.append(row)
    return rows


def write_training_csv(result: TrainResult, path: Path, *more: Path) -> Path:
    """The training table as CSV at ``path`` (and the same text at each of ``more``); returns ``path``."""
    rows = training_rows(result)
    buf = io.StringIO()
    columns = ["author"] + [TABLE_HEADERS[k] for k in TRAIN_COLUMNS + VAL_COLUMNS] + ["Wall Time (s)"]
    w = csv.writer(buf)
    w.writerow(columns)
    for row in rows:
        w.writerow([row["author"]] + [row[k] for k in TRAIN_COLUMNS + VAL_COLUMNS] + [row["wall_time_s"]])
    for out in (path, *more):
        atomic_write_text(out, buf.getvalue())
    return path
