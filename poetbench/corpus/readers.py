"""Readers of raw poem sources. Every reader returns ``RawPoem`` objects; errors name the file, line
and field.

Formats: ``jsonl`` and ``csv`` (columns ``title``, ``text``, optional ``year``, ``source``), ``json``
(an array of records, or an object holding one under ``json_key``), ``txt`` (one poem per file; a
folder of them), ``txt-archive`` (a .zip or .tar.gz of .txt poems), and ``text-collection`` (one
plain-text file where titles stand flush left and verse is indented). Record formats take a field
mapping (poetbench name -> source column) and a filter (column -> required value).
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable

from poetbench.errors import CorpusError
from poetbench.io import decode_text, iter_jsonl, parse_json, read_text, text_files

FIELDS = ("text", "title", "year", "source")
FORMATS = ("jsonl", "csv", "json", "txt", "txt-archive", "text-collection")
MAX_POEM_CHARS = 200_000  # ~4,000 lines: anything longer is a book or a broken export, not a poem
MAX_MEMBER_BYTES = 4 * MAX_POEM_CHARS  # an archive member that is a poem (UTF-8: at most 4 bytes a character)
MAX_ARCHIVE_EXPANDED = 4 << 30  # all members of an archive together, unpacked: 4 GiB (a zip bomb is refused)


@dataclass
class RawPoem:
    text: str
    title: str | None = None
    year: str | None = None
    source: str | None = None
    where: str = ""  # file:line, for messages


def _value(obj: dict, column: str, name: str, path, line, required: bool = False) -> str | None:
    value = obj.get(column)
    if value is None or value == "":
        if required:
            raise CorpusError("missing or empty", path, line, column)
        return None
    if isinstance(value, (int, float)) and name in ("year", "title"):
        return str(value)
    if not isinstance(value, str):
        raise CorpusError(f"must be a string, got {type(value).__name__}", path, line, column)
    return value


def records_to_poems(records: Iterable[tuple[int | None, dict]], path, fields: dict[str, str] | None = None,
                     where: dict[str, object] | None = None) -> list[RawPoem]:
    """Map records (with their line numbers, when they have one) to poems: ``fields`` maps poetbench's
    names to the source's columns; ``where`` keeps only records whose columns equal the given values."""
    mapping = {name: name for name in FIELDS} | dict(fields or {})
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise CorpusError(f"unknown field(s) in the mapping: {', '.join(sorted(unknown))} (known: {', '.join(FIELDS)})",
                          path, field="fields")
    poems, seen_columns = [], None
    for line, obj in records:
        if isinstance(obj, dict) and isinstance(obj.get(mapping["text"]), str) and len(obj[mapping["text"]]) > MAX_POEM_CHARS:
            raise CorpusError(f"poem of {len(obj[mapping['text']]):,} characters (limit {MAX_POEM_CHARS:,}): "
                              "split the work into poems first", path, line, mapping["text"])
        if not isinstance(obj, dict):
            raise CorpusError("each record must be an object", path, line)
        if seen_columns is None:
            seen_columns = list(obj)
            if mapping["text"] not in obj:
                raise CorpusError(f"no column {mapping['text']!r} for the poem text (columns: {', '.join(seen_columns)})",
                                  path, line, mapping["text"])
        if where and any(obj.get(k) != v for k, v in where.items()):
            continue
        poems.append(RawPoem(
            text=_value(obj, mapping["text"], "text", path, line, required=True),
            title=_value(obj, mapping["title"], "title", path, line),
            year=_value(obj, mapping["year"], "year", path, line),
            source=_value(obj, mapping["source"], "source", path, line),
            where=f"{path}:{line}" if line else str(path),
        ))
    return poems


def _csv_records(path: Path):
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    if not reader.fieldnames:
        raise CorpusError("CSV has no header line", path, 1)
    try:
        for row in reader:
            if None in row:
                raise CorpusError("more values than header columns", path, reader.line_num)
            yield reader.line_num, row
    except csv.Error as e:
        raise CorpusError(f"malformed CSV: {e}", path, reader.line_num) from None


def _json_records(path: Path, json_key: str | None):
    data = parse_json(read_text(path), path)
    if json_key is not None:
        if not isinstance(data, dict) or json_key not in data:
            raise CorpusError(f"no key {json_key!r} at the top of the JSON", path, field=json_key)
        data = data[json_key]
    if not isinstance(data, list):
        raise CorpusError("JSON must be an array of records (or name the key that holds one: json_key)", path)
    return ((None, obj) for obj in data)


def _txt_poem(text: str, name: str, where: str) -> RawPoem:
    if len(text) > MAX_POEM_CHARS:
        raise CorpusError(f"poem of {len(text):,} characters (limit {MAX_POEM_CHARS:,}): split the work into "
                          "poems first", where)
    text = text.replace("\r\n", "\n").strip("\n")
    lines = text.split("\n")
    # A short first line followed by a blank line is the title; otherwise the file name is.
    if len(lines) > 2 and lines[1].strip() == "" and 0 < len(lines[0].strip()) <= 80:
        title, body = lines[0].strip().lstrip("#").strip(), "\n".join(lines[2:])  # "# Title" in Markdown
    else:
        title, body = PurePosixPath(name).stem.replace("_", " "), text
    return RawPoem(text=body, title=title, source=PurePosixPath(name).name, where=where)


def _read_txt(path: Path) -> RawPoem:
    return _txt_poem(read_text(path), path.name, str(path))


def read_archive(path: Path, members: str = "*.txt") -> list[RawPoem]:
    """A .zip or .tar(.gz) of .txt poems (one per member matching ``members``), in member order.
    Hostile archives are refused by the sizes they unpack to, before and while they are read: a
    matching member over ``MAX_MEMBER_BYTES``, the matching members together over
    ``MAX_INPUT_BYTES``, or all members over ``MAX_ARCHIVE_EXPANDED``."""
    from poetbench.io import MAX_INPUT_BYTES, regular_file

    regular_file(path, "archive")  # a FIFO or a device would never end
    poems: list[RawPoem] = []
    total = 0

    def check_expanded(size: int) -> None:
        if size > MAX_ARCHIVE_EXPANDED:
            raise CorpusError(f"archive unpacks to more than {MAX_ARCHIVE_EXPANDED:,} bytes: not an archive of "
                              "poems", path)

    def add(name: str, size: int, stream) -> None:
        nonlocal total
        where = f"{path}!{name}"
        if size > MAX_MEMBER_BYTES:
            raise CorpusError(f"member of {size:,} bytes (limit {MAX_MEMBER_BYTES:,}): not one poem; split the work "
                              "into poems first", where)
        data = stream.read(MAX_MEMBER_BYTES + 1)  # the declared size may lie
        if len(data) > MAX_MEMBER_BYTES:
            raise CorpusError(f"member unpacks to more than {MAX_MEMBER_BYTES:,} bytes: not one poem", where)
        total += len(data)
        if total > MAX_INPUT_BYTES:
            raise CorpusError(f"the members matching {members!r} unpack to more than {MAX_INPUT_BYTES:,} bytes; "
                              "split the archive", path)
        poems.append(_txt_poem(decode_text(data, where), name, where))

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
                check_expanded(sum(i.file_size for i in infos))
                for info in sorted(infos, key=lambda i: i.filename):
                    if fnmatch.fnmatch(info.filename, members):
                        with zf.open(info) as f:
                            add(info.filename, info.file_size, f)
        elif tarfile.is_tarfile(path):
            with tarfile.open(path) as tf:
                found, expanded = [], 0
                for m in tf:  # one pass over the headers, their sizes checked as they come
                    expanded += m.size
                    check_expanded(expanded)
                    if m.isfile() and fnmatch.fnmatch(m.name, members):
                        found.append(m)
                for m in sorted(found, key=lambda m: m.name):
                    add(m.name, m.size, tf.extractfile(m))
        else:
            raise CorpusError("not a .zip or .tar archive", path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, NotImplementedError,
            RuntimeError) as e:  # RuntimeError: an encrypted zip member; NotImplementedError: its compression
        raise CorpusError(f"damaged or unreadable archive: {e}", path) from None
    return poems


def read_text_collection(path: Path, poem_gap: int = 2) -> list[RawPoem]:
    """One plain-text file of many poems, as e-book exports lay them out: a line flush left after at
    least ``poem_gap`` blank lines (or at the start) is a poem's title; indented lines are its verse;
    a blank line inside a poem is a stanza break. Other flush-left lines (subtitles, epigraph
    sources, speakers' names, prose notes) are left out."""
    poems: list[RawPoem] = []
    title, title_line, body = None, 0, []

    def flush() -> None:
        text = "\n".join(body).strip("\n")
        if text.strip():
            poems.append(RawPoem(text=text, title=title, where=f"{path}:{title_line}"))

    blank_run = poem_gap
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            if body and body[-1] != "":
                body.append("")
            blank_run += 1
            continue
        if line[0] in " \t\u00a0":
            body.append(line.strip())
        elif blank_run >= poem_gap:
            flush()
            title, title_line, body = line.strip(), lineno, []
        blank_run = 0
    flush()
    return poems


def read_source(path: Path, fmt: str | None = None, fields: dict[str, str] | None = None,
                where: dict[str, object] | None = None, json_key: str | None = None,
                members: str = "*.txt") -> list[RawPoem]:
    """Read one local source in ``fmt`` (inferred from the name when None)."""
    path = Path(path)
    if not path.exists():
        raise CorpusError("corpus path does not exist", path)
    if fmt is None:
        fmt = _infer_format(path)
    if fmt not in FORMATS:
        raise CorpusError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}", path, field="format")
    if fmt == "txt":
        files = text_files(path) if path.is_dir() else [path]
        poems = [_read_txt(f) for f in files]
        if not poems:
            raise CorpusError("folder holds no .txt files", path)
        return poems
    if path.is_dir():
        raise CorpusError(f"is a folder, but format {fmt!r} reads a file", path)
    if fmt == "jsonl":
        poems = records_to_poems(iter_jsonl(path), path, fields, where)
    elif fmt == "csv":
        poems = records_to_poems(_csv_records(path), path, fields, where)
    elif fmt == "json":
        poems = records_to_poems(_json_records(path, json_key), path, fields, where)
    elif fmt == "txt-archive":
        poems = read_archive(path, members)
    else:
        poems = read_text_collection(path)
    if not poems:
        raise CorpusError("holds no poems" + (" matching the filter" if where else ""), path)
    return poems


def _infer_format(path: Path) -> str:
    if path.is_dir():
        return "txt"
    name = path.name.lower()
    for suffix, fmt in ((".jsonl", "jsonl"), (".csv", "csv"), (".json", "json"), (".txt", "txt"),
                        (".zip", "txt-archive"), (".tar.gz", "txt-archive"), (".tgz", "txt-archive"),
                        (".tar", "txt-archive")):
        if name.endswith(suffix):
            return fmt
    raise CorpusError(
        f"unknown corpus format {path.suffix!r}: use .jsonl, .csv, .json, a .txt file or a folder of them, "
        "or an archive of .txt files", path)


def read_raw(path: str | Path, fields: dict[str, str] | None = None) -> list[RawPoem]:
    """Read a user-supplied corpus: a .jsonl/.csv/.json file, a .txt poem or a folder of them, or an
    archive of .txt poems; the format comes from the name, the columns from ``fields``."""
    return read_source(Path(path), fields=fields)
