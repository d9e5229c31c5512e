"""The ratings database (SQLite): one table of pairs, one of issued tokens, one of ratings; the schema
version in ``PRAGMA user_version``. Every write is one transaction, committed (WAL, synchronous=FULL)
before the server answers, so a killed server loses nothing it acknowledged."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from poetbench.errors import RatingsError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pairs (
  pair_id TEXT PRIMARY KEY, position INTEGER NOT NULL, author TEXT NOT NULL, author_name TEXT NOT NULL,
  theme TEXT NOT NULL, left_key TEXT NOT NULL, right_key TEXT NOT NULL, left_model TEXT NOT NULL,
  right_model TEXT NOT NULL, left_text TEXT NOT NULL, right_text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY, pair_id TEXT NOT NULL REFERENCES pairs(pair_id), rater TEXT NOT NULL,
  issued_at TEXT NOT NULL, used_at TEXT);
CREATE TABLE IF NOT EXISTS ratings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, pair_id TEXT NOT NULL REFERENCES pairs(pair_id), rater TEXT NOT NULL,
  choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')),
  real TEXT CHECK (real IS NULL OR real IN ('left', 'right')), created_at TEXT NOT NULL,
  UNIQUE (pair_id, rater));
"""


def connect(path: Path) -> sqlite3.Connection:
    """An open database at ``path`` (created with the schema when new; refused when another
    version of poetbench wrote it)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise RatingsError(f"{path}: not a file (give --db a file path)")
    try:
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise RatingsError(f"{path}: not a ratings database ({e})") from None
    if version == 0:
        with transaction(conn):
            for statement in _statements():
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    elif version != SCHEMA_VERSION:
        raise RatingsError(f"{path}: ratings schema version {version}, this poetbench reads {SCHEMA_VERSION}")
    return conn


def _statements() -> list[str]:
    return [s.strip() for s in SCHEMA.split(";") if s.strip()]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def store_pairs(conn: sqlite3.Connection, pairs: list[dict], run_id: str) -> int:
    """Insert the run's pairs (once); a database made for another run is refused. Returns how many."""
    with transaction(conn):
        row = conn.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
        if row is not None and row["value"] != run_id:
            raise RatingsError(f"the ratings database belongs to another run ({row['value']}); give another --db")
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('run', ?)", (run_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO pairs (pair_id, position, author, author_name, theme, left_key, right_key, "
            "left_model, right_model, left_text, right_text) VALUES (:pair_id, :position, :author, :author_name, "
            ":theme, :left_key, :right_key, :left_model, :right_model, :left_text, :right_text)", pairs)
    return conn.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]


def ratings(conn: sqlite3.Connection) -> list[dict]:
    """Every rating with its pair's models and keys."""
    rows = conn.execute(
        "SELECT r.id, r.pair_id, r.rater, r.choice, r.real, r.created_at, p.author, p.theme, p.left_model, "
        "p.right_model, p.left_key, p.right_key FROM ratings r JOIN pairs p USING (pair_id) ORDER BY r.id")
    return [dict(r) for r in rows]
