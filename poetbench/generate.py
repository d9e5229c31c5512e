"""Batched, seeded, cached generation of poems by the base model and by LoRA adapters.

One base model is loaded once; every adapter is attached with peft's multi-adapter API and switched
(``set_adapter``), the base being the model with adapters disabled. Jobs are cut into fixed batches
(in a fixed order), each batch sampled under a seed derived from its jobs' keys, so the poems do not
depend on which batches an earlier, interrupted run already finished. Each finished batch is
appended to ``generations.jsonl``; a rerun skips the keys already there.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from poetbench.config import SamplingParams  # noqa: F401  (re-exported: part of this module's interface)
from poetbench.errors import GenerateError

GENERATIONS = "generations.jsonl"


@dataclass
class ModelEntry:
    """A model under evaluation: ``base`` or an adapter folder paired with its author."""

    name: str  # "base", "lora:pushkin", or the adapter folder's name
    adapter_path: Path | None = None
    author: str | None = None  # the author an adapter was trained on
    adapter_sha256: str | None = None

    @property
    def is_base(self) -> bool:
        return self.adapter_path is None


@dataclass
class Job:
    model: str
    author: str
    theme: str
    sample: int
    prompt: str
    key: str = ""


# --------------------------------------------------------------------------------------------
# Which models: --models base,lora,lora:<author>,<path>
# --------------------------------------------------------------------------------------------


ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def adapter_sha256(folder: Path) -> str:
    """sha256 over the adapter's config and weights (regular files only, read in chunks)."""
    from poetbench.io import regular_file

    h = hashlib.sha256()
    for name in ADAPTER_FILES:
        f = folder / name
        regular_file(f, "adapter file", GenerateError)
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def adapter_manifest(folder: Path) -> dict | None:
    """An adapter's ``poetbench.json``, checked: an object whose ``author.id`` is a valid id and
    whose ``base_model`` is an object (None when the folder has no manifest: a foreign adapter)."""
    from poetbench.corpus import AUTHOR_ID
    from poetbench.io import read_json_object

    path = folder / "poetbench.json"
    if not path.exists() and not path.is_symlink():
        return None
    manifest = read_json_object(path, "adapter manifest", GenerateError)
    author = manifest.get("author")
    if not isinstance(author, dict) or not isinstance(author.get("id"), str) or not AUTHOR_ID.match(author["id"]):
        raise GenerateError("must be an object with a valid author id (lowercase Latin letters, digits, '_')",
                            path, field="author.id")
    if not isinstance(manifest.get("base_model"), dict):
        raise GenerateError("must be an object naming the base model", path, field="base_model")
    return manifest


def _adapter_entry(folder: Path, name: str | None = None) -> ModelEntry:
    from poetbench.io import read_json_object

    if not folder.is_dir():
        raise GenerateError(f"{folder}: not a folder")
    if not (folder / "adapter_config.json").exists():
        raise GenerateError(f"{folder}: not a peft adapter folder (no adapter_config.json)")
    if not (folder / "adapter_model.safetensors").exists() and not (folder / "adapter_model.safetensors").is_symlink():
        raise GenerateError(f"{folder}: adapter weights missing (adapter_model.safetensors); only safetensors are loaded")
    read_json_object(folder / "adapter_config.json", "adapter config", GenerateError)
    manifest = adapter_manifest(folder)
    author = manifest["author"]["id"] if manifest else None
    return ModelEntry(name or (f"lora:{author}" if author else folder.name), folder, author, adapter_sha256(folder))


def parse_models(spec: str, adapters_dir: Path | None) -> list[ModelEntry]:
    """``base``, ``lora`` (every adapter of the run), ``lora:<author>``, or a path to an adapter."""
    items = [s.strip() for s in (spec or "").split(",")]
    if not spec or any(not s for s in items):
        raise GenerateError(f"--models {spec!r}: give a comma-separated list of base, lora, lora:<author> or paths")
    out: list[ModelEntry] = []

    def run_adapters() -> list[Path]:
        if adapters_dir is None or not adapters_dir.is_dir():
            raise GenerateError(f"no adapter run folder {adapters_dir} (train first, or pass --adapters DIR)")
        found = sorted(p for p in adapters_dir.iterdir() if (p / "adapter_config.json").exists())
        if not found:
            raise GenerateError(f"{adapters_dir}: holds no trained adapters")
        return found

    for item in items:
        if item == "base":
            out.append(ModelEntry("base"))
        elif item == "lora":
            out.extend(_adapter_entry(p) for p in run_adapters())
        elif item.startswith("lora:"):
            author = item.split(":", 1)[1]
            folder = (adapters_dir or Path(".")) / author
            if not (folder / "adapter_config.json").exists():
                raise GenerateError(f"--models {item}: no adapter for {author!r} in {adapters_dir}")
            out.append(_adapter_entry(folder, item))
        elif Path(item).exists():
            out.append(_adapter_entry(Path(item)))
        else:
            raise GenerateError(f"--models: {item!r} is not base, lora, lora:<author> or an existing adapter folder")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise GenerateError(f"--models names a model twice: {', '.join(names)}")
    return out


def newest_run(adapters_root: Path = Path("adapters")) -> Path | None:
    runs = [p for p in adapters_root.glob("*") if p.is_dir() and any(p.glob("*/poetbench.json"))]
    return max(runs, key=lambda p: max(f.stat().st_mtime for f in p.glob("*/poetbench.json"))) if runs else None


# --------------------------------------------------------------------------------------------
# One base model, switched adapters
# --------------------------------------------------------------------------------------------


class ModelBank:
    """The base model with every adapter attached under its own name."""

    def __init__(self, model, tokenizer, entries: list[ModelEntry]):
        from peft import PeftModel

        self.tokenizer = tokenizer
        self.entries = {e.name: e for e in entries}
        adapters = [e for e in entries if not e.is_base]
        self.model = model
        self._names = {}
        for i, e in enumerate(adapters):
            name = f"a{i}"
            try:
                if i == 0:
                    self.model = PeftModel.from_pretrained(model, str(e.adapter_path), adapter_name=name)
                else:
                    self.model.load_adapter(str(e.adapter_path), adapter_name=name)
            except Exception as err:  # peft/safetensors raise many types for a foreign or damaged adapter
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise GenerateError(f"{e.adapter_path}: cannot attach this adapter to the base model ({first[:200]}); "
                                    "was it trained on another base?") from None
            self._names[e.name] = name
        self.model.eval()

    @contextmanager
    def use(self, entry_name: str) -> Iterator[object]:
        """The model with ``entry_name``'s adapter active (or all adapters off for base)."""
        if entry_name in self._names:
            self.model.set_adapter(self._names[entry_name])
            yield self.model
        elif hasattr(self.model, "disable_adapter"):
            with self.model.disable_adapter():
                yield self.model
        else:
            yield self.model

    def verify_adapters(self, probe: str, atol: float = 1e-6) -> dict[str, float]:
        """Each adapter must change the model's next-token distribution on a probe prompt; one that
        does not (wrong target modules, zero weights, another base) is an error."""
        import torch

        ids = chat_ids(self.tokenizer, [probe]).to(self.model.device)
        with torch.no_grad(), self.use("base") as m:
            ref = m(**ids).logits[:, -1].float()
        changes = {}
        for name in self._names:
            with torch.no_grad(), self.use(name) as m:
                out = m(**ids).logits[:, -1].float()
            delta = float((out - ref).abs().max())
            if delta <= atol:
                raise GenerateError(f"adapter {name} ({self.entries[name].adapter_path}) does not change the base "
                                    "model's output on a probe prompt: wrong base model or target modules?")
            changes[name] = delta
        return changes


def chat_ids(tokenizer, prompts: list[str]):
    """Left-padded batch of chat-formatted prompts (generation prompt added)."""
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in prompts]
    tokenizer.padding_side = "left"
    return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


# --------------------------------------------------------------------------------------------
# Jobs, keys, the cache file
# --------------------------------------------------------------------------------------------


def job_key(base_id: str, entry: ModelEntry, prompt: str, params: SamplingParams, seed: int) -> str:
    data = {"base": base_id, "adapter": entry.adapter_sha256, "prompt": prompt, "params": params.to_dict(),
            "seed": seed}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


ROW_FIELDS = ("key", "model", "author", "theme", "sample", "text")


def read_done(path: Path) -> dict[str, dict]:
    """Rows already generated, by key. Only a torn last line (a kill mid-write) is cut off the file;
    a damaged row before it is an error naming the line (see ``io.read_append_only``)."""
    from poetbench.io import read_append_only

    done = {}
    for row in read_append_only(path, ROW_FIELDS):
        if not isinstance(row["text"], str):
            raise GenerateError("field 'text' must be a string", path, field="text")
        done[row["key"]] = row
    return done


def append_rows(path: Path, rows: list[dict]) -> None:
    from poetbench.io import append_jsonl

    append_jsonl(path, rows)


def batches(jobs: list[Job], size: int) -> list[list[Job]]:
    """Fixed batches of the full, ordered job list (per model, so one adapter per batch)."""
    out: list[list[Job]] = []
    for model in dict.fromkeys(j.model for j in jobs):
        mine = [j for j in jobs if j.model == model]
        out.extend(mine[i: i + size] for i in range(0, len(mine), size))
    return out


def generate(bank: ModelBank, jobs: list[Job], out_path: Path, params: SamplingParams, batch_size: int,
             base_id: str, progress=None, after_batch: Callable[[int], None] | None = None) -> dict[str, dict]:
    """Generate every job not yet in ``out_path``; returns all rows by key."""
    import torch

    out_path.parent.mkdir(parents=True, exist_ok=True)
    done = read_done(out_path)
    todo = [b for b in batches(jobs, batch_size) if not all(j.key in done for j in b)]
    task = None
    if progress is not None:
        task = progress.add_task("generate", total=len(jobs), completed=len(jobs) - sum(len(b) for b in todo))
    tok = bank.tokenizer
    for n, batch in enumerate(todo):
        seed = int(hashlib.sha256("".join(j.key for j in batch).encode()).hexdigest()[:8], 16)
        ids = chat_ids(tok, [j.prompt for j in batch]).to(bank.model.device)
        torch.manual_seed(seed)
        with torch.no_grad(), bank.use(batch[0].model) as model:
            out = model.generate(**ids, do_sample=True, temperature=params.temperature, top_p=params.top_p,
                                 max_new_tokens=params.max_new_tokens, repetition_penalty=params.repetition_penalty,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        new = out[:, ids["input_ids"].shape[1]:]
        rows = []
        for job, seq in zip(batch, new):
            if job.key in done:
                continue
            text = tok.decode(seq, skip_special_tokens=True).strip()
            rows.append({"key": job.key, "model": job.model, "author": job.author, "theme": job.theme,
                         "sample": job.sample, "prompt": job.prompt, "text": text,
                         "tokens": int((seq != tok.pad_token_id).sum()), "params": params.to_dict(),
                         "batch_seed": seed, "base": base_id,
                         "adapter_sha256": bank.entries[job.model].adapter_sha256})
        append_rows(out_path, rows)
        done.update({r["key"]: r for r in rows})
        if task is not None:
            progress.advance(task, len(batch))
        if after_batch is not None:
            after_batch(n)
    return done
