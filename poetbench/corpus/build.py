"""Building corpora: import (JSONL / CSV / folder of .txt), clean, deduplicate, split.

The output of ``import_author`` is one normalised JSONL per author (``<corpus_dir>/<author>.jsonl``)
plus ``<author>.meta.json`` with what was dropped and why, so ``corpus stats`` can report it and a
stale file (source or settings changed) is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from poetbench.config import OTHER, validate_author_id
from poetbench.corpus.authors import Author, load_authors, select_authors
from poetbench.corpus.cleaning import (
    SPLITS, clean_text, cyrillic_share, is_a_list, is_doubtful, near_duplicates, sha256, split_long, split_of,
    verse_lines,
)
from poetbench.corpus.readers import RawPoem, read_raw
from poetbench.errors import CorpusError
from poetbench.words import words
from poetbench.io import atomic_write_json, atomic_write_jsonl, iter_jsonl, read_json_object, text_files

CLEANING_VERSION = 8  # bump when clean_text or de-duplication changes, so normalised files are rebuilt
# 7: invisible format characters removed (soft hyphens, zero-width spaces: words.INVISIBLE); the shared corpora have none


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

    def __post_init__(self):
        from poetbench.config import RunConfig

        RunConfig(**asdict(self))  # the config's own checks of these fields (one set of rules)


@dataclass
class ImportReport:
    author: str
    source: str
    read: int = 0
    too_short: int = 0
    not_cyrillic: int = 0
    not_verse: int = 0  # a numbered list (an edition's table of contents)
    doubtful: int = 0  # titled as of doubtful attribution (an edition's Dubia)
    split_parts: int = 0  # extra parts created by splitting long works
    capped: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    inside_longer: int = 0  # works found inside a longer one of the corpus (a section also published apart)
    kept: int = 0


def build_records(author_id: str, raw: list[RawPoem], settings: CorpusSettings, source: str = "") -> tuple[list[dict], ImportReport]:
    report = ImportReport(author_id, source, read=len(raw))
    works: list[tuple[RawPoem, str, str]] = []  # (poem, cleaned text, its sha256)
    for poem in raw:
        if is_doubtful(poem.title):
            report.doubtful += 1
            continue
        text = clean_text(poem.text)
        if len(verse_lines(text)) < settings.min_lines:
            report.too_short += 1
            continue
        if cyrillic_share(text) < settings.min_cyrillic:
            report.not_cyrillic += 1
            continue
        if is_a_list(text):
            report.not_verse += 1
            continue
        works.append((poem, text, sha256(text)))
    # A work found inside a longer one (one source publishes a section apart, another the whole work) is
    # that work's text twice, and could sit in another split than the whole: the longer one is kept.
    # Found on whole works, before long ones are split, so a section that spans two parts is found too.
    works.sort(key=lambda w: (-len(w[1]), w[2]))
    inside = near_duplicates([text for _, text, _ in works], settings.near_duplicate_threshold, inside=True)
    report.inside_longer = len(inside)
    candidates: list[dict] = []
    for n, (poem, text, parent) in enumerate(works):
        if n in inside:
            continue
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
                        source_sha256=_file_fingerprint(source), read=lambda: read_raw(source, author.fields), force=force)


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
    if author.fields:
        fingerprint["fields"] = author.fields
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
        "words": sum(len(words(t)) for t in texts),
        "tokens": None,
        **{s: meta["splits"].get(s, 0) for s in SPLITS},
        "exact_dups": meta["report"]["exact_duplicates"],
        "near_dups": meta["report"]["near_duplicates"] + meta["report"].get("inside_longer", 0),
        "dropped": sum(meta["report"].get(k, 0) for k in ("too_short", "not_cyrillic", "not_verse", "doubtful")),
        "corpus_sha256": meta["corpus_sha256"],
    }
    if tokenizer is not None:
        stats["tokens"] = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    return stats


def prepare_corpora(config, authors: list[str] | None = None, log: Callable[[str], None] = print,
                    only_selected: bool = False):
    """Import (or reuse) the normalised corpora of the selected authors and, unless ``only_selected``,
    of every other author whose texts are available (the classifier uses them all, the tiny base its
    declared pretraining authors).
    An author whose source path is missing but whose corpus was fetched (`corpus fetch`) is used as
    fetched. Returns (selected authors, {author id: meta})."""
    declared = load_authors(config.authors_file, config.corpus_root)
    wanted = select_authors(declared, config.authors if authors is None else authors)
    settings = CorpusSettings.from_config(config)

    def meta_of(author):
        if author.present:
            return import_author(author, config.corpus_dir, settings)
        return existing_meta(config.corpus_dir, author.id)

    metas = {}
    for author in wanted:
        meta = meta_of(author)
        if meta is None:
            raise CorpusError(author.how_to_supply())
        metas[author.id] = meta
    if not only_selected:
        for author in declared.values():
            if author.id not in metas and (meta := meta_of(author)) is not None:
                metas[author.id] = meta
    return wanted, metas


def import_selected(config, authors: list[str] | None, one_author: str | None, path: Path | None, force: bool,
                    skipped: Callable = lambda author: None):
    """``corpus import``: PATH as ``one_author``'s corpus, or the named ``authors``, or every author
    whose texts are present (``skipped`` hears of the others). Yields (author id, meta)."""
    declared = load_authors(config.authors_file, config.corpus_root)
    settings = CorpusSettings.from_config(config)
    if one_author is not None:
        targets, source = select_authors(declared, [one_author]), path
    elif authors:
        targets, source = select_authors(declared, authors), None
    else:
        targets, source = [a for a in declared.values() if a.present], None
        for a in declared.values():
            if not a.present and existing_meta(config.corpus_dir, a.id) is None:
                skipped(a)  # (an author imported from elsewhere or fetched is kept as it is)
    for author in targets:
        yield author.id, import_author(author, config.corpus_dir, settings, source=source, force=force)


def author_statuses(config) -> list[tuple[Author, str, str]]:
    """Each declared author as (author, status, where): ``present`` (its declared path exists),
    ``imported`` (no declared texts, but a corpus imported from elsewhere or fetched), ``missing``."""
    out = []
    for a in load_authors(config.authors_file, config.corpus_root).values():
        meta = None if a.present else existing_meta(config.corpus_dir, a.id)
        if a.present:
            out.append((a, "present", str(a.path)))
        elif meta is not None:
            out.append((a, "imported", str(meta.get("source") or corpus_paths(config.corpus_dir, a.id)[0])))
        else:
            out.append((a, "missing", str(a.path)))
    return out


def add_author(config, author_id: str, name: str, path: Path, force: bool = False) -> tuple[Path, dict]:
    """``corpus add``: import ``path`` as a new author's corpus, then declare the author (id, name,
    absolute path) in the user's authors file beside the authors file, which every later command
    reads. Nothing is declared when the import fails. Returns (the user file, the corpus meta)."""
    import tomllib

    import tomli_w

    from poetbench.corpus.authors import user_authors_file
    from poetbench.io import atomic_write_text

    validate_author_id(author_id)
    if author_id == OTHER:
        raise CorpusError(f"{OTHER!r} is declared in the shipped authors file (verse by none of the poets)")
    if not name or not name.strip():
        raise CorpusError("--name: give the author's full name (in Russian, as prompts name the poet)")
    declared = load_authors(config.authors_file, config.corpus_root)
    if author_id in declared:
        raise CorpusError(f"{author_id!r} is declared already ({declared[author_id].name}): to give it texts, run "
                          f"`poetbench corpus import --author {author_id} PATH`")
    path = Path(path).absolute()
    author = Author(author_id, name.strip(), path)
    meta = import_author(author, config.corpus_dir, CorpusSettings.from_config(config), force=force)
    user = user_authors_file(config.authors_file)
    data = tomllib.loads(user.read_text(encoding="utf-8")) if user.is_file() else {}
    data.setdefault("authors", {})[author_id] = {"name": author.name, "path": str(path)}
    header = "# Authors added with `poetbench corpus add` (read beside authors.toml by every command).\n"
    atomic_write_text(user, header + tomli_w.dumps(data))
    return user, meta


def select_for_stats(config, authors: list[str] | None, log: Callable[[str], None] = print):
    """(author ids, metas) for ``corpus stats``: the named authors, else every one with a corpus."""
    wanted, metas = prepare_corpora(config, authors or [], log=log, only_selected=authors is not None)
    return ([a.id for a in wanted] if authors else sorted(metas)), metas


def stats_rows(config, author_ids: list[str], tokenizer=None) -> list[dict]:
    return [author_stats(load_records(config.corpus_dir, a), load_meta(config.corpus_dir, a), tokenizer)
            for a in author_ids]
