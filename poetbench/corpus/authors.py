"""Author declarations (``corpora/authors.toml``): id, Russian name, and where the texts are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from poetbench.config import AUTHOR_ID, OTHER, validate_author_id  # noqa: F401  (re-exported)
from poetbench.errors import ConfigError, CorpusError
from poetbench.io import read_toml


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    id: str
    name: str
    path: Path | None
    note: str = ""
    fields: dict[str, str] | None = None  # the columns of a JSONL/CSV/JSON file, when not title/text/year/source

    @property
    def is_other(self) -> bool:
        """Verse by none of the poets: the style classifier's open-set class, never imitated."""
        return self.id == OTHER

    @property
    def present(self) -> bool:
        return self.path is not None and self.path.exists()

    def how_to_supply(self) -> str:
        where = self.path if self.path is not None else "<a path>"
        msg = (
            f"no texts for {self.id!r} at {where}: supply them as JSONL (title, text[, year, source]), "
            f"CSV with the same columns, or a folder of .txt files (one poem each), then set its "
            f"'path' in the authors file or run `poetbench corpus import --author {self.id} PATH`; or declare "
            f"a source for it in corpora/sources.toml and run `poetbench corpus fetch`"
        )
        return msg + (f" ({self.note})" if self.note else "")


USER_AUTHORS = "authors.user.toml"  # beside the authors file: the user's own authors (`corpus add`)


def user_authors_file(authors_file: str | Path) -> Path:
    return Path(authors_file).with_name(USER_AUTHORS)


def load_authors(authors_file: str | Path, corpus_root: str | Path | None = None) -> dict[str, Author]:
    """Read ``authors.toml``, and the user's ``authors.user.toml`` beside it when there is one (its
    authors are added; their relative paths resolve against its own folder). Relative paths resolve
    against ``corpus_root`` (argument, else the file's own ``corpus_root`` key, relative to the
    file's folder, else the file's folder)."""
    authors_file = Path(authors_file)
    if not authors_file.exists() and not authors_file.is_symlink():
        from poetbench.workspace import authors_file_missing

        raise authors_file_missing(authors_file)
    authors = _read_authors(authors_file, corpus_root)
    user = user_authors_file(authors_file)
    if user.exists() or user.is_symlink():
        for author_id, author in _read_authors(user, None).items():
            if author_id in authors:
                raise CorpusError(f"{author_id!r} is declared in {authors_file} already: remove it from one of "
                                  "the two files", user, field=f"authors.{author_id}")
            authors[author_id] = author
    return authors


def _read_authors(authors_file: Path, corpus_root: str | Path | None) -> dict[str, Author]:
    data = read_toml(authors_file, "authors file")
    if corpus_root is not None:  # the workspace applies POETBENCH_CORPUS_ROOT to the config
        root = Path(corpus_root)
    else:
        declared_root = data.get("corpus_root", ".")
        if not isinstance(declared_root, str):
            raise ConfigError(f"must be a string, got {declared_root!r}", authors_file, field="corpus_root")
        root = authors_file.parent / declared_root
    table = data.get("authors")
    if not isinstance(table, dict) or not table:
        raise CorpusError("no [authors.<id>] tables declared", authors_file, field="authors")
    authors = {}
    for author_id, entry in table.items():
        try:
            validate_author_id(author_id)
        except ConfigError as e:
            raise CorpusError(str(e), authors_file, field=f"authors.{author_id}") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise CorpusError("needs a 'name' (Russian full name)", authors_file, field=f"authors.{author_id}.name")
        path = entry.get("path")
        if path is not None and not isinstance(path, str):
            raise CorpusError("must be a string", authors_file, field=f"authors.{author_id}.path")
        resolved = None if path is None else Path(os.path.normpath(root / path))
        note = entry.get("note", "")
        if not isinstance(note, str):
            raise ConfigError(f"must be a string, got {note!r}", authors_file, field=f"authors.{author_id}.note")
        fields = entry.get("fields")
        if fields is not None and (not isinstance(fields, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in fields.items())):
            raise ConfigError(f"must be a table of column names, e.g. {{text = \"poem_text\"}}, got {fields!r}",
                              authors_file, field=f"authors.{author_id}.fields")
        authors[author_id] = Author(author_id, entry["name"].strip(), resolved, note, fields)
    return authors


def select_authors(authors: dict[str, Author], wanted: Iterable[str]) -> list[Author]:
    out = []
    for author_id in wanted:
        validate_author_id(author_id)
        if author_id not in authors:
            raise CorpusError(f"unknown author {author_id!r}; declared: {', '.join(sorted(authors))}")
        out.append(authors[author_id])
    return out
