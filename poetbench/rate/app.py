"""The rating web app (Flask: a small, well-kept WSGI framework with a test client; its development
server is enough for a seminar on one machine). One page and a JSON API:

- ``GET /api/next?rater=ID`` -> ``{"pair_id", "author", "author_name", "theme", "left": {"text"},
  "right": {"text"}, "token"}``, or ``{"done": true}``: the pair this rater has not rated that has
  the fewest ratings (then the run's seeded order), so raters resume where they stopped; each call
  issues a one-use token bound to the pair and the rater.
- ``POST /api/ratings`` with ``{"pair_id", "rater", "choice": "left"|"right"|"tie", "real":
  "left"|"right"|null, "token"}`` -> 201; a malformed body is 400, an unknown, used or foreign token
  409 (a replay), each with a JSON ``error``, and nothing stored.
- ``GET /api/progress?rater=ID`` -> ``{"done", "total"}``.

Texts reach the page as JSON and are set with ``textContent`` (never parsed as HTML); the page loads
nothing from elsewhere (a Content-Security-Policy says so).
"""

from __future__ import annotations

import re
import secrets
from contextlib import closing
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from poetbench.rate.db import connect, transaction

RATER = re.compile(r"^[\w.@-]{1,64}$")  # letters of any script, digits, _.@-
RATER_HELP = "give ?rater=ID (1-64 letters, digits or _.@-)"
CHOICES = ("left", "right", "tie")
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
       "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def create_app(db_path: Path):
    from flask import Flask, Response, jsonify, request

    app = Flask("poetbench.rate")
    db_path = Path(db_path)
    connect(db_path).close()  # the schema, before the first request
    page = resources.files("poetbench.rate").joinpath("page.html").read_text(encoding="utf-8")

    def error(status: int, message: str):
        response = jsonify({"error": message})
        response.status_code = status
        return response

    def rater_of(value) -> str | None:
        return value if isinstance(value, str) and RATER.match(value) else None

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index():
        return Response(page, mimetype="text/html")

    @app.get("/api/next")
    def next_pair():
        if (rater := rater_of(request.args.get("rater"))) is None:
            return error(400, RATER_HELP)
        with closing(connect(db_path)) as conn, transaction(conn):
            row = conn.execute(
                "SELECT p.* FROM pairs p WHERE p.pair_id NOT IN (SELECT pair_id FROM ratings WHERE rater = ?) "
                "ORDER BY (SELECT COUNT(*) FROM ratings r WHERE r.pair_id = p.pair_id), p.position LIMIT 1",
                (rater,)).fetchone()
            if row is None:
                return jsonify({"done": True})
            token = secrets.token_urlsafe(18)
            conn.execute("INSERT INTO tokens (token, pair_id, rater, issued_at) VALUES (?, ?, ?, ?)",
                         (token, row["pair_id"], rater, _now()))
        return jsonify({"pair_id": row["pair_id"], "author": row["author"], "author_name": row["author_name"],
                        "theme": row["theme"], "left": {"text": row["left_text"]},
                        "right": {"text": row["right_text"]}, "token": token})

    @app.get("/api/progress")
    def progress():
        if (rater := rater_of(request.args.get("rater"))) is None:
            return error(400, RATER_HELP)
        with closing(connect(db_path)) as conn:
            done = conn.execute("SELECT COUNT(*) FROM ratings WHERE rater = ?", (rater,)).fetchone()[0]
            total = conn.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]
        return jsonify({"done": done, "total": total})

    @app.post("/api/ratings")
    def rate():
        body = request.get_json(force=True, silent=True)  # JSON whatever the Content-Type says
        if not isinstance(body, dict):
            return error(400, "the body must be a JSON object")
        unknown = set(body) - {"pair_id", "rater", "choice", "real", "token"}
        if unknown:
            return error(400, f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
        rater = rater_of(body.get("rater"))
        if rater is None:
            return error(400, "field 'rater': " + RATER_HELP)
        if body.get("choice") not in CHOICES:
            return error(400, "field 'choice': one of left, right, tie")
        if body.get("real", None) not in ("left", "right", None):
            return error(400, "field 'real': left, right or null")
        for name in ("pair_id", "token"):
            if not isinstance(body.get(name), str) or not body[name] or len(body[name]) > 128:
                return error(400, f"field {name!r}: a string, as /api/next gave it")
        with closing(connect(db_path)) as conn, transaction(conn):
            token = conn.execute("SELECT * FROM tokens WHERE token = ?", (body["token"],)).fetchone()
            if token is None or token["used_at"] is not None:
                return error(409, "unknown or already used token: ask /api/next for the pair again")
            if token["pair_id"] != body["pair_id"] or token["rater"] != rater:
                return error(409, "the token was issued for another pair or rater")
            if conn.execute("SELECT 1 FROM ratings WHERE pair_id = ? AND rater = ?", (body["pair_id"], rater)).fetchone():
                return error(409, "this rater has rated this pair already")
            cur = conn.execute("INSERT INTO ratings (pair_id, rater, choice, real, created_at) VALUES (?, ?, ?, ?, ?)",
                               (body["pair_id"], rater, body["choice"], body.get("real"), _now()))
            conn.execute("UPDATE tokens SET used_at = ? WHERE token = ?", (_now(), body["token"]))
            rating_id = cur.lastrowid
        response = jsonify({"ok": True, "id": rating_id})
        response.status_code = 201
        return response

    return app
