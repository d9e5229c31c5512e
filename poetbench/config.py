"""Run configuration: one dataclass with documented defaults, named presets, TOML round-trip.

Like TRL's ``SFTConfig``: every field has a default and a help string (``field(metadata={"help": ...})``),
presets are plain instances, and the CLI only fills fields in.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from poetbench.errors import ConfigError

DEMO_AUTHORS = ["pushkin", "lermontov", "tyutchev"]


def _f(default: Any, help: str, **kw):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class TinyModelConfig:
    """Shape and pretraining schedule of the tiny offline base model (a small Qwen2)."""

    vocab_size: int = _f(4000, "BPE vocabulary size of the locally trained byte-level tokenizer.")
    hidden_size: int = _f(128, "Hidden size.")
    intermediate_size: int = _f(384, "MLP width.")
    num_hidden_layers: int = _f(2, "Transformer layers.")
    num_attention_heads: int = _f(4, "Attention heads.")
    num_key_value_heads: int = _f(2, "Key/value heads (grouped-query attention, as in Qwen2.5).")
    max_position_embeddings: int = _f(512, "Longest sequence the model accepts.")
    pretrain_steps: int = _f(240, "Causal-LM pretraining steps on the train splits of all present authors.")
    pretrain_batch_size: int = _f(16, "Sequences per pretraining step.")
    pretrain_seq_len: int = _f(256, "Tokens per packed pretraining sequence.")
    pretrain_learning_rate: float = _f(3e-3, "Peak learning rate of pretraining (cosine decay).")


@dataclass
class RunConfig:
    """Everything that decides what ``poetbench train`` produces. Saved into every manifest."""

    preset: str = _f("seed", "Name of the preset these values started from.")
    # model
    base_model: str = _f("Qwen/Qwen2.5-3B-Instruct", "Hub id or local path of the base model; 'tiny' builds the offline model.")
    base_revision: str | None = _f(None, "Hub revision (branch, tag or commit) of the base model.")
    trust_remote_code: bool = _f(False, "Allow model repositories to run their own code (off unless asked for).")
    dtype: str = _f("auto", "Weights dtype: auto (bf16 on a GPU that has it, else fp32), bf16, fp16 or fp32.")
    attn_implementation: str | None = _f(None, "sdpa, eager or flash_attention_2 (when installed); None lets transformers choose.")
    tiny: TinyModelConfig = field(default_factory=TinyModelConfig, metadata={"help": "Tiny offline model shape."})
    # corpus
    authors_file: str = _f("corpora/authors.toml", "Author declarations (id, Russian name, where the texts are).")
    corpus_root: str | None = _f(None, "Folder that relative author paths resolve against (overrides authors.toml).")
    corpus_dir: str = _f("corpora/normalized", "Where the normalised per-author JSONL files are written.")
    authors: list[str] = _f(list(DEMO_AUTHORS), "Authors to train adapters for.")
    min_lines: int = _f(4, "Poems with fewer lines are dropped.")
    max_lines: int = _f(64, "Longer works are split at stanza (else line) boundaries into parts of at most this many lines.")
    long_poems: str = _f("split", "What to do with a work over max_lines: split (into parts) or cap (keep the first part).")
    min_cyrillic: float = _f(0.6, "Poems whose letters are less than this share Cyrillic are dropped.")
    near_duplicate_threshold: float = _f(0.8, "Jaccard similarity of word 3-shingles at or above which a poem is a near duplicate.")
    split: list[float] = _f([0.8, 0.1, 0.1], "Train/val/test fractions, assigned by hash of the normalised text.")
    min_train_poems: int = _f(20, "An author with fewer training poems is refused.")
    # LoRA
    lora_r: int = _f(8, "LoRA rank.")
    lora_alpha: int = _f(16, "LoRA alpha.")
    lora_dropout: float = _f(0.05, "LoRA dropout.")
    lora_target_modules: str = _f("all-linear", "peft target_modules: 'all-linear' or a comma-separated list.")
    # SFT schedule
    seed: int = _f(42, "Random seed for training, splits of batches and LoRA init.")
    num_train_epochs: float = _f(1.0, "Epochs over the author's training poems (ignored when max_steps > 0).")
    max_steps: int = _f(-1, "Optimizer steps per author; -1 means use num_train_epochs.")
    learning_rate: float = _f(2e-4, "Peak learning rate.")
    lr_scheduler_type: str = _f("cosine", "Learning-rate schedule.")
    warmup_ratio: float = _f(0.03, "Share of steps spent warming up.")
    per_device_train_batch_size: int = _f(4, "Sequences per device per step.")
    gradient_accumulation_steps: int = _f(4, "Steps accumulated before an optimizer update.")
    max_length: int = _f(1024, "Longest tokenized training example; longer ones are truncated.")
    bf16: bool = _f(True, "bf16 mixed precision (GPU).")
    gradient_checkpointing: bool = _f(True, "Trade compute for memory (GPU).")
    packing: bool = _f(False, "Pack several examples into one sequence (padding-free batches).")
    logging_steps: int = _f(10, "Log TRL's train metrics every N steps.")
    save_steps: int = _f(50, "Write a resumable checkpoint every N steps.")
    eval_batch_size: int = _f(4, "Batch size of the validation pass.")

    # ---- helpers -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self, keys: list[str] | None = None) -> str:
        data = self.to_dict()
        if keys is not None:
            data = {k: data[k] for k in keys}
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def replace(self, **changes: Any) -> "RunConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(copy.deepcopy(self), **changes)

    @property
    def is_tiny(self) -> bool:
        return self.base_model == "tiny"


def _tiny_preset() -> RunConfig:
    return RunConfig(
        preset="tiny",
        base_model="tiny",
        dtype="fp32",
        bf16=False,
        gradient_checkpointing=False,
        lora_r=8,
        lora_alpha=16,
        learning_rate=2e-3,
        max_steps=40,
        per_device_train_batch_size=8,
        gradient_accumulation_steps=1,
        max_length=256,
        logging_steps=5,
        save_steps=20,
        eval_batch_size=16,
    )


PRESETS: dict[str, RunConfig] = {
    # The student lab this project grew from: Qwen2.5-3B-Instruct, r=8, alpha=16, all linear layers.
    "seed": RunConfig(),
    # CPU / laptop / CI: a tiny Qwen2 pretrained here, so base-vs-adapter comparisons mean something.
    "tiny": _tiny_preset(),
}


def preset(name: str) -> RunConfig:
    try:
        return copy.deepcopy(PRESETS[name])
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def _from_dict(cls, data: dict[str, Any], where: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown field {key!r} (known: {', '.join(fields)})")
        if key == "tiny":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: field 'tiny' must be a table")
            value = _from_dict(TinyModelConfig, value, f"{where} [tiny]")
        kwargs[key] = value
    return cls(**kwargs)


def load_config(path: str | Path) -> RunConfig:
    """Read a TOML file; fields not given come from its ``preset`` (default: seed)."""
    from poetbench.io import read_toml

    path = Path(path)
    data = read_toml(path, "config file")
    base = preset(data.get("preset", "seed"))
    merged = base.to_dict()
    for key, value in data.items():
        if key == "tiny" and isinstance(value, dict):
            merged["tiny"] = {**merged["tiny"], **value}
        else:
            merged[key] = value
    return _from_dict(RunConfig, merged, str(path))


def save_config(config: RunConfig, path: str | Path) -> None:
    from poetbench.io import atomic_write_text

    data = {k: v for k, v in config.to_dict().items() if v is not None}
    atomic_write_text(Path(path), tomli_w.dumps(data))
