"""`poetbench compare`: two runs of adapters with different LoRA ranks, one judge, paired tests,
ranks that tie, compare.csv / compare.json / compare.html (opened in headless Chromium)."""

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.config import SamplingParams
from poetbench.eval import EvalOptions, run_eval
from tests.conftest import micro_config, trained_workspace


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from poetbench.train import train

    tmp = tmp_path_factory.mktemp("compare")
    env, mp, cfg = trained_workspace(tmp)
    train(micro_config(env, lora_r=4), output_dir=tmp / "adapters_r4", log=lambda m: None)
    params = SamplingParams(max_new_tokens=16)
    for adapters, out in (("adapters", "r8"), ("adapters_r4", "r4")):
        run_eval(cfg, EvalOptions(models="base,lora", adapters=tmp / adapters, samples=3, themes=2,
                                  output_dir=tmp / out, batch_size=6, params=params, lm=False), log=lambda m: None)
    yield env, cfg, tmp
    mp.undo()


def flags(env):
    return ["--authors-file", str(env["authors_file"]), "--corpus-dir", str(env["corpus_dir"])]


def test_compare_two_runs_with_one_judge(two_runs, tmp_path):
    import pandas as pd

    env, cfg, tmp = two_runs
    out = CliRunner().invoke(cli, ["compare", str(tmp / "r8"), str(tmp / "r4"), "--out", str(tmp_path / "c"),
                                   *flags(env)])
    assert out.exit_code == 0, out.output
    table = pd.read_csv(tmp_path / "c" / "compare.csv")
    assert {"r8/base", "r8/lora:alpha", "r4/lora:alpha", "reference"} <= set(table.row)
    assert {"author", "row", "metric", "mean", "ci_low", "ci_high", "rank", "tied_with"} <= set(table.columns)
    info = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert info["rescored"] == [] and info["judge"] == json.loads((tmp / "r8" / "run.json").read_text())[
        "classifier"]["key"]
    tests = info["tests"]
    # rows of the two runs share prompts and seeds: every test is paired, with a q-value
    assert tests and all(t["paired"] and 0 <= t["q_value"] <= 1 for t in tests)
    # the base rows of the two runs are the same model on the same prompts: never separable, so they tie
    p = table[(table.metric == "p_target") & (table.author == "alpha")].set_index("row")
    assert p.loc["r8/base", "rank"] == p.loc["r4/base", "rank"] and "r4/base" in p.loc["r8/base", "tied_with"]
    assert pd.isna(p.loc["reference", "rank"])  # the reference is shown, never ranked
    assert "alpha: ranked by P(author)" in out.output


def test_compare_scores_every_row_with_one_judge_and_states_the_common_part(two_runs, tmp_path):
    from poetbench.style.classifier import ensure_classifier

    env, cfg, tmp = two_runs
    # r4 scored by another judge: a new author arrives, and r4 is scored again with the new judge
    r4 = tmp_path / "r4"
    shutil.copytree(tmp / "r4", r4)
    shutil.copytree(tmp / "r8", tmp_path / "r8")
    with open(env["authors_file"], "a", encoding="utf-8") as f:
        f.write('[authors.delta]\nname = "Дельта Поэт"\npath = "gamma.jsonl"\n')
    try:
        new_key = ensure_classifier(cfg, log=lambda m: None).path.name
        assert CliRunner().invoke(cli, ["score", str(r4), "--judge", new_key, "--quiet", *flags(env)]).exit_code == 0
        before = (r4 / "scores.jsonl").read_bytes()
        out = CliRunner().invoke(cli, ["compare", str(tmp_path / "r8"), str(r4), "--out", str(tmp_path / "c"),
                                       "--quiet", *flags(env)])
        assert out.exit_code == 0, out.output
        info = json.loads((tmp_path / "c" / "compare.json").read_text())
        assert info["rescored"] == ["r4"] and "different judges" in out.output
        assert (r4 / "scores.jsonl").read_bytes() == before  # the run itself is not touched
        assert (tmp_path / "c" / "rescored" / "r4" / "scores.jsonl").is_file()
        # a run with fewer themes: compared on the common part, stated
        run_eval(cfg, EvalOptions(models="base", samples=3, themes=1, output_dir=tmp_path / "one", batch_size=6,
                                  params=SamplingParams(max_new_tokens=16), lm=False), log=lambda m: None)
        out = CliRunner().invoke(cli, ["compare", str(tmp_path / "r8"), str(tmp_path / "one"), "--out",
                                       str(tmp_path / "c2"), "--quiet", *flags(env)])
        assert out.exit_code == 0, out.output
        info = json.loads((tmp_path / "c2" / "compare.json").read_text())
        assert len(info["common"]["themes"]) == 1 and any("common part" in n for n in info["notes"])
    finally:
        text = env["authors_file"].read_text(encoding="utf-8")
        env["authors_file"].write_text(text.split("[authors.delta]")[0], encoding="utf-8")


def test_compare_errors_are_one_line(two_runs, tmp_path):
    env, cfg, tmp = two_runs
    for argv, expected in ((["compare", str(tmp / "r8"), "--by", "words"], "--by 'words'"),
                           (["compare", str(tmp / "r8"), str(tmp / "r8")], "given twice"),
                           (["compare", str(tmp_path)], "not an eval run")):
        out = CliRunner().invoke(cli, [*argv, *flags(env)])
        assert out.exit_code != 0 and out.output.startswith("Error:") and expected in out.output, out.output


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make installs it)")
def test_compare_html_opens_in_headless_chromium(two_runs, tmp_path):
    env, cfg, tmp = two_runs
    out = CliRunner().invoke(cli, ["compare", str(tmp / "r8"), str(tmp / "r4"), "--out", str(tmp_path / "c"),
                                   "--quiet", *flags(env)])
    assert out.exit_code == 0, out.output
    path = tmp_path / "c" / "compare.html"
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*browser, "--dump-dom", path.resolve().as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in ("runs", "leaderboards", "tests"):
        assert f'id="{section}"' in dom.stdout
    assert "r8/lora:alpha" in dom.stdout and "r4/lora:alpha" in dom.stdout
    assert not [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_report_to_tensorboard_writes_event_files(two_runs, tmp_path):
    """--report-to tensorboard, offline: training steps (TRL's logging) beside the adapters, and the
    summaries of eval and compare (with the HTML's path) in their folders."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from poetbench.train import train

    env, cfg, tmp = two_runs

    def tags(folder):
        events = [p.parent for p in folder.rglob("events.out.tfevents.*")]
        assert events, f"no event files under {folder}"
        found = set()
        for e in set(events):
            acc = EventAccumulator(str(e))
            acc.Reload()
            found |= set(acc.Tags()["scalars"]) | set(acc.Tags().get("tensors", []))
        return found

    train(micro_config(env, authors=["alpha"], lora_r=2), output_dir=tmp_path / "ad", log=lambda m: None,
          report_to="tensorboard")
    assert any("loss" in t for t in tags(tmp_path / "ad" / "tensorboard" / "alpha"))
    from poetbench.config import save_config

    save_config(cfg, tmp_path / "c.toml")
    out = CliRunner().invoke(cli, ["eval", "--config", str(tmp_path / "c.toml"), "--models", "base", "--samples", "1",
                                   "--themes", "1", "--no-lm", "--max-new-tokens", "12", "--output-dir",
                                   str(tmp_path / "e"), "--report-to", "tensorboard", "--quiet"])
    assert out.exit_code == 0, out.output
    found = tags(tmp_path / "e" / "tensorboard")
    assert {"alpha/base/p_target", "alpha/reference/regularity", "beta/base/is_target"} <= found, sorted(found)
    out = CliRunner().invoke(cli, ["compare", str(tmp / "r8"), str(tmp / "r4"), "--out", str(tmp_path / "c"),
                                   "--report-to", "tensorboard", "--quiet", *flags(env)])
    assert out.exit_code == 0, out.output
    assert "alpha/r8_lora_alpha/p_target" in tags(tmp_path / "c" / "tensorboard")
    # a tracker whose package is missing is one clear error, before anything runs
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        out = CliRunner().invoke(cli, ["compare", str(tmp / "r8"), "--report-to", "mlflow", *flags(env)])
        assert out.exit_code != 0 and "pip install mlflow" in out.output
