"""Russian word stress: explicit marks, the accent dictionaries, clitics, and a suffix fallback.

The dictionaries (``accent.dic``, ``accent1.dic``: ``stem(end1|end2)<TAB>positions``, cp1251) are
expanded once into two sorted byte arrays (word forms, and the same forms reversed for the suffix
fallback) plus a small table of distinct position codes, saved as ``.npy`` in the cache folder.
Loading is then a memory map: milliseconds, not the seconds that parsing takes.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

VOWELS = "аеёиоуыэюя"
ACUTE, GRAVE = "\u0301", "\u0300"
_VOWEL_SET = frozenset(VOWELS + VOWELS.upper())
FORMAT_VERSION = 1


_DROP_VOWELS = str.maketrans("", "", VOWELS + VOWELS.upper())


def vowel_count(word: str) -> int:
    return len(word) - len(word.translate(_DROP_VOWELS))


def marked_vowels(word: str, mark: str = ACUTE, before: bool = False) -> tuple[int, ...]:
    """1-based indices of the vowels ``mark`` stands after (``before``: in front of) in ``word``."""
    n, out = 0, []
    for i, ch in enumerate(word):
        if ch in _VOWEL_SET:
            n += 1
            near = word[i - 1] if before and i > 0 else word[i + 1] if not before and i + 1 < len(word) else ""
            if near == mark:
                out.append(n)
    return tuple(out)


def key_of(word: str) -> str:
    """Dictionary key: lowercase, ё as е, no stress marks."""
    return strip_marks(word).lower().replace("ё", "е")


def strip_marks(text: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).replace(ACUTE, "").replace(GRAVE, ""))


@dataclass(frozen=True)
class Options:
    """Stress readings of a word form: each a 1-based vowel index (0 = unstressed clitic)."""

    primary: tuple[int, ...]
    name_only: bool = False  # proper name: only when written capitalised
    yo: tuple[bool, ...] = ()  # per reading: the stressed vowel is ё

    def without_yo(self) -> tuple[int, ...]:
        """Readings for a word written with е: those that need ё go last."""
        if not any(self.yo):
            return self.primary
        plain = [p for p, y in zip(self.primary, self.yo) if not y]
        return tuple(plain + [p for p in self.primary if p not in plain])


def parse_positions(code: str) -> Options:
    name_only = "!" in code
    code = code.replace("!", "")
    primary: list[int] = []
    yo: list[bool] = []
    for alt in code.split("|"):
        for p in alt.split(","):
            if not p or "`" in p:
                continue
            n = int(p.replace('"', ""))
            if n not in primary:
                primary.append(n)
                yo.append('"' in p)
    return Options(tuple(primary), name_only, tuple(yo))


_LINE = re.compile(r"^([^\t(]+)(?:\(([^)]*)\))?\t(\S+)")


def iter_dic(path: Path):
    """Yield (word form, position code) for every form a dictionary line expands to."""
    with open(path, encoding="cp1251", newline=None) as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = _LINE.match(line.rstrip("\n"))
            if not m:
                continue
            stem, endings, code = m.group(1).strip(), m.group(2), m.group(3)
            for ending in endings.split("|") if endings is not None else [""]:
                yield (stem + ending).replace("ё", "е"), code


def _cache_key(paths: list[Path]) -> str:
    h = hashlib.sha256(str(FORMAT_VERSION).encode())
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


class StressDictionary:
    """Word form -> stress options, from sorted arrays (binary search) with a suffix fallback."""

    def __init__(self, words: np.ndarray, codes: np.ndarray, rwords: np.ndarray, rcodes: np.ndarray,
                 table: list[str]):
        self.words, self.codes, self.rwords, self.rcodes = words, codes, rwords, rcodes
        self.table = table
        self._options = [parse_positions(c) for c in table]

    # -- building and loading ---------------------------------------------------------------------
    @classmethod
    def build(cls, paths: list[Path]) -> "StressDictionary":
        merged: dict[str, str] = {}
        for path in paths:
            for form, code in iter_dic(path):
                if form in merged and merged[form] != code:
                    old, new = parse_positions(merged[form]), parse_positions(code)
                    if old.name_only and not new.name_only:
                        merged[form] = code
                    elif not (new.name_only and not old.name_only):
                        merged[form] = "|".join(dict.fromkeys(merged[form].split("|") + code.split("|")))
                else:
                    merged[form] = code
        table = sorted(set(merged.values()))
        index = {c: i for i, c in enumerate(table)}
        # cp1251 is one byte a letter: the forms encoded at once, reversed as bytes, sorted by numpy (in the
        # byte order the lookups' binary search compares in)
        enc = "\n".join(merged).encode("cp1251", errors="replace").split(b"\n")
        width = f"S{max(map(len, enc))}"
        forms, reversed_forms = np.array(enc, dtype=width), np.array([b[::-1] for b in enc], dtype=width)
        codes = np.array([index[c] for c in merged.values()], dtype=np.uint16)
        order, rorder = np.argsort(forms, kind="stable"), np.argsort(reversed_forms, kind="stable")
        return cls(forms[order], codes[order], reversed_forms[rorder], codes[rorder], table)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        for name in ("words", "codes", "rwords", "rcodes"):
            np.save(tmp / f"{name}.npy", getattr(self, name))
        (tmp / "table.txt").write_text("\n".join(self.table), encoding="utf-8")
        # table.txt is what marks a complete cache, so it goes last
        for f in sorted(tmp.iterdir(), key=lambda f: f.name == "table.txt"):
            os.replace(f, folder / f.name)
        tmp.rmdir()

    @classmethod
    def load(cls, folder: Path) -> "StressDictionary":
        # plain ndarray views of the memory maps: indexing a np.memmap costs a Python-level wrapper
        arrays = [np.asarray(np.load(folder / f"{n}.npy", mmap_mode="r")) for n in ("words", "codes", "rwords", "rcodes")]
        table = (folder / "table.txt").read_text(encoding="utf-8").split("\n")
        return cls(*arrays, table)

    @classmethod
    def from_files(cls, paths: list[Path], cache_dir: Path) -> "StressDictionary":
        folder = cache_dir / f"stress-{_cache_key(paths)}"
        if not (folder / "table.txt").exists():
            cls.build(paths).save(folder)
        return cls.load(folder)

    # -- lookup -----------------------------------------------------------------------------------
    def lookup(self, key: str) -> Options | None:
        try:
            b = key.encode("cp1251")
        except UnicodeEncodeError:
            return None
        i = int(self.words.searchsorted(b))
        if i < len(self.words) and self.words[i] == b:
            return self._options[int(self.codes[i])]
        return None

    def by_suffix(self, key: str, min_suffix: int = 3, sample: int = 200) -> tuple[int, ...] | None:
        """Stress of ``key`` by its ending: among the dictionary forms that share its longest ending
        (at least ``min_suffix`` letters), the most common stressed vowel counted from the word's
        end (Russian stress is largely decided by suffix and ending)."""
        try:
            rb = key[::-1].encode("cp1251")
        except UnicodeEncodeError:
            return None
        i = int(self.rwords.searchsorted(rb))
        longest = 0
        for j in (i - 1, i):
            if 0 <= j < len(self.rwords):
                cand = bytes(self.rwords[j])
                n = 0
                while n < min(len(cand), len(rb)) and cand[n] == rb[n]:
                    n += 1
                longest = max(longest, n)
        if longest < min_suffix:
            return None
        prefix = rb[:longest]
        lo = int(self.rwords.searchsorted(prefix))
        hi = int(self.rwords.searchsorted(prefix + b"\xff"))
        step = max(1, (hi - lo) // sample)
        votes: dict[int, int] = {}
        total = vowel_count(key)
        for j in range(lo, hi, step):
            other = bytes(self.rwords[j])[::-1].decode("cp1251")
            opts = self._options[int(self.rcodes[j])]
            if len(opts.primary) != 1 or opts.primary[0] < 1:
                continue
            from_end = vowel_count(other) - opts.primary[0]  # vowels after the stressed one
            q = total - from_end
            if 1 <= q <= total:
                votes[q] = votes.get(q, 0) + 1
        if not votes:
            return None
        return (max(votes, key=lambda q: (votes[q], -q)),)


def default_dictionary(prosody_dir: str | None = None) -> StressDictionary:
    """The dictionaries of ``prosody_dir`` (else the workspace's prosody folder: ``POETBENCH_PROSODY_DIR``,
    which a command sets from its ``--project``, else ``../shared/prosody`` beside the current folder),
    loaded once."""
    from poetbench.workspace import Workspace

    ws = Workspace.from_env(prosody_dir=prosody_dir)
    return _dictionary_at(str(ws.prosody), str(ws.cache))


@lru_cache(maxsize=4)
def _dictionary_at(prosody: str, cache: str) -> StressDictionary:
    folder = Path(prosody)
    paths = [folder / "accent.dic", folder / "accent1.dic"]
    missing = [p for p in paths if not p.exists()]
    if missing:
        from poetbench.errors import ConfigError

        raise ConfigError(
            f"stress dictionary not found: {missing[0]} (set POETBENCH_PROSODY_DIR or --prosody-dir "
            "to the folder with accent.dic and accent1.dic)"
        )
    from poetbench.io import regular_file

    for p in paths:
        regular_file(p, "stress dictionary")
    return StressDictionary.from_files(paths, Path(cache))
