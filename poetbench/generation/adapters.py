"""Which models an eval compares: ``--models base,lora,lora:<author>,<path>``, each adapter folder
checked (peft files present and regular, manifest an object with a valid author id) and hashed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from poetbench.config import AUTHOR_ID
from poetbench.errors import GenerateError


@dataclass
class ModelEntry:
    """A model under evaluation: ``base`` or an adapter folder paired with its author."""

    name: str  # "base", "lora:pushkin", or the adapter folder's name
    adapter_path: Path | None = None
    author: str | None = None  # the author an adapter was trained on
    adapter_sha256: str | None = None
    row: str | None = None  # the model row it is one training seed of (``lora:<author>``), when one of --seeds

    @property
    def label(self) -> str:
        """The model row its poems appear in (seeds of one adapter share it)."""
        return self.row or self.name

    @property
    def is_base(self) -> bool:
        return self.adapter_path is None


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
    seed = manifest.get("train_seed") if manifest else None
    if isinstance(seed, int) and not isinstance(seed, bool) and author:  # one of several training seeds
        row = name.split("#")[0] if name else f"lora:{author}"
        return ModelEntry(f"{row}#seed{seed}", folder, author, adapter_sha256(folder), row=row)
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
            if not AUTHOR_ID.match(author):
                raise GenerateError(f"--models {item}: {author!r} is not a valid author id")
            folder = (adapters_dir or Path(".")) / author
            seeds = sorted((adapters_dir or Path(".")).glob(f"{author}-seed*/adapter_config.json"))
            if (folder / "adapter_config.json").exists():
                out.append(_adapter_entry(folder, item))
            elif seeds:  # the adapter trained with several seeds (--seeds): every seed
                out.extend(_adapter_entry(p.parent, item) for p in seeds)
            else:
                raise GenerateError(f"--models {item}: no adapter for {author!r} in {adapters_dir}")
        elif Path(item).exists():
            out.append(_adapter_entry(Path(item)))
        else:
            raise GenerateError(f"--models: {item!r} is not base, lora, lora:<author> or an existing adapter folder")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise GenerateError(f"--models names a model twice: {', '.join(names)}")
    return out


def newest_run(adapters_root: Path) -> Path | None:
    runs = [p for p in adapters_root.glob("*") if p.is_dir() and any(p.glob("*/poetbench.json"))]
    return max(runs, key=lambda p: max(f.stat().st_mtime for f in p.glob("*/poetbench.json"))) if runs else None


