"""Every file poetbench reads from a user path comes through here, and every file it writes.

Reading: only regular files (a device, FIFO or socket is refused, so ``/dev/zero`` cannot fill
memory), at most ``MAX_INPUT_BYTES``; UTF-8 only; NUL bytes refused; ``\\r\\n`` and a lone ``\\r``
read as line ends; JSON and TOML nested deeper than Python can parse, and JSON strings holding lone
UTF-16 surrogates, refused. Every refusal is a ``PoetbenchError`` naming the file, line and field.

Writing: atomic (temp file in the same folder + rename), or append-only JSONL whose only
repairable damage is a torn last line (a kill mid-write).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from poetbench.errors import BusyError, ConfigError, CorpusError, InputError, PoetbenchError

MAX_INPUT_BYTES = 256 * 1024 * 1024  # a text input larger than this is refused (README: "Limits")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def regular_file(path: Path, what: str = "file", error: type[PoetbenchError] = CorpusError) -> os.stat_result:
    """``os.stat`` of ``path`` when it is a regular file (symlinks followed); otherwise one error
    that says what it is instead: missing, a dangling or looping symlink, a folder, a device..."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise error(f"{what} is a dangling symlink (it points to {os.readlink(path)}, which does not exist)",
                        path) from None
        raise error(f"{what} not found", path) from None
    except OSError as e:  # ELOOP (a symlink loop), ENAMETOOLONG, EACCES on a parent...
        raise error(f"{what} cannot be opened ({e.strerror})", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{what} is a folder, expected a file", path)
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"
        raise error(f"{what} is {kind}, not a regular file: poetbench reads only regular files", path)
    return st


def read_bytes(path: Path, what: str = "file", error: type[PoetbenchError] = CorpusError,
               limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    st = regular_file(path, what, error)
    if st.st_size > limit:
        raise error(f"{what} is {st.st_size:,} bytes; the limit is {limit:,}", path)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error(f"{what} cannot be read ({e.strerror})", path) from None
    if len(data) > limit:  # grew while we read it
        raise error(f"{what} is larger than the limit of {limit:,} bytes", path)
    return data


def decode_text(data: bytes, where, error: type[PoetbenchError] = CorpusError) -> str:
    """UTF-8 (a BOM is allowed) without NUL bytes, with every line end read as ``\\n``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise error("not UTF-8 text (convert it first, e.g. `iconv -f cp1251 -t utf-8`; binary data is "
                    "not accepted)", where, line) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise error("holds NUL bytes: binary data, not text", where, text.count("\n", 0, nul) + 1)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path, what: str = "file", error: type[PoetbenchError] = CorpusError) -> str:
    """Read a text file (see the module docstring for what is refused)."""
    return decode_text(read_bytes(path, what, error), path, error)


def read_stream_text(stream: BinaryIO, where: str = "standard input", limit: int = MAX_INPUT_BYTES) -> str:
    """Standard input (or any binary stream), read up to ``limit`` bytes, as text."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"more than {limit:,} bytes: too large for one poem", where)
    return decode_text(data, where, InputError)


def text_lines(text: str) -> list[str]:
    """Lines of text read by ``read_text`` (split at ``\\n`` only: U+2028 and form feeds are text)."""
    return text.split("\n")


def _has_surrogate(obj) -> bool:
    if isinstance(obj, str):
        return any("\ud800" <= ch <= "\udfff" for ch in obj)
    if isinstance(obj, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in obj.items())
    if isinstance(obj, list):
        return any(_has_surrogate(v) for v in obj)
    return False


def parse_json(text: str, where, line: int | None = None, error: type[PoetbenchError] = CorpusError) -> Any:
    """``json.loads`` whose failures are one error naming the place."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"malformed JSON ({e.msg} at column {e.colno})", where, line if line is not None else e.lineno) \
            from None
    except RecursionError:
        raise error("JSON nested too deeply", where, line) from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise error(f"malformed JSON ({e})", where, line) from None
    if _SURROGATE_ESCAPE.search(text) and _has_surrogate(obj):
        raise error("holds a lone UTF-16 surrogate (\\udXXX escape): not valid text", where, line)
    return obj


def read_json(path: Path, what: str = "file", error: type[PoetbenchError] = CorpusError) -> Any:
    return parse_json(read_text(path, what, error), path, error=error)


def read_json_object(path: Path, what: str = "file", error: type[PoetbenchError] = CorpusError) -> dict:
    """A JSON file that must hold one object."""
    obj = read_json(path, what, error)
    if not isinstance(obj, dict):
        raise error(f"{what} must hold a JSON object, not {type(obj).__name__}", path)
    return obj


def iter_jsonl(path: Path, error: type[PoetbenchError] = CorpusError) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line; a bad line raises naming it."""
    for lineno, line in enumerate(text_lines(read_text(path, error=error)), 1):
        if not line.strip():
            continue
        obj = parse_json(line, path, lineno, error)
        if not isinstance(obj, dict):
            raise error("each line must be a JSON object", path, lineno)
        yield lineno, obj


def read_toml(path: Path, what: str = "file") -> dict:
    """A TOML file as a dict; a missing, unreadable or malformed file is a ConfigError naming it."""
    import tomllib

    text = read_text(path, what, ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"not valid TOML: {e}", path) from None
    except RecursionError:
        raise ConfigError("not valid TOML: nested too deeply", path) from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise ConfigError(f"not valid TOML: {e}", path) from None


def has_text(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit: a poem to read, not blank lines or punctuation alone."""
    return any(ch.isalnum() for ch in text)


def read_text_records(path: Path, fields: tuple[str, ...] = ("text",)) -> list[dict]:
    """JSONL records that each carry a text in one of ``fields`` (the first present is used: a string
    with a letter or digit in it) and, when they have an ``id``, a unique one; a record that does not
    is an error naming its line."""
    records, seen = [], {}
    for line, obj in iter_jsonl(path):
        field = next((f for f in fields if f in obj), None)
        if field is None or not isinstance(obj[field], str):
            raise CorpusError("missing or not a string", path, line, fields[0] if field is None else field)
        if not has_text(obj[field]):
            raise CorpusError("no text (not a letter or digit in it): give the poem, or drop the record", path, line,
                              field)
        if "id" in obj:
            key = json.dumps(obj["id"])
            if key in seen:
                raise CorpusError(f"duplicate id {obj['id']!r} (first at line {seen[key]})", path, line, "id")
            seen[key] = line
        records.append(obj)
    return records


def text_files(folder: Path, suffix: str = ".txt") -> list[Path]:
    """The ``suffix`` files under ``folder`` in a stable order, following symlinked folders once
    each (a symlink loop is walked once, not forever); a dangling or looping symlinked file, or one
    that is not a regular file, is an error naming it."""
    folder = Path(folder)
    found, seen = [], set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        try:
            st = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in sorted(files):
            if name.endswith(suffix):
                path = Path(root) / name
                regular_file(path)
                found.append(path)
    return sorted(found, key=lambda p: str(p.relative_to(folder)))


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


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


def append_jsonl(path: Path, rows: list[dict]) -> None:
    """Append rows to an append-only JSONL file, durably (fsync), as one write."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_append_only(path: Path, required: tuple[str, ...] = ("key",)) -> list[dict]:
    """The rows of an append-only JSONL file. Only its last line may be damaged (a kill in the
    middle of a write): that torn line is cut off the file. A line that does not parse, or lacks a
    ``required`` field, anywhere before the last is an error naming the file and line, and nothing
    is deleted."""
    path = Path(path)
    if not path.exists():
        return []
    raw = read_bytes(path, error=InputError)
    lines = raw.split(b"\n")
    rows, offset = [], 0
    last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    for i, line in enumerate(lines):
        start, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        problem = _row_problem(line, required)
        if problem is None:
            rows.append(json.loads(line))
            if i == last and not raw.endswith(b"\n"):  # complete, but its newline was never written
                with open(path, "ab") as f:
                    f.write(b"\n")
            continue
        if i == last and not raw.endswith(b"\n"):  # torn: the write never reached its newline
            with open(path, "r+b") as f:
                f.truncate(start)
            break
        raise InputError(f"{problem}; only a torn last line is repaired, so fix or remove this line (nothing "
                         "was deleted)", path, i + 1)
    return rows


def _row_problem(line: bytes, required: tuple[str, ...]) -> str | None:
    try:
        text = line.decode("utf-8")
        row = json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return "not a complete JSON row"
    if not isinstance(row, dict):
        return "not a JSON object"
    missing = [f for f in required if f not in row]
    if missing:
        return f"row without field {missing[0]!r}"
    if _SURROGATE_ESCAPE.search(text) and _has_surrogate(row):
        return "holds a lone UTF-16 surrogate"
    return None


LOCK = ".poetbench.lock"


@contextmanager
def exclusive(folder: Path, error: type[PoetbenchError] = BusyError, wait: Callable[[str], None] | None = None,
              name: str = LOCK) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<folder>/<name>`` (``.poetbench.lock``) while writing ``folder``; a
    second process is refused at once, with the first one's pid, or with ``wait`` it is told so (``wait``
    is given the message) and waits for the first to finish (the lock file stays: removing it would let
    two processes lock two different files)."""
    import fcntl

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd = os.open(Path(folder) / name, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise error(f"cannot write here ({e.strerror}): give a folder you can write to", folder) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        if wait is None:
            os.close(fd)
            raise error(f"another poetbench process (pid {holder}) is writing {folder}: wait for it to finish, "
                        "or write to another folder") from None
        wait(f"waiting for another poetbench process (pid {holder}), which is writing {folder}")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
