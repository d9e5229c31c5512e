"""Per-author LoRA fine-tuning with peft + TRL's SFTTrainer (on a hub model or the tiny offline base).

Output per author: ``<run_dir>/<author>/`` is a standard peft folder plus ``poetbench.json`` (the
manifest). The folder appears only when training finished (temp folder + rename); checkpoints for
``--resume`` live in ``<run_dir>/.checkpoints/<author>/`` until then.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import TrainError
from poetbench.io import atomic_write_json, atomic_write_text, read_json_object
from poetbench.prompts import PromptSet, default_prompts, theme_for_poem
from poetbench.runtime import (
    is_main_process, last_checkpoint, progress_callback, quiet_trainer, versions, wait_for_everyone,
)
from poetbench.tiny import all_train_records, ensure_tiny_base

MANIFEST = "poetbench.json"
TRAIN_COLUMNS = ["loss", "grad_norm", "entropy", "num_tokens", "mean_token_accuracy"]
VAL_COLUMNS = ["eval_loss", "eval_entropy", "eval_mean_token_accuracy"]
TABLE_HEADERS = {
    "loss": "Loss", "grad_norm": "Grad Norm", "entropy": "Entropy", "num_tokens": "Num Tokens",
    "mean_token_accuracy": "Mean Token Accuracy", "eval_loss": "Val Loss", "eval_entropy": "Val Entropy",
    "eval_mean_token_accuracy": "Val Mean Token Accuracy",
}


# --------------------------------------------------------------------------------------------
# SFT data
# --------------------------------------------------------------------------------------------


def sft_records(records: list[dict], author_name: str, prompts: PromptSet) -> list[dict]:
    """Chat pairs in TRL's conversational prompt-completion format (loss on the completion only)."""
    return [
        {
            "prompt": [{"role": "user", "content": prompts.train_prompt(theme_for_poem(r.get("title"), r["text"]), author_name)}],
            "completion": [{"role": "assistant", "content": r["text"]}],
            "id": r["id"],
        }
        for r in records
    ]


# --------------------------------------------------------------------------------------------
# Progress (rich, through a TrainerCallback; quiet when there is no progress object)
# --------------------------------------------------------------------------------------------


# attention implementations that keep packed examples apart (TRL's padding-free packing)
PACKING_ATTENTION = ("flash_attention_2", "flash_attention_3")


def _sft_config(config: RunConfig, output_dir: Path, **overrides):
    import torch
    from trl import SFTConfig

    cuda = torch.cuda.is_available()
    bf16 = bool(config.bf16 and cuda and torch.cuda.is_bf16_supported())
    kwargs = dict(
        output_dir=str(output_dir),
        seed=config.seed,
        data_seed=config.seed,
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        max_length=config.max_length,
        packing=config.packing,
        bf16=bf16,
        fp16=False,
        gradient_checkpointing=bool(config.gradient_checkpointing and cuda),
        use_cpu=not cuda,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=1,
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        model_init_kwargs=None,
    )
    kwargs.update(overrides)
    return SFTConfig(**kwargs)


# --------------------------------------------------------------------------------------------
# Per-author LoRA training
# --------------------------------------------------------------------------------------------


@dataclass
class AuthorResult:
    author: str
    path: Path
    skipped: bool
    metrics: dict
    wall_time_s: float


@dataclass
class TrainResult:
    run: str
    run_dir: Path
    base_model: str
    results: list[AuthorResult] = field(default_factory=list)
    training_csv: Path | None = None


def run_name(config: RunConfig) -> str:
    """Deterministic: the same config gives the same run, so rerunning resumes/skips instead of
    starting over. The author list is left out, so authors can be added to a run later."""
    keys = [k for k in config.to_dict() if k not in ("authors", "preset")]
    return f"{config.preset}-{config.fingerprint(keys)[:8]}"


def lora_config(config: RunConfig):
    from peft import LoraConfig

    targets = config.lora_target_modules
    target_modules = targets if targets == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()]
    return LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=target_modules, bias="none", task_type="CAUSAL_LM",
    )


def _final_train_metrics(log_history: list[dict]) -> dict:
    """TRL's logged train values at the last logging step (never re-typed)."""
    rows = [e for e in log_history if "loss" in e and "eval_loss" not in e]
    if not rows:
        return {}
    last = rows[-1]
    return {k: last[k] for k in TRAIN_COLUMNS if k in last} | {"step": last.get("step")}


def prepare_corpora(config: RunConfig, authors: list[str] | None = None, log: Callable[[str], None] = print,
                    only_selected: bool = False):
    """Import (or reuse) the normalised corpora of the selected authors and, unless ``only_selected``,
    of every other author whose texts are available (the tiny base and the classifier use them all).
    An author whose source path is missing but whose corpus was fetched (`corpus fetch`) is used as
    fetched. Returns (selected authors, {author id: meta})."""
    declared = corpus_mod.load_authors(config.authors_file, config.corpus_root)
    wanted = corpus_mod.select_authors(declared, config.authors if authors is None else authors)
    settings = corpus_mod.CorpusSettings.from_config(config)

    def meta_of(author):
        if author.present:
            return corpus_mod.import_author(author, config.corpus_dir, settings)
        return corpus_mod.existing_meta(config.corpus_dir, author.id)

    metas = {}
    for author in wanted:
        meta = meta_of(author)
        if meta is None:
            raise TrainError(author.how_to_supply())
        metas[author.id] = meta
    if not only_selected:
        for author in declared.values():
            if author.id not in metas and (meta := meta_of(author)) is not None:
                metas[author.id] = meta
    return wanted, metas


def train(config: RunConfig, authors: list[str] | None = None, output_dir: str | Path | None = None,
          resume: bool = False, force: bool = False, progress=None, log: Callable[[str], None] = print,
          cache_dir: Path | None = None) -> TrainResult:
    """Train one LoRA adapter per author. See the module docstring for the output layout."""
    from datasets import Dataset, disable_progress_bars
    from trl import SFTTrainer

    if config.packing and config.attn_implementation not in PACKING_ATTENTION:
        raise TrainError("--packing needs --attn-implementation flash_attention_2: TRL packs examples into one "
                         "padding-free row, and other attention implementations let them attend to each other")
    disable_progress_bars()
    wanted, metas = prepare_corpora(config, authors, log)
    prompts = default_prompts()
    per_author = {}
    for author in wanted:
        train_recs = corpus_mod.load_records(config.corpus_dir, author.id, "train")
        val_recs = corpus_mod.load_records(config.corpus_dir, author.id, "val")
        if len(train_recs) < config.min_train_poems:
            raise TrainError(
                f"corpus of {author.id!r} has {len(train_recs)} training poems after cleaning; at least "
                f"{config.min_train_poems} are needed (min_train_poems)"
            )
        per_author[author.id] = (train_recs, val_recs)

    from poetbench.workspace import Workspace, ensure_dir, not_a_file

    ws = Workspace.from_env()
    name = run_name(config)
    run_dir = Path(output_dir) if output_dir is not None else ws.adapters / name
    not_a_file(run_dir, "output folder")
    created = not run_dir.exists()
    ensure_dir(run_dir, "output folder", TrainError)
    try:
        return _train_all(config, wanted, metas, per_author, prompts, name, run_dir, output_dir, ws, resume, force,
                          progress, log, cache_dir, SFTTrainer, Dataset)
    except BaseException:
        _remove_empty(run_dir / ".checkpoints")
        if created:
            _remove_empty(run_dir)
        raise


def _remove_empty(folder: Path) -> None:
    """Remove ``folder`` and the folders under it that hold no file (what a refused run made)."""
    if not folder.is_dir() or any(p.is_file() for p in folder.rglob("*")):
        return
    shutil.rmtree(folder, ignore_errors=True)


def _train_all(config, wanted, metas, per_author, prompts, name, run_dir, output_dir, ws, resume, force, progress,
               log, cache_dir, SFTTrainer, Dataset) -> TrainResult:
    from poetbench.models import count_parameters, load_model, load_tokenizer

    base_info: dict = {}
    if config.is_tiny:
        base_path = ensure_tiny_base(config, all_train_records(config, metas), {a: m["corpus_sha256"] for a, m in metas.items()},
                                     cache_dir=cache_dir, progress=progress, log=log)
        base_model = str(base_path)
        base_info = read_json_object(base_path / "poetbench_base.json", "tiny base manifest", TrainError)
    else:
        base_model = config.base_model
    tokenizer = load_tokenizer(base_model, config.base_revision, config.trust_remote_code)

    result = TrainResult(run=name, run_dir=run_dir, base_model=base_model)
    for author in wanted:
        out = run_dir / author.id
        meta = metas[author.id]
        if (out / MANIFEST).exists() and not force:
            manifest = read_json_object(out / MANIFEST, "adapter manifest", TrainError)
            corpus = manifest.get("corpus")
            if not isinstance(corpus, dict) or corpus.get("sha256") != meta["corpus_sha256"]:
                raise TrainError(
                    f"{out} was trained on a different corpus of {author.id!r}; pass --force to retrain it"
                )
            log(f"{author.id}: adapter exists at {out}, skipped (use --force to retrain)")
            metrics = manifest.get("metrics") if isinstance(manifest.get("metrics"), dict) else {}
            result.results.append(AuthorResult(author.id, out, True, metrics, manifest.get("wall_time_s")))
            continue
        result.results.append(
            _train_one(config, author, per_author[author.id], meta, base_model, base_info, tokenizer, run_dir,
                       name, prompts, resume, force, progress, SFTTrainer, Dataset, load_model, count_parameters)
        )
    csv_path = ws.reports / name / "training.csv" if output_dir is None else run_dir / "training.csv"
    result.training_csv = write_training_csv(result, csv_path) if is_main_process() else csv_path
    return result


def _train_one(config, author, data, meta, base_model, base_info, tokenizer, run_dir, name, prompts, resume,
               force, progress, SFTTrainer, Dataset, load_model, count_parameters) -> AuthorResult:
    train_recs, val_recs = data
    out = run_dir / author.id
    ckpt_dir = run_dir / ".checkpoints" / author.id
    last = last_checkpoint(ckpt_dir) if resume else None
    if not resume and ckpt_dir.exists() and is_main_process():
        shutil.rmtree(ckpt_dir)
    wait_for_everyone()
    t0 = time.time()
    model = load_model(base_model, config.base_revision, config.dtype, config.trust_remote_code,
                       config.attn_implementation)
    train_ds = Dataset.from_list(sft_records(train_recs, author.name, prompts))
    val_ds = Dataset.from_list(sft_records(val_recs, author.name, prompts)) if val_recs else None
    args = _sft_config(config, ckpt_dir)
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, processing_class=tokenizer,
        peft_config=lora_config(config), callbacks=[progress_callback(progress, f"train {author.id}")],
    )
    quiet_trainer(trainer)
    if len(trainer.train_dataset) == 0:
        raise TrainError(
            f"{author.id}: every training example lost its poem to truncation (the prompt alone fills "
            f"max_length={config.max_length}); raise max_length"
        )
    trainable, total = count_parameters(trainer.model)
    trainer.train(resume_from_checkpoint=last)
    metrics = {"train": _final_train_metrics(trainer.state.log_history)}
    if val_ds is not None:
        ev = trainer.evaluate()
        metrics["val"] = {k: ev[k] for k in VAL_COLUMNS if k in ev}
    wall = round(time.time() - t0, 1)
    if not is_main_process():  # in a distributed run rank 0 writes the adapter
        wait_for_everyone()
        return AuthorResult(author.id, out, False, metrics, wall)

    tmp = run_dir / f".{author.id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.model.save_pretrained(str(tmp))
    manifest = {
        "format": "poetbench-adapter/1",
        "run": name,
        "author": {"id": author.id, "name": author.name},
        "base_model": {
            "id": config.base_model if not config.is_tiny else "tiny",
            "path": base_model,
            "revision": config.base_revision,
            **({"tiny_key": base_info.get("key")} if base_info else {}),
        },
        "corpus": {
            "sha256": meta["corpus_sha256"], "source": meta["source"], "splits": meta["splits"],
            "train_poems": len(train_recs), "val_poems": len(val_recs),
        },
        "prompts": prompts.to_dict(),
        "hyperparameters": config.to_dict(),
        "effective": {"bf16": args.bf16, "gradient_checkpointing": args.gradient_checkpointing,
                      "max_steps": trainer.state.max_steps, "resumed_from": last,
                      "world_size": int(os.environ.get("WORLD_SIZE", "1"))},
        "seed": config.seed,
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
    return AuthorResult(author.id, out, False, metrics, wall)


def training_rows(result: TrainResult) -> list[dict]:
    rows = []
    for r in result.results:
        row = {"author": r.author}
        row.update({k: r.metrics.get("train", {}).get(k) for k in TRAIN_COLUMNS})
        row.update({k: r.metrics.get("val", {}).get(k) for k in VAL_COLUMNS})
        row["wall_time_s"] = r.wall_time_s
        row["skipped"] = r.skipped
        rows.append(row)
    return rows


def write_training_csv(result: TrainResult, path: Path) -> Path:
    rows = training_rows(result)
    buf = io.StringIO()
    columns = ["author"] + [TABLE_HEADERS[k] for k in TRAIN_COLUMNS + VAL_COLUMNS] + ["Wall Time (s)"]
    w = csv.writer(buf)
    w.writerow(columns)
    for row in rows:
        w.writerow([row["author"]] + [row[k] for k in TRAIN_COLUMNS + VAL_COLUMNS] + [row["wall_time_s"]])
    atomic_write_text(path, buf.getvalue())
    return path
