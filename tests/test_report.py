"""The HTML report: sections, escaping, size, and a real headless Chromium opening it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from poetbench.eval import EvalOptions, run_eval
from poetbench.config import SamplingParams
from poetbench.report.html import ReportError, write_report


ARTIFACTS = Path(__file__).parent / "artifacts"
SECTIONS = ["summary", "training", "comparison", "heldout", "classifier", "prosody", "memorisation", "gallery"]
EVIL = "<script>alert('x')</script></div><b>жирный</b>"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from tests.conftest import trained_workspace

    tmp = tmp_path_factory.mktemp("report")
    env, mp, cfg = trained_workspace(tmp)
    out = tmp / "run"
    opts = EvalOptions(adapters=tmp / "adapters", samples=2, themes=2, output_dir=out, batch_size=4,
                       params=SamplingParams(max_new_tokens=24))
    run_eval(cfg, opts, log=lambda m: None)
    # a generated poem with markup in it must come out as text: planted in the cache, then scored by a rerun
    gens = (out / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(gens[0])
    first["text"] = EVIL + "\n" + first["text"]
    (out / "generations.jsonl").write_text("\n".join([json.dumps(first, ensure_ascii=False)] + gens[1:]) + "\n",
                                           encoding="utf-8")
    run_eval(cfg, opts, log=lambda m: None)
    yield out
    mp.undo()


def test_report_sections_escaping_and_size(run_dir):
    path = write_report(run_dir)
    html = path.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert "<script" not in html  # no scripts at all, and the poem's markup is escaped
    assert "&lt;script&gt;alert(" in html and "&lt;/div&gt;&lt;b&gt;" in html
    import re

    # nothing is fetched: no src/href/url() pointing outside the file (XML namespace names are not loads)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", html)
    assert "<svg" in html and path.stat().st_size < 5_000_000


def test_report_of_a_run_without_generations_is_a_clear_error(tmp_path):
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(ReportError, match="run `poetbench eval` first"):
        write_report(tmp_path)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make installs it)")
def test_report_opens_in_headless_chromium(run_dir, tmp_path):
    path = write_report(run_dir)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", path.resolve().as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in SECTIONS:
        assert f'id="{section}"' in dom.stdout
    assert "&lt;script&gt;" in dom.stdout and "<script>alert" not in dom.stdout
    console_errors = [l for l in dom.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    assert not console_errors, console_errors
    subprocess.run(["chromium", *flags, "--window-size=1300,2400", f"--screenshot={shot}", path.resolve().as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000
