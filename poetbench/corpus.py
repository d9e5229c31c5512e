"""Author corpora: declare, import (JSONL / CSV / folder of .txt), clean, deduplicate, split.

The output of ``import_author`` is one normalised JSONL per author (``<corpus_dir>/<author>.jsonl``)
plus ``<author>.meta.json`` with what was dropped and why, so ``corpus stats`` can report it and a
stale file (source or settings changed) is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from poetbench.cleaning import (
    SPLITS, WORD, clean_text, cyrillic_share, near_duplicates, sha256, split_long, split_of, verse_lines,
)
from poetbench.config import AUTHOR_ID, validate_author_id  # noqa: F401  (AUTHOR_ID: re-exported)
from poetbench.errors import ConfigError, CorpusError
from poetbench.io import (
    atomic_write_json, atomic_write_jsonl, iter_jsonl, read_json_object, read_toml, regular_file, text_files,
)
from poetbench.readers import RawPoem, read_raw

CLEANING_VERSION = 2  # bump when clean_text changes, so normalised files are rebuilt


# --------------------------------------------------------------------------------------------
# Author declarations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    id: str
    name: str
    path: Path | None
    note: str = ""

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


def load_authors(authors_file: str | Path, corpus_root: str | Path | None = None) -> dict[str, Author]:
    """Read ``authors.toml``. Relative paths resolve against ``corpus_root`` (argument, else the
    file's own ``corpus_root`` key, relative to the file's folder, else the file's folder)."""
    authors_file = Path(authors_file)
    if not authors_file.exists() and not authors_file.is_symlink():
        from poetbench.workspace import authors_file_missing

        raise authors_file_missing(authors_file)
    data = read_toml(authors_file, "authors file")
    if corpus_root is None:
        corpus_root = os.environ.get("POETBENCH_CORPUS_ROOT")  # library callers; the CLI resolves it
    if corpus_root is not None:
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
        authors[author_id] = Author(author_id, entry["name"].strip(), resolved, note)
    return authors


def select_authors(authors: dict[str, Author], wanted: Iterable[str]) -> list[Author]:
    out = []
    for author_id in wanted:
        validate_author_id(author_id)
        if author_id not in authors:
            raise CorpusError(f"unknown author {author_id!r}; declared: {', '.join(sorted(authors))}")
        out.append(authors[author_id])
    return out


# --------------------------------------------------------------------------------------------
# Building an author's normalised corpus
# --------------------------------------------------------------------------------------------


@dataclass
class CorpusSettings:
    min_lines: int = 4
    max_lines: int = 64
    long_poems: str = "split"
    min_cyrillic: float = 0.6
    near_duplicate_threshold: float = 0.8
    split: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])

    @classmethod
    def from_config(cls, config) -> "CorpusSettings":
        return cls(
            config.min_lines, config.max_lines, config.long_poems, config.min_cyrillic,
            config.near_duplicate_threshold, list(config.split),
        )

    def validate(self) -> None:
        if self.long_poems not in ("split", "cap"):
            raise CorpusError(f"long_poems must be 'split' or 'cap', not {self.long_poems!r}")
        if len(self.split) != 3 or any(f < 0 for f in self.split) or abs(sum(self.split) - 1) > 1e-6:
            raise CorpusError(f"split must be three non-negative fractions summing to 1, got {self.split}")
        if self.min_lines < 1 or self.max_lines < self.min_lines:
            raise CorpusError("need 1 <= min_lines <= max_lines")


@dataclass
class ImportReport:
    author: str
    source: str
    read: int = 0
    too_short: int = 0
    not_cyrillic: int = 0
    split_parts: int = 0  # extra parts created by splitting long works
    capped: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    kept: int = 0


def build_records(author_id: str, raw: list[RawPoem], settings: CorpusSettings, source: str = "") -> tuple[list[dict], ImportReport]:
    settings.validate()
    report = ImportReport(author_id, source, read=len(raw))
    candidates: list[dict] = []
    for poem in raw:
        text = clean_text(poem.text)
        if len(verse_lines(text)) < settings.min_lines:
            report.too_short += 1
            continue
        if cyrillic_share(text) < settings.min_cyrillic:
            report.not_cyrillic += 1
            continue
        parent = sha256(text)
        parts = split_long(text, settings.max_lines)
        if settings.long_poems == "cap" and len(parts) > 1:
            report.capped += 1
            parts = parts[:1]
        report.split_parts += len(parts) - 1
        title = clean_text(poem.title).replace("\n", " ") if poem.title else None
        for k, part in enumerate(parts):
            if len(verse_lines(part)) < settings.min_lines and len(parts) > 1:
                continue  # a tail too short to stand alone
            digest = sha256(part)
            candidates.append({
                "id": f"{author_id}-{digest[:12]}",
                "author": author_id,
                "title": title,
                "year": poem.year,
                "source": poem.source,
                "part": k + 1 if len(parts) > 1 else None,
                "text": part,
                "sha256": digest,
                # every part of one work lands in the same split: no leakage between splits
                "split": split_of(parent, settings.split),
                "lines": len(verse_lines(part)),
            })
    seen: set[str] = set()
    unique = []
    for rec in candidates:
        if rec["sha256"] in seen:
            report.exact_duplicates += 1
            continue
        seen.add(rec["sha256"])
        unique.append(rec)
    # Keep the longest version of a near-duplicate family (order: most lines first, then hash).
    unique.sort(key=lambda r: (-len(r["text"]), r["sha256"]))
    drop = near_duplicates([r["text"] for r in unique], settings.near_duplicate_threshold)
    report.near_duplicates = len(drop)
    records = [r for i, r in enumerate(unique) if i not in drop]
    records.sort(key=lambda r: r["id"])
    report.kept = len(records)
    return records, report


def _file_fingerprint(path: Path) -> str:
    from poetbench.io import read_bytes

    h = hashlib.sha256()
    files = text_files(path) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        h.update(read_bytes(f))
    return h.hexdigest()


def corpus_paths(corpus_dir: str | Path, author_id: str) -> tuple[Path, Path]:
    validate_author_id(author_id)
    d = Path(corpus_dir)
    return d / f"{author_id}.jsonl", d / f"{author_id}.meta.json"


def import_author(author: Author, corpus_dir: str | Path, settings: CorpusSettings, source: Path | None = None,
                  force: bool = False) -> dict:
    """Normalise ``author``'s texts into ``corpus_dir``; reuse the existing file when neither the source
    nor the settings changed. Returns the meta (report, corpus hash)."""
    source = Path(source) if source is not None else author.path
    if source is None or not source.exists():
        raise CorpusError(author.how_to_supply())
    out, meta_path = corpus_paths(corpus_dir, author.id)
    if source.resolve() in (out.resolve(), meta_path.resolve()) or Path(corpus_dir).resolve() == source.resolve():
        raise CorpusError(f"is the normalised corpus itself ({out}): import the original texts", source)
    return write_corpus(author, corpus_dir, settings, source_desc=str(source),
                        source_sha256=_file_fingerprint(source), read=lambda: read_raw(source), force=force)


def write_corpus(author: Author, corpus_dir: str | Path, settings: CorpusSettings, source_desc: str,
                 source_sha256: str, read: Callable[[], list[RawPoem]], force: bool = False) -> dict:
    """Clean, deduplicate and split the poems ``read()`` returns, and write the author's normalised
    JSONL and meta atomically, unless an up-to-date one (same source hash and settings) is there."""
    out, meta_path = corpus_paths(corpus_dir, author.id)
    fingerprint = {
        "source_sha256": source_sha256,
        "settings": asdict(settings),
        "cleaning_version": CLEANING_VERSION,
    }
    if not force and out.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if isinstance(meta, dict) and meta.get("fingerprint") == fingerprint and meta.get("corpus_sha256") == file_sha256(out):
                return meta
        except (json.JSONDecodeError, OSError):
            pass
    records, report = build_records(author.id, read(), settings, source_desc)
    if not records:
        raise CorpusError(f"no poems left for {author.id!r} after cleaning ({asdict(report)})", source_desc)
    atomic_write_jsonl(out, records)
    meta = {
        "author": author.id,
        "name": author.name,
        "source": source_desc,
        "fingerprint": fingerprint,
        "report": asdict(report),
        "splits": {s: sum(r["split"] == s for r in records) for s in SPLITS},
        "corpus_sha256": file_sha256(out),
    }
    atomic_write_json(meta_path, meta)
    return meta


def existing_meta(corpus_dir: str | Path, author_id: str) -> dict | None:
    """The meta of a normalised corpus already in ``corpus_dir`` (imported or fetched), when intact."""
    out, meta_path = corpus_paths(corpus_dir, author_id)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return meta if isinstance(meta, dict) and meta.get("corpus_sha256") == file_sha256(out) else None
    except (OSError, ValueError, RecursionError, CorpusError):
        return None


def file_sha256(path: Path) -> str:
    from poetbench.io import read_bytes

    return hashlib.sha256(read_bytes(path)).hexdigest()


def load_records(corpus_dir: str | Path, author_id: str, split: str | None = None) -> list[dict]:
    path, _ = corpus_paths(corpus_dir, author_id)
    if not path.exists():
        raise CorpusError(f"no normalised corpus for {author_id!r}; run `poetbench corpus import`", path)
    records = [obj for _, obj in iter_jsonl(path)]
    if split is not None:
        records = [r for r in records if r.get("split") == split]
    return records


def load_meta(corpus_dir: str | Path, author_id: str) -> dict:
    _, meta_path = corpus_paths(corpus_dir, author_id)
    return read_json_object(meta_path, "corpus meta")


def author_stats(records: list[dict], meta: dict, tokenizer=None) -> dict:
    texts = [r["text"] for r in records]
    stats = {
        "author": meta["author"],
        "poems": len(records),
        "lines": sum(r["lines"] for r in records),
        "words": sum(len(WORD.findall(t.lower())) for t in texts),
        "tokens": None,
        **{s: meta["splits"].get(s, 0) for s in SPLITS},
        "exact_dups": meta["report"]["exact_duplicates"],
        "near_dups": meta["report"]["near_duplicates"],
        "dropped": meta["report"]["too_short"] + meta["report"]["not_cyrillic"],
        "corpus_sha256": meta["corpus_sha256"],
    }
    if tokenizer is not None:
        stats["tokens"] = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    return stats
