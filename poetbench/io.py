"""Small file helpers: atomic writes and JSONL that names the line it fails on."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from poetbench.errors import CorpusError


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result should look like any other file
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def atomic_write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_text(path: Path) -> str:
    """Read UTF-8 (a BOM is allowed); any other encoding is an error that says so."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CorpusError("file not found", path) from None
    except IsADirectoryError:
        raise CorpusError("is a folder, expected a file", path) from None
    except PermissionError:
        raise CorpusError("cannot be read (permission denied)", path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CorpusError(
            "not UTF-8 (convert it first, e.g. `iconv -f cp1251 -t utf-8`)", path, line
        ) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line; a bad line raises naming it."""
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"malformed JSON ({e.msg} at column {e.colno})", path, lineno) from None
        if not isinstance(obj, dict):
            raise CorpusError("each line must be a JSON object", path, lineno)
        yield lineno, obj


def read_toml(path: Path, what: str = "file") -> dict:
    """A TOML file as a dict; a missing or malformed file is a ConfigError naming it."""
    import tomllib

    from poetbench.errors import ConfigError

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def read_text_records(path: Path, fields: tuple[str, ...] = ("text",)) -> list[dict]:
    """JSONL records that each carry a string in one of ``fields`` (the first present is used) and,
    when they have an ``id``, a unique one; a record that does not is an error naming its line."""
    records, seen = [], {}
    for line, obj in iter_jsonl(path):
        field = next((f for f in fields if f in obj), None)
        if field is None or not isinstance(obj[field], str):
            raise CorpusError("missing or not a string", path, line, fields[0] if field is None else field)
        if "id" in obj:
            key = json.dumps(obj["id"])
            if key in seen:
                raise CorpusError(f"duplicate id {obj['id']!r} (first at line {seen[key]})", path, line, "id")
            seen[key] = line
        records.append(obj)
    return records
