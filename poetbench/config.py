"""Run configuration: one dataclass with documented defaults, named presets, TOML round-trip.

Like TRL's ``SFTConfig``: every field has a default and a help string (``field(metadata={"help": ...})``),
presets are plain instances, and the CLI only fills fields in.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from poetbench.errors import ConfigError

DEMO_AUTHORS = ["pushkin", "lermontov", "tyutchev"]
# The author id of "Russian verse by none of the benchmark's poets": the style classifier's open-set
# class, declared in the authors file like a poet but never imitated, trained for or pretrained on.
OTHER = "other"
AUTHOR_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DTYPES = ("auto", "bf16", "fp16", "fp32")
ATTENTION = ("sdpa", "eager", "flash_attention_2", "flash_attention_3")


def validate_author_id(author_id) -> str:
    if not isinstance(author_id, str) or not AUTHOR_ID.match(author_id):
        raise ConfigError(
            f"invalid author id {author_id!r}: use lowercase Latin letters, digits and '_' "
            "(starting with a letter, at most 32 characters)"
        )
    return author_id


def check_author_ids(ids: list[str], field_name: str) -> None:
    """At least one valid author id, none of them the open-set class ``other``."""
    if not ids:
        raise ConfigError("give at least one author id", field=field_name)
    for a in ids:
        try:
            validate_author_id(a)
        except ConfigError as e:
            raise ConfigError(str(e), field=field_name) from None
        if a == OTHER:
            raise ConfigError(f"{OTHER!r} is the style classifier's class for verse by none of the poets, not an "
                              "author to imitate: leave it out", field=field_name)


def documented(default: Any, help: str, **rules):
    """A documented field. ``rules``: ``ge``/``gt``/``le``/``lt`` bounds, ``choices``, ``cli`` (the
    option name when it differs from the field's), ``flag`` (a boolean ``--x/--no-x`` option)."""
    meta = {"help": help, **rules}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _check_type(name: str, value: Any, hint) -> Any:
    """``value`` checked against the field's type (ints allowed where a float goes); the value to keep."""
    args = typing.get_args(hint)
    if type(None) in args:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"must be a list of {_KINDS[item].split(' ', 1)[1]}s, got {value!r}", field=name)
        return [_check_type(f"{name}[{i}]", v, item) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            raise ConfigError(f"must be a table of {hint.__name__} fields, got {value!r}", field=name)
        return value
    ok = isinstance(value, hint) and not (hint in (int, float) and isinstance(value, bool))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"must be {_KINDS[hint]}, got {value!r}", field=name)
    if hint is float and not math.isfinite(value):
        raise ConfigError(f"must be a finite number, got {value!r}", field=name)
    return value


def check_fields(obj) -> None:
    """Every field of a config dataclass: its type, then its bounds and choices (from the metadata).
    Errors name the field, the value and what is allowed."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = _check_type(f.name, getattr(obj, f.name), hints[f.name])
        object.__setattr__(obj, f.name, value)
        m = f.metadata
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None or isinstance(v, (bool, str)) and "choices" not in m:
                continue
            if "choices" in m and v not in m["choices"]:
                raise ConfigError(f"{v!r} is not allowed; choose one of: {', '.join(map(str, m['choices']))}",
                                  field=f.name)
            for rule, test, words in (("ge", lambda a, b: a >= b, "at least"), ("gt", lambda a, b: a > b, "above"),
                                      ("le", lambda a, b: a <= b, "at most"), ("lt", lambda a, b: a < b, "below")):
                if rule in m and not test(v, m[rule]) and not (m.get("or") is not None and v == m["or"]):
                    extra = f" (or {m['or']})" if m.get("or") is not None else ""
                    raise ConfigError(f"must be {words} {m[rule]}{extra}, got {v!r}", field=f.name)


@dataclass
class TinyModelConfig:
    """Shape and pretraining schedule of the tiny offline base model (a small Qwen2)."""

    vocab_size: int = documented(4000, "BPE vocabulary size of the locally trained byte-level tokenizer.", ge=300, le=200_000)
    hidden_size: int = documented(128, "Hidden size.", ge=8, le=8192)
    intermediate_size: int = documented(384, "MLP width.", ge=8, le=32768)
    num_hidden_layers: int = documented(2, "Transformer layers.", ge=1, le=64)
    num_attention_heads: int = documented(4, "Attention heads.", ge=1, le=128)
    num_key_value_heads: int = documented(2, "Key/value heads (grouped-query attention, as in Qwen2.5).", ge=1, le=128)
    max_position_embeddings: int = documented(512, "Longest sequence the model accepts.", ge=16, le=131072)
    pretrain_steps: int = documented(240, "Causal-LM pretraining steps on the train splits of the pretraining authors.",
                             ge=1, le=1_000_000)
    pretrain_batch_size: int = documented(16, "Sequences per pretraining step.", ge=1, le=4096)
    pretrain_seq_len: int = documented(256, "Tokens per packed pretraining sequence.", ge=8, le=131072)
    pretrain_learning_rate: float = documented(3e-3, "Peak learning rate of pretraining (cosine decay).", gt=0, le=1)
    pretrain_authors: list[str] = documented(list(DEMO_AUTHORS), "Authors whose train splits pretrain the tiny base: "
                                             "declared (and recorded in the base), so that importing another "
                                             "author never changes the base of existing adapters.")

    def __post_init__(self):
        check_fields(self)
        check_author_ids(self.pretrain_authors, "tiny.pretrain_authors")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(f"hidden_size {self.hidden_size} must be a multiple of num_attention_heads "
                              f"{self.num_attention_heads}", field="tiny.hidden_size")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError(f"num_attention_heads {self.num_attention_heads} must be a multiple of "
                              f"num_key_value_heads {self.num_key_value_heads}", field="tiny.num_key_value_heads")
        if self.pretrain_seq_len > self.max_position_embeddings:
            raise ConfigError(f"pretrain_seq_len {self.pretrain_seq_len} exceeds max_position_embeddings "
                              f"{self.max_position_embeddings}", field="tiny.pretrain_seq_len")


@dataclass
class RunConfig:
    """Everything that decides what ``poetbench train`` produces. Saved into every manifest."""

    preset: str = documented("seed", "Name of the preset these values started from.", choices=("seed", "tiny"))
    # model
    base_model: str = documented("Qwen/Qwen2.5-3B-Instruct", "Hub id or local path of the base model; 'tiny' builds the offline model.")
    base_revision: str | None = documented(None, "Hub revision (branch, tag or commit) of the base model.", cli="--revision")
    trust_remote_code: bool = documented(False, "Allow model repositories to run their own code (off unless asked for).")
    dtype: str = documented("auto", "Weights dtype: auto (bf16 on a GPU that has it, else fp32), bf16, fp16 or fp32.",
                    choices=DTYPES)
    attn_implementation: str | None = documented(None, "sdpa, eager or flash_attention_2 (when installed); None lets transformers choose.",
                                         choices=ATTENTION)
    tiny: TinyModelConfig = field(default_factory=TinyModelConfig, metadata={"help": "Tiny offline model shape."})
    # corpus
    authors_file: str = documented("corpora/authors.toml", "Author declarations (id, Russian name, where the texts are).",
                           path="file")
    corpus_root: str | None = documented(None, "Folder that relative author paths resolve against (overrides authors.toml).",
                                 path="dir")
    corpus_dir: str = documented("corpora/normalized", "Where the normalised per-author JSONL files are written.", path="dir")
    authors: list[str] = documented(list(DEMO_AUTHORS), "Authors to train adapters for.")
    min_lines: int = documented(4, "Poems with fewer lines are dropped.", ge=1, le=10_000)
    max_lines: int = documented(64, "Longer works are split at stanza (else line) boundaries into parts of at most this many lines.",
                        ge=1, le=10_000)
    long_poems: str = documented("split", "What to do with a work over max_lines: split (into parts) or cap (keep the first part).",
                         choices=("split", "cap"))
    min_cyrillic: float = documented(0.6, "Poems whose letters are less than this share Cyrillic are dropped.", ge=0, le=1)
    near_duplicate_threshold: float = documented(0.8, "Jaccard similarity of word 3-shingles at or above which a poem is a near duplicate.",
                                         gt=0, le=1)
    split: list[float] = documented([0.8, 0.1, 0.1], "Train/val/test fractions, assigned by hash of the normalised text.",
                            ge=0, le=1)
    min_train_poems: int = documented(20, "An author with fewer training poems is refused.", ge=1, le=1_000_000)
    # LoRA
    lora_r: int = documented(8, "LoRA rank.", ge=1, le=1024)
    lora_alpha: int = documented(16, "LoRA alpha.", ge=1, le=65536)
    lora_dropout: float = documented(0.05, "LoRA dropout.", ge=0, lt=1)
    lora_target_modules: str = documented("all-linear", "peft target_modules: 'all-linear' or a comma-separated list.")
    # SFT schedule
    seed: int = documented(42, "Random seed for training, splits of batches and LoRA init.", ge=0, lt=2**32)
    seeds: list[int] = documented([], "Train one adapter per author and seed (e.g. 1,2,3), into <author>-seed<N>/, so "
                                  "that eval can measure the variance between training runs [default: one, --seed].",
                                  ge=0, lt=2**32)
    num_train_epochs: float = documented(1.0, "Epochs over the author's training poems (ignored when max_steps > 0).",
                                 gt=0, le=10_000)
    max_steps: int = documented(-1, "Optimizer steps per author; -1 means use num_train_epochs.", ge=1, le=10_000_000, **{"or": -1})
    learning_rate: float = documented(2e-4, "Peak learning rate.", gt=0, le=1)
    lr_scheduler_type: str = documented("cosine", "Learning-rate schedule.",
                                choices=("linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                                         "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau",
                                         "cosine_with_min_lr", "warmup_stable_decay"))
    warmup_ratio: float = documented(0.03, "Share of steps spent warming up.", ge=0, lt=1)
    per_device_train_batch_size: int = documented(4, "Sequences per device per step.", ge=1, le=65536)
    gradient_accumulation_steps: int = documented(4, "Steps accumulated before an optimizer update.", ge=1, le=65536)
    max_length: int = documented(1024, "Longest tokenized training example; longer ones are truncated.", ge=16, le=1_048_576)
    bf16: bool = documented(True, "bf16 mixed precision (GPU).", flag=True)
    gradient_checkpointing: bool = documented(True, "Trade compute for memory (GPU).", flag=True)
    packing: bool = documented(False, "Pack several examples into one sequence (padding-free batches).", flag=True)
    logging_steps: int = documented(10, "Log TRL's train metrics every N steps.", ge=1, le=10_000_000)
    save_steps: int = documented(50, "Write a resumable checkpoint every N steps.", ge=1, le=10_000_000)
    eval_batch_size: int = documented(4, "Batch size of the validation pass.", ge=1, le=65536)
    auto_micro_batch: bool = documented(True, "On a GPU, choose the micro-batch size and gradient checkpointing from the "
                                        "memory (the sequences per optimizer step, per_device_train_batch_size x "
                                        "gradient_accumulation_steps, stay the same).", flag=True)
    memory_budget_gib: float = documented(24.0, "With auto_micro_batch: the GPU memory training may plan to use "
                                          "(at most 90% of what is free).", gt=0, le=4096)
    use_liger_kernel: bool = documented(False, "Liger's fused layer kernels (GPU; pip install 'poetbench[liger]').",
                                        flag=True)

    def __post_init__(self):
        if isinstance(self.tiny, dict):
            self.tiny = _from_dict(TinyModelConfig, self.tiny, "tiny")
        check_fields(self)
        if len(self.split) != 3 or abs(sum(self.split) - 1) > 1e-6:
            raise ConfigError(f"must be three non-negative fractions summing to 1, got {self.split}", field="split")
        if self.max_lines < self.min_lines:
            raise ConfigError(f"max_lines {self.max_lines} is below min_lines {self.min_lines}", field="max_lines")
        check_author_ids(self.authors, "authors")
        if len(set(self.seeds)) < len(self.seeds):
            raise ConfigError(f"a seed is given twice: {self.seeds}", field="seeds")
        if not self.base_model.strip():
            raise ConfigError("must name a hub id, a local path or 'tiny'", field="base_model")
        if not [t for t in self.lora_target_modules.split(",") if t.strip()]:
            raise ConfigError("must be 'all-linear' or a comma-separated list of module names",
                              field="lora_target_modules")

    # ---- helpers -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self, keys: list[str] | None = None) -> str:
        data = self.to_dict()
        if keys is not None:
            data = {k: data[k] for k in keys}
        # fields added after runs were first named count only when set away from their defaults,
        # so the runs named before keep their names
        data = {k: v for k, v in data.items() if not (k in LATER_FIELDS and v == LATER_FIELDS[k])}
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def replace(self, **changes: Any) -> "RunConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(copy.deepcopy(self), **changes)

    @property
    def is_tiny(self) -> bool:
        return self.base_model == "tiny"


@dataclass(frozen=True)
class SamplingParams:
    """How eval samples each poem. Part of every generation's cache key."""

    temperature: float = documented(0.8, "Sampling temperature (above 0).", gt=0, le=100)
    top_p: float = documented(0.95, "Nucleus sampling: keep the smallest set of tokens with this probability mass, in (0, 1].",
                      gt=0, le=1)
    max_new_tokens: int = documented(512, "Most tokens generated per poem [default: 160 for the tiny preset, 512 otherwise].",
                             ge=1, le=131072)
    repetition_penalty: float = documented(1.05, "Penalty on repeated tokens (1 = none).", gt=0, le=10)

    def __post_init__(self):
        check_fields(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


LATER_FIELDS = {"auto_micro_batch": True, "memory_budget_gib": 24.0, "use_liger_kernel": False, "seeds": []}


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
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def load_config(path: str | Path) -> RunConfig:
    """Read a TOML file; fields not given come from its ``preset`` (default: seed)."""
    from poetbench.io import read_toml

    path = Path(path)
    data = read_toml(path, "config file")
    name = data.get("preset", "seed")
    if not isinstance(name, str):
        raise ConfigError(f"{path}: field 'preset': must be a string, got {name!r}")
    base = preset(name)
    merged = base.to_dict()
    for key, value in data.items():
        if key == "tiny" and isinstance(value, dict):
            merged["tiny"] = {**merged["tiny"], **value}
        else:
            merged[key] = value
    return _from_dict(RunConfig, merged, str(path))


def config_toml(config: RunConfig) -> str:
    """The config as TOML (``None`` values left out: TOML has no null, and the preset supplies them)."""
    return tomli_w.dumps({k: v for k, v in config.to_dict().items() if v is not None})


def save_config(config: RunConfig, path: str | Path) -> None:
    from poetbench.io import atomic_write_text

    atomic_write_text(Path(path), config_toml(config))
