"""One folder, one run: an eval output folder holds the files of exactly one run, written by one
process at a time.

- ``identity``: what makes two runs the same run (base model, models and their adapter hashes,
  prompt templates and themes, sampling, seed). A rerun with the same identity resumes; a
  different one is refused with the difference named, unless ``--force``, which moves the old
  files aside into ``<folder>/replaced-<UTC time>/`` (never mixing them).
- ``folder_lock``: an exclusive ``flock`` on ``<folder>/.poetbench.lock``; a second process
  writing the same folder is refused at once, with the first one's pid.
- ``check_out_path``: an output file may not be one of a command's inputs or a run's own file.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from poetbench.errors import ConfigError, GenerateError
from poetbench.io import LOCK

# the files of an eval run (and what sits beside them), which no other command's output may replace
RUN_FILES = ("generations.jsonl", "scores.jsonl", "lm.jsonl", "summary.csv", "summary.json", "run.json",
             "report.html", "training.csv", "ratings.sqlite", "human.json")
IDENTITY_FIELDS = {"base": "base model", "models": "models (name and adapter sha256)", "templates": "prompt templates",
                   "themes": "themes", "sampling": "sampling parameters", "seed": "seed",
                   "also": "poems added with --also", "controls": "prompt controls (--controls)"}


def identity(base_id: str, entries, prompts, params, seed: int) -> dict:
    return {"base": base_id, "models": sorted([e.name, e.adapter_sha256] for e in entries),
            "templates": {k: v for k, v in prompts.to_dict().items() if k.endswith("template")},
            "themes": list(prompts.themes), "sampling": params.to_dict(), "seed": seed}


def differences(ours: dict, theirs: dict) -> list[str]:
    out = []
    for key, label in IDENTITY_FIELDS.items():
        if key in theirs and theirs[key] != ours.get(key):
            out.append(f"{label}: {_short(theirs[key])} there, {_short(ours[key])} now")
    return out


def _short(value) -> str:
    text = repr(value) if not isinstance(value, list) or len(value) > 8 else \
        ", ".join(v[0] if isinstance(v, list) else str(v) for v in value)
    return text if len(text) <= 120 else text[:117] + "..."


def check_rows(rows: dict[str, dict], ours: dict, folder: Path) -> None:
    """Rows of generations.jsonl that another run wrote (another base, adapter or sampling)."""
    models = {name: sha for name, sha in ours["models"]}
    for row in rows.values():
        model = row.get("weights") or row.get("model")  # (a row of one training seed names its weights)
        problem = None
        if row.get("base", ours["base"]) != ours["base"]:
            problem = f"base model {row.get('base')!r}"
        elif model not in models:
            problem = f"model {model!r}"
        elif row.get("adapter_sha256", models[model]) != models[model]:
            problem = f"another adapter under the name {model!r}"
        elif row.get("params", ours["sampling"]) != ours["sampling"]:
            problem = f"sampling {row.get('params')}"
        if problem:
            raise GenerateError(f"{folder / 'generations.jsonl'} holds poems of another run ({problem}); use another "
                                "--output-dir, or --force to move that run's files aside")


def run_files(folder: Path) -> list[Path]:
    """What a previous run left in ``folder`` (everything but the lock and earlier replaced runs)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name != LOCK and not p.name.startswith("replaced-"))


def move_aside(folder: Path) -> Path | None:
    """Move what a previous run left in ``folder`` into ``<folder>/replaced-<time>/``."""
    return _set_aside(folder, run_files(folder), os.replace)


def keep_copies(folder: Path, names) -> Path | None:
    """Copy these files of ``folder`` into ``<folder>/replaced-<time>/`` before they are rewritten."""
    return _set_aside(folder, [folder / n for n in names if (folder / n).is_file()], shutil.copy2)


def _set_aside(folder: Path, files: list[Path], put) -> Path | None:
    if not files:
        return None
    dest = folder / f"replaced-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}"
    dest.mkdir()
    for p in files:
        put(p, dest / p.name)
    return dest


@contextmanager
def folder_lock(folder: Path) -> Iterator[bool]:
    """Hold ``folder``'s lock while writing it (``io.exclusive``); yields whether this call created
    the folder. A run refused before it wrote a poem removes the folder it created (nothing is
    left behind)."""
    from poetbench.io import exclusive
    from poetbench.workspace import ensure_dir

    created = not folder.exists()
    ensure_dir(folder, "output folder", GenerateError)
    ok = False
    try:
        with exclusive(folder):
            yield created
            ok = True
    finally:
        if not ok and created and not (folder / "generations.jsonl").exists():
            shutil.rmtree(folder, ignore_errors=True)


def check_out_path(out: Path, inputs=(), forbidden_dirs=(), own: Path | None = None, suffixes=None) -> Path:
    """An output file of ``report`` / ``classifier predict`` / ``scan``: never one of the command's
    inputs, a file inside one of ``forbidden_dirs``, an eval run's own file (``own`` excepted: the
    one run file this command writes), nor an existing folder."""
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file path")
    resolved = out.resolve()
    if own is not None and resolved == Path(own).resolve():
        return out
    for p in inputs:
        p = Path(p)
        if p.exists() and (resolved == p.resolve() or (out.exists() and os.path.samefile(out, p))):
            raise ConfigError(f"--out {out} is this command's input {p}: it would be overwritten; write elsewhere")
    for d in forbidden_dirs:
        if Path(d).resolve() in resolved.parents:
            raise ConfigError(f"--out {out} is inside {d}, which holds this command's inputs; write elsewhere")
    if out.name in RUN_FILES and (out.name != "report.html" or (out.parent / "run.json").exists()):
        raise ConfigError(f"--out {out}: {out.name} is an eval run's own file name; choose another name or folder")
    if suffixes and out.exists() and out.suffix.lower() not in suffixes:
        raise ConfigError(f"--out {out} exists and is not a {'/'.join(suffixes)} file; refusing to overwrite it")
    return out
