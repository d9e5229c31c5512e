"""Poems made elsewhere (``poetbench score --poems``, ``eval --also``): a JSONL file of rows with
``author`` and ``text`` (``theme`` and ``id`` optional), read as generation rows of one model."""

from __future__ import annotations

import re
from pathlib import Path

from poetbench.config import OTHER
from poetbench.errors import ConfigError, CorpusError
from poetbench.io import iter_jsonl

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,63}$")
RESERVED = ("base", "reference")


def say_empty(rows: list[dict], name: str, log) -> None:
    """A note of how many of model ``name``'s poems are empty (kept: failed generations, scored as such)."""
    empty = sum(not r["text"] for r in rows)
    if empty:
        log(f"note: {empty} of the {len(rows)} poems of {name} are empty: scored as failed generations, as eval "
            "scores them")


def read_poems(path: Path, name: str, known_authors: set[str]) -> list[dict]:
    """The file's rows as generation rows of model ``name``: ``author`` (a known author id, not ``other``) and
    ``text`` (a string; an empty one is a generation that failed, kept and scored as eval scores an
    empty generation, so that dropping failures cannot flatter a model) required, ``theme`` and ``id``
    optional; a bad row is one error naming its line and field."""
    if not NAME.match(name or "") or name in RESERVED or name.startswith("lora"):
        raise ConfigError(f"--name {name!r}: give a name of letters, digits and :_.@- (not base, reference or "
                          "lora...)")
    poets = set(known_authors) - {OTHER}
    rows, seen, counts = [], {}, {}
    for line, obj in iter_jsonl(path):
        author = obj.get("author")
        if author == OTHER:
            raise CorpusError(f"{OTHER!r} is the style classifier's class for verse by none of the poets, not an "
                              f"author to imitate: give the poet the poem imitates ({', '.join(sorted(poets))})",
                              path, line, "author")
        if not isinstance(author, str) or author not in poets:
            raise CorpusError(f"must be one of the authors with a corpus: {', '.join(sorted(poets))}",
                              path, line, "author")
        text = obj.get("text")
        if not isinstance(text, str):  # "" stays: the other system's empty output, scored as eval scores one
            raise CorpusError("missing or not a string (an empty output is \"\")", path, line, "text")
        theme = obj.get("theme", "")
        if not isinstance(theme, str):
            raise CorpusError("must be a string", path, line, "theme")
        ident = obj.get("id", line)
        if not isinstance(ident, (str, int)) or isinstance(ident, bool):
            raise CorpusError("must be a string or a number", path, line, "id")
        if str(ident) in seen:
            raise CorpusError(f"duplicate id {ident!r} (first at line {seen[str(ident)]})", path, line, "id")
        seen[str(ident)] = line
        sample = counts[(author, theme)] = counts.get((author, theme), -1) + 1
        rows.append({"key": f"{name}:{ident}", "model": name, "author": author, "theme": theme, "sample": sample,
                     "prompt": None, "text": text.strip(), "tokens": None, "backend": "external", "id": ident})
    if not rows:
        raise CorpusError("holds no poems", path)
    return rows
