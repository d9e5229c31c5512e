"""`poetbench rate`: blind pairs, the JSON API (malformed and replayed POSTs refused, nothing stored),
SQLite that survives a killed server, the CSV export, ten pairs clicked through with the keyboard in
a real headless Chromium (Playwright), and the report's human-judgement section."""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.config import SamplingParams, save_config
from poetbench.eval import EvalOptions, run_eval
from tests.conftest import trained_workspace


@pytest.fixture(scope="module")
def rated(tmp_path_factory):
    from poetbench.rate.service import prepare

    tmp = tmp_path_factory.mktemp("rate")
    env, mp, cfg = trained_workspace(tmp)
    run_eval(cfg, EvalOptions(models="base,lora", adapters=tmp / "adapters", samples=2, themes=3,
                              output_dir=tmp / "run", batch_size=6, params=SamplingParams(max_new_tokens=16), lm=False),
             log=lambda m: None)
    save_config(cfg, tmp / "c.toml")
    db, pairs = prepare(cfg, tmp / "run", tmp / "api.sqlite")
    yield env, cfg, tmp, db, pairs
    mp.undo()


def count(db, table="ratings"):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_pairs_are_blind_same_author_and_theme_and_include_real_poems(rated):
    env, cfg, tmp, db, pairs = rated
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT author, theme, left_model, right_model, left_text, right_text FROM pairs").fetchall()
    conn.close()
    assert len(rows) == pairs > 10
    assert all(l != r for _, _, l, r, _, _ in rows)
    assert any("reference" in (l, r) for _, _, l, r, _, _ in rows)
    assert {"left", "right"} == {("left" if l == "reference" else "right") for _, _, l, r, _, _ in rows
                                 if "reference" in (l, r)}  # the real poem on either side


def test_api_rates_and_refuses_malformed_and_replayed_posts(rated):
    from poetbench.rate.app import create_app

    env, cfg, tmp, db, pairs = rated
    client = create_app(db).test_client()
    assert client.get("/api/next").status_code == 400
    assert client.get("/api/next?rater=a%20b").status_code == 400
    assert "token" in client.get("/api/next?rater=Анна").get_json()  # a rater may be named in any script
    nxt = client.get("/api/next?rater=ann").get_json()
    assert {"pair_id", "author", "theme", "left", "right", "token"} <= set(nxt) and "text" in nxt["left"]
    assert "model" not in json.dumps(nxt)  # blind: no model names
    body = {"pair_id": nxt["pair_id"], "rater": "ann", "choice": "left", "real": None, "token": nxt["token"]}
    before = count(db)
    for bad, status in ((b"{not json", 400), (json.dumps([1, 2]).encode(), 400),
                        (json.dumps(body | {"choice": "both"}).encode(), 400),
                        (json.dumps(body | {"real": "up"}).encode(), 400),
                        (json.dumps(body | {"extra": 1}).encode(), 400),
                        (json.dumps(body | {"rater": "<script>"}).encode(), 400),
                        (json.dumps(body | {"token": "forged"}).encode(), 409),
                        (json.dumps(body | {"rater": "bob"}).encode(), 409)):
        r = client.post("/api/ratings", data=bad, content_type="application/json")
        assert r.status_code == status and "error" in r.get_json(), (bad, r.status_code)
    assert count(db) == before  # nothing stored
    assert client.post("/api/ratings", json=body).status_code == 201
    replay = client.post("/api/ratings", json=body)
    assert replay.status_code == 409 and "error" in replay.get_json()
    assert count(db) == before + 1
    again = client.get("/api/next?rater=ann").get_json()
    assert again["pair_id"] != nxt["pair_id"]  # resumable: the rated pair is not offered again
    assert client.get("/api/progress?rater=ann").get_json() == {"done": 1, "total": pairs}
    page = client.get("/")
    assert "Content-Security-Policy" in page.headers and b"http://" not in page.data and b"https://" not in page.data


def test_a_killed_server_loses_nothing_it_acknowledged(rated, tmp_path):
    env, cfg, tmp, db, pairs = rated
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dbk = tmp_path / "k.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "poetbench", "rate", str(tmp / "run"), "--config", str(tmp / "c.toml"),
                             "--db", str(dbk), "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=os.environ.copy())
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/api/progress?rater=x", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        acknowledged = 0
        for _ in range(3):
            nxt = json.load(urllib.request.urlopen(base + "/api/next?rater=kim"))
            req = urllib.request.Request(base + "/api/ratings", method="POST", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"pair_id": nxt["pair_id"], "rater": "kim", "choice": "tie",
                                                          "real": None, "token": nxt["token"]}).encode())
            assert urllib.request.urlopen(req).status == 201
            acknowledged += 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert count(dbk) == acknowledged == 3


def test_export_csv_for_pandas(rated, tmp_path):
    import pandas as pd

    env, cfg, tmp, db, pairs = rated
    out = CliRunner().invoke(cli, ["rate", str(tmp / "run"), "--config", str(tmp / "c.toml"), "--db", str(db),
                                   "--export", str(tmp_path / "ratings.csv")])
    assert out.exit_code == 0, out.output
    table = pd.read_csv(tmp_path / "ratings.csv")
    assert {"pair_id", "rater", "choice", "real", "created_at", "left_model", "right_model"} <= set(table.columns)
    out = CliRunner().invoke(cli, ["rate", str(tmp / "run"), "--config", str(tmp / "c.toml"), "--db",
                                   str(tmp / "run" / "generations.jsonl")])
    assert out.exit_code != 0 and out.output.startswith("Error:")


def test_export_reads_the_ratings_only(rated, tmp_path):
    """`rate --export` with nothing rated yet: one error line, and no database built beside the run."""
    env, cfg, tmp, db, pairs = rated
    before = sorted(p.name for p in (tmp / "run").iterdir())
    out = CliRunner().invoke(cli, ["rate", str(tmp / "run"), "--config", str(tmp / "c.toml"),
                                   "--export", str(tmp_path / "ratings.csv")])
    assert out.exit_code == 2 and out.output.startswith("Error:") and "nothing rated yet" in out.output
    assert sorted(p.name for p in (tmp / "run").iterdir()) == before and not (tmp_path / "ratings.csv").exists()


def test_report_has_a_human_judgement_section_with_synthetic_ratings(rated, tmp_path):
    """Raters always prefer the real poem, and the adapter over the base: Bradley–Terry ranks them so."""
    from poetbench.rate.app import create_app
    from poetbench.report.html import write_report

    env, cfg, tmp, db, pairs = rated
    run = tmp_path / "run"
    shutil.copytree(tmp / "run", run)
    from poetbench.rate.service import prepare

    dbr, _ = prepare(cfg, run)
    client = create_app(dbr).test_client()
    order = {"reference": 3, "lora:alpha": 2, "lora:beta": 2, "base": 1}
    conn = sqlite3.connect(dbr)
    models = {p: (l, r) for p, l, r in conn.execute("SELECT pair_id, left_model, right_model FROM pairs")}
    conn.close()
    for rater in ("ann", "bob"):
        while True:
            nxt = client.get(f"/api/next?rater={rater}").get_json()
            if nxt.get("done"):
                break
            left, right = models[nxt["pair_id"]]
            choice = "tie" if order[left] == order[right] else "left" if order[left] > order[right] else "right"
            real = "left" if left == "reference" else "right" if right == "reference" else None
            assert client.post("/api/ratings", json={"pair_id": nxt["pair_id"], "rater": rater, "choice": choice,
                                                     "real": real, "token": nxt["token"]}).status_code == 201
    html = write_report(run).read_text(encoding="utf-8")
    assert 'id="human"' in html and "Bradley–Terry" in html and "Metric–human agreement" in html
    human = json.loads((run / "human.json").read_text())
    strengths = {r["model"]: r["strength"] for r in human["bradley_terry"]}
    assert strengths["reference"] > strengths["lora:alpha"] > strengths["base"]
    assert human["real_found"]["rate"] == 1.0 and human["agreement"]["rate"] == 1.0
    assert {t["metric"] for t in human["metric_agreement"]} >= {"p_target", "regularity"}


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make installs it)")
def test_ten_pairs_with_the_keyboard_in_headless_chromium(rated, tmp_path):
    pytest.importorskip("playwright")
    import re

    from playwright.sync_api import expect, sync_playwright

    from poetbench.rate.service import make_server

    env, cfg, tmp, db, pairs = rated
    dbb = tmp_path / "b.sqlite"
    shutil.copyfile(db, dbb)
    server = make_server(dbb, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    errors = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.fill("#rater", "eve")
            page.keyboard.press("Enter")
            page.wait_for_selector("#task:not([hidden])")
            keys = ["1", "2", "0", "ArrowLeft", "ArrowRight", "1", "2", "0", "1", "2"]
            for i, key in enumerate(keys):
                expect(page.locator("#progress")).to_have_text(re.compile(rf"^{i} /"))
                if i == 3:
                    page.keyboard.press("q")  # mark the left poem as the real one
                page.keyboard.press(key)
            expect(page.locator("#progress")).to_have_text(re.compile(r"^10 /"))
            assert page.inner_text("#progress").startswith(f"10 / {pairs}")
            browser.close()
    finally:
        server.shutdown()
    assert not errors, errors
    conn = sqlite3.connect(dbb)
    rows = conn.execute("SELECT choice, real FROM ratings WHERE rater = 'eve' ORDER BY id").fetchall()
    conn.close()
    assert [c for c, _ in rows] == ["left", "right", "tie", "left", "right", "left", "right", "tie", "left", "right"]
    assert rows[3][1] == "left" and all(r is None for i, (_, r) in enumerate(rows) if i != 3)
