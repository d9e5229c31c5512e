"""Remote corpus sources: ``poetbench corpus fetch`` downloads what ``corpora/sources.toml`` declares,
verifies it, and normalises it with the same code as ``corpus import``.

A source is one of: ``path`` (a local file or folder, relative to the sources file), ``url`` (``https://``, ``http://`` or ``file://``; pinned by ``sha256``), ``hf``
(``hf://datasets/<owner>/<repo>/<path in the repo>``, with an optional ``revision``) or ``dataset``
(a ``datasets`` id or a local dataset folder, with ``split`` and optional ``revision``). Downloads are
cached under ``<cache>/downloads/``; an interrupted HTTP download resumes from its ``.part`` file.
A source declared without ``sha256`` is trusted on first download and its hash recorded in
``sources.lock.json`` beside the sources file; every later download must match it.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


from poetbench.config import validate_author_id
from poetbench.corpus.authors import Author
from poetbench.corpus.build import CorpusSettings, write_corpus
from poetbench.errors import CorpusError
from poetbench.io import atomic_write_json, read_text
from poetbench.corpus.readers import FORMATS, RawPoem, read_source, records_to_poems

KEYS = {"path", "url", "hf", "dataset", "sha256", "format", "fields", "filter", "json_key", "members", "split",
        "revision", "note"}
CHUNK = 1 << 16
MAX_DOWNLOAD_BYTES = 2 << 30  # 2 GiB: far above any corpus or archive of poems


@dataclass
class Source:
    author: str
    path: str | None = None
    url: str | None = None
    hf: str | None = None
    dataset: str | None = None
    sha256: str | None = None
    format: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    filter: dict[str, object] = field(default_factory=dict)
    json_key: str | None = None
    members: str = "*.txt"
    split: str = "train"
    revision: str | None = None
    note: str = ""

    @property
    def location(self) -> str:
        return self.path or self.url or self.hf or self.dataset or ""


def load_sources(path: str | Path) -> dict[str, list[Source]]:
    """``[[sources.<author>]]`` tables of a TOML file; unknown keys and bad values are errors."""
    from poetbench.io import read_toml

    path = Path(path)
    data = read_toml(path, "sources file")
    table = data.get("sources", {})
    if not isinstance(table, dict):
        raise CorpusError("'sources' must be a table of arrays: [[sources.<author>]]", path, field="sources")
    out: dict[str, list[Source]] = {}
    for author, entries in table.items():
        validate_author_id(author)
        if not isinstance(entries, list):
            entries = [entries]
        for n, entry in enumerate(entries, 1):
            where = f"sources.{author}[{n}]"
            unknown = set(entry) - KEYS
            if unknown:
                raise CorpusError(f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})",
                                  path, field=where)
            kinds = [k for k in ("path", "url", "hf", "dataset") if k in entry]
            if len(kinds) != 1:
                raise CorpusError("give exactly one of path, url, hf, dataset", path, field=where)
            for key, value in entry.items():
                kind = dict if key in ("fields", "filter") else str
                if not isinstance(value, kind) or (kind is dict and key == "fields" and not all(
                        isinstance(v, str) for v in value.values())):
                    raise CorpusError(f"must be {'a table' if kind is dict else 'a string'}, got {value!r}", path,
                                      field=f"{where}.{key}")
            src = Source(author=author, **entry)
            if src.path is not None:  # relative to the sources file
                src.path = str(path.parent / src.path) if not Path(src.path).is_absolute() else src.path
            if src.format is not None and src.format not in FORMATS:
                raise CorpusError(f"unknown format {src.format!r} (known: {', '.join(FORMATS)})", path,
                                  field=f"{where}.format")
            if src.url and urllib.parse.urlparse(src.url).scheme not in ("https", "http", "file"):
                raise CorpusError("url must be https://, http:// or file://", path, field=f"{where}.url")
            if src.hf and not src.hf.startswith("hf://datasets/"):
                raise CorpusError("hf must look like hf://datasets/<owner>/<repo>/<file>", path, field=f"{where}.hf")
            if src.sha256 is not None and (len(src.sha256) != 64 or not all(c in "0123456789abcdef" for c in src.sha256)):
                raise CorpusError("sha256 must be 64 lowercase hex digits", path, field=f"{where}.sha256")
            out.setdefault(author, []).append(src)
    return out


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


class Lock:
    """Hashes recorded on first download of sources declared without one (trust on first use)."""

    def __init__(self, path: Path):
        self.path = path
        from poetbench.io import read_json_object

        self.data: dict[str, str] = read_json_object(path, "sources lock file") if path.exists() else {}

    def get(self, url: str) -> str | None:
        return self.data.get(url)

    def record(self, url: str, digest: str) -> None:
        self.data[url] = digest
        atomic_write_json(self.path, dict(sorted(self.data.items())))


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, expected: str | None, cache_dir: Path, progress=None, timeout: float = 60.0) -> Path:
    """Fetch ``url`` into the download cache and return the file. Verified against ``expected`` (when
    given). Resumes a partial ``.part`` file with an HTTP Range request; a checksum mismatch removes
    the download; nothing incomplete is ever returned."""
    parsed = urllib.parse.urlparse(url)
    local = Path(urllib.parse.unquote(parsed.path)) if parsed.scheme == "file" else None
    if local is not None and local.exists():  # a local file must be a regular one (not /dev/zero, not a FIFO)
        from poetbench.io import regular_file

        regular_file(local, "source file")
    key = hashlib.sha256(url.encode()).hexdigest()[:32]  # one cache folder per URL
    name = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name or "download"
    folder = cache_dir / "downloads" / key
    final = folder / name
    if final.exists() and (expected is None or _sha256_file(final) == expected):
        return final
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "poetbench"})
    if have and urllib.parse.urlparse(url).scheme in ("http", "https"):
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = getattr(response, "status", 200)
            if have and status != 206:  # the server ignored the range: start over
                have = 0
            total = response.headers.get("Content-Length")
            total = int(total) + have if total and total.isdigit() else None
            task = progress.add_task(f"fetch {name}", total=total, completed=have) if progress is not None else None
            with open(part, "ab" if have else "wb") as f:
                received = 0
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    f.write(chunk)
                    received += len(chunk)
                    if have + received > MAX_DOWNLOAD_BYTES:
                        part.unlink()
                        raise CorpusError(f"download exceeds {MAX_DOWNLOAD_BYTES:,} bytes: not a poem corpus", url)
                    if task is not None:
                        progress.advance(task, len(chunk))
            if total is not None and have + received < total:
                raise CorpusError(f"download interrupted at {have + received} of {total} bytes; run the same "
                                  "command again to resume", url)
    except urllib.error.HTTPError as e:
        raise CorpusError(f"download failed: HTTP {e.code} {e.reason}", url) from None
    except urllib.error.URLError as e:
        raise CorpusError(f"download failed: {e.reason}", url) from None
    except (ConnectionError, TimeoutError, OSError) as e:
        if isinstance(e, CorpusError):
            raise
        raise CorpusError(f"download interrupted ({e}); run the same command again to resume", url) from None
    digest = _sha256_file(part)
    if expected is not None and digest != expected:
        part.unlink()
        raise CorpusError(f"checksum mismatch: expected sha256 {expected}, got {digest} (download removed)", url)
    os.replace(part, final)
    return final


def _hub_file(src: Source) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:  # pragma: no cover - a dependency of transformers
        raise CorpusError("huggingface_hub is needed for hf:// sources", src.hf) from None
    rest = src.hf[len("hf://datasets/"):].split("/")
    if len(rest) < 3:
        raise CorpusError("hf must look like hf://datasets/<owner>/<repo>/<file>", src.hf)
    try:
        return Path(hf_hub_download("/".join(rest[:2]), "/".join(rest[2:]), repo_type="dataset",
                                    revision=src.revision))
    except Exception as e:  # the hub client raises many types; one line is what the user needs
        raise CorpusError(f"cannot fetch from the hub: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                          src.hf) from None


def _dataset_poems(src: Source) -> list[RawPoem]:
    from datasets import load_dataset

    try:
        ds = load_dataset(src.dataset, split=src.split, revision=src.revision)
    except Exception as e:  # datasets raises many types; one line is what the user needs
        raise CorpusError(f"cannot load dataset: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                          src.dataset) from None
    return records_to_poems(((i + 1, row) for i, row in enumerate(ds)), src.dataset, src.fields, src.filter)


def source_poems(src: Source, cache_dir: Path, lock: Lock, progress=None) -> tuple[list[RawPoem], str]:
    """(poems, sha256 of what was read) for one source."""
    if src.dataset:
        poems = _dataset_poems(src)
        digest = hashlib.sha256(json.dumps([p.__dict__ for p in poems], ensure_ascii=False).encode()).hexdigest()
        return poems, digest
    if src.path:
        path = Path(src.path)
        if not path.exists():
            raise CorpusError("source path does not exist", path)
    elif src.hf:
        path = _hub_file(src)
    else:
        pinned = src.sha256 or lock.get(src.url)
        path = download(src.url, pinned, cache_dir, progress)
        if pinned is None:
            lock.record(src.url, _sha256_file(path))
    digest = _sha256_file(path) if path.is_file() else hashlib.sha256(str(sorted(
        (str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns) for f in path.rglob("*") if f.is_file()
    )).encode()).hexdigest()
    if src.sha256 and digest != src.sha256:
        raise CorpusError(f"checksum mismatch: expected sha256 {src.sha256}, got {digest}", src.location)
    # without a declared format, the file's name decides (downloads keep the URL's file name)
    poems = read_source(path, src.format, src.fields, src.filter, src.json_key, src.members)
    for p in poems:
        p.source = p.source or src.location
    return poems, digest


def fetch_author(author: Author, sources: list[Source], corpus_dir: str | Path, settings: CorpusSettings,
                 cache_dir: Path, lock: Lock, progress=None, force: bool = False) -> dict:
    """Fetch every source of ``author``, merge them, and write the normalised corpus (atomically)."""
    collected: list[RawPoem] = []
    digests = []
    for src in sources:
        poems, digest = source_poems(src, cache_dir, lock, progress)
        collected.extend(poems)
        digests.append(digest)
    combined = hashlib.sha256("".join(digests).encode()).hexdigest()
    where = " + ".join(s.location for s in sources)
    return write_corpus(author, corpus_dir, settings, source_desc=where, source_sha256=combined,
                        read=lambda: collected, force=force)


def fetch_selected(config, authors: list[str] | None, sources_file: Path | None, cache_dir: Path, progress=None,
                   force: bool = False):
    """``corpus fetch``: every named author (default: every declared author with a source), from the
    sources file (default: ``sources.toml`` beside the authors file). Yields (author id, meta)."""
    from poetbench.corpus.authors import load_authors, select_authors

    declared = load_authors(config.authors_file, config.corpus_root)
    sources_path = sources_file or Path(config.authors_file).with_name("sources.toml")
    sources = load_sources(sources_path)
    wanted = select_authors(declared, authors or [a for a in sources if a in declared])
    missing = [a.id for a in wanted if a.id not in sources]
    if missing:
        raise CorpusError(f"no source declared for {', '.join(missing)}", sources_path)
    lock = Lock(sources_path.with_name("sources.lock.json"))
    settings = CorpusSettings.from_config(config)
    for author in wanted:
        yield author.id, fetch_author(author, sources[author.id], config.corpus_dir, settings, cache_dir, lock,
                                      progress=progress, force=force)
