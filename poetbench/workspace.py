"""Where everything is: every folder and environment variable poetbench uses, resolved once.

The project folder (which holds ``corpora/authors.toml``, ``adapters/`` and ``reports/``) is, in
this order: the ``--project DIR`` option, the ``POETBENCH_PROJECT`` environment variable, the
current folder. Relative paths in a config (``corpora/authors.toml``, ``corpora/normalized``)
resolve against it, so a command works from any folder once it knows the project.

Other locations, each an option or variable, else a default:

- cache (tiny bases, stress dictionary arrays, downloads): ``POETBENCH_CACHE``, else
  ``$XDG_CACHE_HOME/poetbench``, else ``~/.cache/poetbench``;
- saved classifiers: ``POETBENCH_CLASSIFIER_DIR``, else ``<project>/reports/classifier``;
- stress dictionaries: ``--prosody-dir`` or ``POETBENCH_PROSODY_DIR``, else ``../shared/prosody``
  beside the project (the development set-up);
- corpus root (where relative author paths point): ``--corpus-root`` or ``POETBENCH_CORPUS_ROOT``,
  else the authors file's own ``corpus_root``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from poetbench.errors import ConfigError

ENV_PROJECT, ENV_CACHE, ENV_CLASSIFIERS = "POETBENCH_PROJECT", "POETBENCH_CACHE", "POETBENCH_CLASSIFIER_DIR"
ENV_PROSODY, ENV_CORPUS_ROOT = "POETBENCH_PROSODY_DIR", "POETBENCH_CORPUS_ROOT"


@dataclass(frozen=True)
class Workspace:
    root: Path
    cache: Path
    classifiers: Path
    prosody: Path
    corpus_root: Path | None = None

    @classmethod
    def from_env(cls, project: str | Path | None = None, prosody_dir: str | Path | None = None,
                 corpus_root: str | Path | None = None) -> "Workspace":
        env = os.environ
        root = Path(project or env.get(ENV_PROJECT) or ".").expanduser().absolute()
        if not root.is_dir():
            source = "--project" if project else ENV_PROJECT if env.get(ENV_PROJECT) else "the current folder"
            raise ConfigError(f"project folder {root} (from {source}) is not a folder")
        cache = Path(env[ENV_CACHE]) if env.get(ENV_CACHE) else \
            Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "poetbench"
        classifiers = Path(env[ENV_CLASSIFIERS]) if env.get(ENV_CLASSIFIERS) else root / "reports" / "classifier"
        prosody = Path(prosody_dir or env.get(ENV_PROSODY) or _default_prosody(root))
        corpus = corpus_root or env.get(ENV_CORPUS_ROOT)
        ws = cls(root, cache.expanduser().absolute(), classifiers.expanduser().absolute(),
                 prosody.expanduser().absolute(), Path(corpus).expanduser().absolute() if corpus else None)
        for name, path in (("cache folder", ws.cache), ("classifier folder", ws.classifiers)):
            not_a_file(path, name)
        return ws

    def export(self) -> Callable[[], None]:
        """Name this workspace's prosody folder in the environment (``POETBENCH_PROSODY_DIR``) for the code
        that finds the stress dictionaries on its own: the scans inside the style judge's features, in
        this process and in the worker processes it starts, which inherit the environment. Returns the
        function that restores the variable. Every command does this, and so do ``run_eval``,
        ``score_poems``, ``rescore_run`` and ``train_classifier`` for the workspace they are given
        (``exported``)."""
        before = os.environ.get(ENV_PROSODY)
        os.environ[ENV_PROSODY] = str(self.prosody)

        def restore() -> None:
            if before is None:
                os.environ.pop(ENV_PROSODY, None)
            else:
                os.environ[ENV_PROSODY] = before

        return restore

    @contextmanager
    def exported(self) -> Iterator["Workspace"]:
        """``export`` while the block runs, the variable restored after it."""
        restore = self.export()
        try:
            yield self
        finally:
            restore()

    # -- paths inside the project ----------------------------------------------------------------
    def path(self, p: str | Path) -> Path:
        """``p`` as given when absolute, else inside the project folder."""
        p = Path(p).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def adapters(self) -> Path:
        return self.root / "adapters"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def resolve(self, config):
        """The config with its project-relative paths made absolute (and the corpus root applied)."""
        changes = {"authors_file": str(self.path(config.authors_file)), "corpus_dir": str(self.path(config.corpus_dir))}
        if self.corpus_root is not None and config.corpus_root is None:
            changes["corpus_root"] = str(self.corpus_root)
        elif config.corpus_root is not None:
            changes["corpus_root"] = str(self.path(config.corpus_root))
        not_a_file(Path(changes["corpus_dir"]), "corpus folder (corpus_dir)")
        return config.replace(**changes)

    def with_classifiers(self, folder: Path) -> "Workspace":
        return replace(self, classifiers=Path(folder))


def _default_prosody(root: Path) -> Path:
    """``../shared/prosody`` beside the project (the development and CI set-up)."""
    return root.parent / "shared" / "prosody"


def not_a_file(path: Path, what: str) -> None:
    """A folder poetbench will create must not already exist as a file (or a broken symlink)."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} is a file, not a folder: point it at a folder")
    if path.is_symlink() and not path.exists():
        raise ConfigError(f"{what} {path} is a dangling symlink: point it at a folder")


def ensure_dir(path: Path, what: str, error: type = ConfigError) -> Path:
    """Create ``path`` (and parents) as a folder, or say in one line why it cannot be."""
    path = Path(path)
    not_a_file(path, what)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise error(f"cannot create the {what} {path}: {e.strerror or e}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise error(f"the {what} {path} is not writable")
    return path


def authors_file_missing(path: Path) -> ConfigError:
    """The one-line error for an authors file that is not where the workspace says."""
    return ConfigError(
        f"authors file {path} not found: run poetbench in the project folder, set {ENV_PROJECT}=DIR or "
        "pass --project DIR, or give --authors-file FILE"
    )
