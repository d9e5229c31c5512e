"""Readers of raw poem sources: JSONL, CSV, a .txt file or a folder of .txt files (one poem each).

Every reader returns ``RawPoem`` objects; errors name the file, line and field.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from poetbench.errors import CorpusError
from poetbench.io import iter_jsonl, read_text




@dataclass
class RawPoem:
    text: str
    title: str | None = None
    year: str | None = None
    source: str | None = None
    where: str = ""  # file:line, for messages


def _field(obj: dict, name: str, path, line, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None or value == "":
        if required:
            raise CorpusError("missing or empty", path, line, name)
        return None
    if isinstance(value, (int, float)) and name == "year":
        return str(value)
    if not isinstance(value, str):
        raise CorpusError(f"must be a string, got {type(value).__name__}", path, line, name)
    return value


def _read_jsonl(path: Path) -> list[RawPoem]:
    poems = []
    for line, obj in iter_jsonl(path):
        poems.append(
            RawPoem(
                text=_field(obj, "text", path, line, required=True),
                title=_field(obj, "title", path, line),
                year=_field(obj, "year", path, line),
                source=_field(obj, "source", path, line),
                where=f"{path}:{line}",
            )
        )
    return poems


def _read_csv(path: Path) -> list[RawPoem]:
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise CorpusError(f"CSV header must have a 'text' column (found: {reader.fieldnames})", path, 1, "text")
    poems = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise CorpusError("more values than header columns", path, line)
            poems.append(
                RawPoem(
                    text=_field(row, "text", path, line, required=True),
                    title=_field(row, "title", path, line),
                    year=_field(row, "year", path, line),
                    source=_field(row, "source", path, line),
                    where=f"{path}:{line}",
                )
            )
    except csv.Error as e:
        raise CorpusError(f"malformed CSV: {e}", path, reader.line_num) from None
    return poems


def _read_txt(path: Path) -> RawPoem:
    text = read_text(path).replace("\r\n", "\n").strip("\n")
    lines = text.split("\n")
    # A short first line followed by a blank line is the title; otherwise the file name is.
    if len(lines) > 2 and lines[1].strip() == "" and 0 < len(lines[0].strip()) <= 80:
        title, body = lines[0].strip(), "\n".join(lines[2:])
    else:
        title, body = path.stem.replace("_", " "), text
    return RawPoem(text=body, title=title, source=path.name, where=str(path))


def read_raw(path: str | Path) -> list[RawPoem]:
    """Read one source: a .jsonl or .csv file, or a folder of .txt files (one poem per file)."""
    path = Path(path)
    if not path.exists():
        raise CorpusError("corpus path does not exist", path)
    if path.is_dir():
        poems = [_read_txt(f) for f in sorted(path.rglob("*.txt"))]
        if not poems:
            raise CorpusError("folder holds no .txt files", path)
        return poems
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        poems = _read_jsonl(path)
    elif suffix == ".csv":
        poems = _read_csv(path)
    elif suffix == ".txt":
        poems = [_read_txt(path)]
    else:
        raise CorpusError(f"unknown corpus format {suffix!r}: use .jsonl, .csv or a folder of .txt files", path)
    if not poems:
        raise CorpusError("file holds no poems", path)
    return poems
