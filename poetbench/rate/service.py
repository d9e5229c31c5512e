"""``poetbench rate``: the run's pairs into the database, the server, the CSV export."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from poetbench.config import RunConfig
from poetbench.errors import RatingsError
from poetbench.rate.db import connect, ratings, store_pairs
from poetbench.rate.pairs import build_pairs, run_id

DB_NAME = "ratings.sqlite"
EXPORT_FIELDS = ["id", "pair_id", "rater", "choice", "real", "created_at", "author", "theme", "left_model",
                 "right_model", "left_key", "right_key"]


def prepare(config: RunConfig, run_dir: Path, db: Path | None = None) -> tuple[Path, int]:
    """The database (default ``RUN_DIR/ratings.sqlite``) holding the run's pairs: (path, pairs)."""
    run_dir = Path(run_dir)
    db = Path(db) if db is not None else run_dir / DB_NAME
    conn = connect(db)
    try:
        pairs = build_pairs(config, run_dir)
        return db, store_pairs(conn, pairs, run_id(pairs))
    finally:
        conn.close()


def export_csv(db: Path, out: Path) -> int:
    """Every rating with its pair's models, as CSV for pandas; returns how many."""
    import csv
    import io

    from poetbench.eval.rundir import check_out_path
    from poetbench.io import atomic_write_text

    check_out_path(Path(out), inputs=[db], suffixes=(".csv",))
    if not Path(db).is_file():
        raise RatingsError("no ratings database (nothing rated yet): rate first with `poetbench rate RUN_DIR`, or "
                           "point --db at the database", db)
    conn = connect(db)
    try:
        rows = ratings(conn)
    finally:
        conn.close()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(Path(out), buf.getvalue())
    return len(rows)


def make_server(db: Path, host: str = "127.0.0.1", port: int = 0):
    """A threaded WSGI server for the app (werkzeug, Flask's own); ``port`` 0 picks a free one."""
    from werkzeug.serving import make_server as werkzeug_server

    from poetbench.rate.app import create_app

    return werkzeug_server(host, port, create_app(db), threaded=True)


def serve(db: Path, host: str, port: int, log: Callable[[str], None] = print) -> None:
    server = make_server(db, host, port)
    log(f"rating page: http://{host}:{server.server_port}/ (ratings in {db}; Ctrl+C stops the server, nothing "
        "acknowledged is lost)")
    try:
        server.serve_forever()
    finally:
        server.server_close()


def human_of_run(run_dir: Path, scores: list[dict]) -> dict | None:
    """The human-judgement summary of ``RUN_DIR/ratings.sqlite`` (None when there are no ratings)."""
    from poetbench.rate.analysis import human_judgement

    db = Path(run_dir) / DB_NAME
    if not db.is_file():
        return None
    conn = connect(db)
    try:
        rows = ratings(conn)
    finally:
        conn.close()
    return human_judgement(rows, scores) if rows else None
