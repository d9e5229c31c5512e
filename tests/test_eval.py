"""`poetbench eval` on the micro model: generation cache and resume, adapter checks, scores, CIs."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from poetbench.eval import EvalOptions, run_eval
from poetbench.errors import PoetbenchError
from poetbench.config import SamplingParams
from poetbench.generation import GENERATIONS, parse_models, read_done
from poetbench.eval.stats import bootstrap_ci, paired_comparison
from tests.conftest import launch_args, trained_workspace


PARAMS = SamplingParams(max_new_tokens=24)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Micro adapters for alpha and beta (trained once for the module), and eval options."""
    tmp = tmp_path_factory.mktemp("eval")
    env, mp, cfg = trained_workspace(tmp)
    adapters = tmp / "adapters"
    opts = EvalOptions(models="base,lora", adapters=adapters, samples=2, themes=2, output_dir=tmp / "out",
                       batch_size=3, params=PARAMS)
    yield cfg, opts, tmp
    mp.undo()


def test_eval_writes_every_output_pandas_can_read(run):
    import pandas as pd

    cfg, opts, tmp = run
    result = run_eval(cfg, opts, log=lambda m: None)
    rows = [json.loads(line) for line in (opts.output_dir / GENERATIONS).read_text().splitlines()]
    # base x 2 authors + each adapter x its author, x 2 themes x 2 samples
    assert len(rows) == (2 + 2) * 2 * 2 and len({r["key"] for r in rows}) == len(rows)
    assert {r["model"] for r in rows} == {"base", "lora:alpha", "lora:beta"}
    scores = pd.read_json(opts.output_dir / "scores.jsonl", lines=True)
    generated = scores[scores.model != "reference"]
    assert len(generated) == len(rows) and {"p_target", "regularity", "longest_copied_run", "distinct_2"} <= set(scores)
    # the reference rows: each author's held-out test poems, scored the same way, in every output
    from poetbench import corpus as C

    reference = scores[scores.model == "reference"]
    for author in ("alpha", "beta"):
        assert (reference.author == author).sum() == len(C.load_records(cfg.corpus_dir, author, "test")) > 0
    assert reference.regularity.between(0, 1).all() and reference.p_target.between(0, 1).all()
    assert set(result.summary[0]) and {("reference", a) for a in ("alpha", "beta")} <= {
        (r["model"], r["author"]) for r in result.summary}
    assert "reference" not in {c["model"] for c in result.comparisons}
    summary = pd.read_csv(opts.output_dir / "summary.csv")
    assert {"model", "author", "metric", "mean", "ci_low", "ci_high"} <= set(summary.columns)
    with_ci = summary.dropna(subset=["ci_low"])
    assert ((with_ci.ci_low <= with_ci["mean"] + 1e-9) & (with_ci["mean"] <= with_ci.ci_high + 1e-9)).all()
    run_info = json.loads((opts.output_dir / "run.json").read_text())
    assert run_info["options"]["sampling"]["max_new_tokens"] == 24 and run_info["versions"]["trl"]
    assert {c["model"] for c in result.comparisons} == {"lora:alpha", "lora:beta"}
    # one Benjamini–Hochberg correction over every adapter x metric test of the run
    assert all(c["q_value"] >= c["p_value"] or c["p_value"] != c["p_value"] for c in result.comparisons)
    saved = json.loads((opts.output_dir / "summary.json").read_text())["comparisons"]
    assert all("q_value" in c and "ci_excludes_zero" in c for c in saved)


def test_heldout_matrix_uses_test_split_only(run):
    from poetbench import corpus as C

    cfg, opts, tmp = run
    result = run_eval(cfg, opts, log=lambda m: None)
    tests = {a: len(C.load_records(cfg.corpus_dir, a, "test")) for a in ("alpha", "beta")}
    assert {(r["model"], r["author"]) for r in result.lm} == {(m, a) for m in ("base", "lora:alpha", "lora:beta")
                                                              for a in ("alpha", "beta")}
    assert all(r["poems"] == tests[r["author"]] and r["split"] == "test" for r in result.lm)
    assert all(r["perplexity"] > 1 and 0 <= r["mean_token_accuracy"] <= 1 for r in result.lm)


def test_heldout_rows_survive_an_interruption_and_a_rerun_computes_only_what_is_missing(run, tmp_path, monkeypatch):
    """lm.jsonl keeps each model x author row as soon as it is computed; a rerun in the folder computes
    only the missing rows, and loads no model when every row's key still matches."""
    import poetbench.eval.heldout as H
    import poetbench.metrics.lm as L

    cfg, opts, tmp = run
    again = EvalOptions(**{**opts.__dict__, "output_dir": tmp_path / "lm"})
    real, calls = L.completion_stats, []

    def counted(*a, **kw):
        calls.append(1)
        if len(calls) == 3 and stop:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(L, "completion_stats", counted)
    stop = True
    with pytest.raises(KeyboardInterrupt):
        run_eval(cfg, again, log=lambda m: None)
    kept = [json.loads(line) for line in (tmp_path / "lm" / "lm.jsonl").read_text().splitlines()]
    assert len(kept) == 2 and all(r["key"] for r in kept)
    calls.clear()
    stop = False

    class Progress:  # what rich.progress.Progress is asked
        def __init__(self):
            self.total, self.done = {}, {}

        def add_task(self, description, total, completed=0):
            self.total[description], self.done[description] = total, completed
            return description

        def advance(self, task, n):
            self.done[task] += n

    progress = Progress()
    result = run_eval(cfg, again, progress=progress, log=lambda m: None)
    assert len(calls) == 3 * 2 - 2 and len(result.lm) == 6
    computed = [r for r in result.lm if r["key"] not in {k["key"] for k in kept}]
    assert progress.total["held-out poems"] == progress.done["held-out poems"] == sum(r["poems"] for r in computed)
    assert [r for r in result.lm if r["key"] in {k["key"] for k in kept}] == kept
    monkeypatch.setattr(H, "_bank", lambda *a: pytest.fail("a model was loaded for rows already computed"))
    assert run_eval(cfg, again, log=lambda m: None).lm == result.lm


def test_a_damaged_lm_file_stops_the_rerun_before_it_writes_anything(run, tmp_path):
    import hashlib
    import shutil

    cfg, opts, tmp = run
    run_eval(cfg, opts, log=lambda m: None)
    folder = tmp_path / "damaged"
    shutil.copytree(opts.output_dir, folder)
    lines = (folder / "lm.jsonl").read_text().splitlines()
    (folder / "lm.jsonl").write_text("\n".join([lines[0], '{"model": "base"}', *lines[1:]]) + "\n")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}
    with pytest.raises(PoetbenchError, match=r"lm.jsonl:2 field 'author'.*delete .*lm.jsonl"):
        run_eval(cfg, EvalOptions(**{**opts.__dict__, "output_dir": folder}), log=lambda m: None)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()} == before


def test_a_no_lm_rerun_keeps_the_earlier_lm_file_but_reports_none_of_it(run, tmp_path):
    """`eval --no-lm` in a folder whose earlier run computed the held-out rows: the file stays (a later
    run reuses it), but it is not this run's, so the report, `compare` and a rescore read none of it."""
    import shutil

    from poetbench.eval.rescore import rescore_run
    from poetbench.eval.runfiles import read_run

    cfg, opts, tmp = run
    run_eval(cfg, opts, log=lambda m: None)
    folder = tmp_path / "no-lm"
    shutil.copytree(opts.output_dir, folder)
    kept = (folder / "lm.jsonl").read_bytes()
    assert read_run(folder)["lm"]  # the run that computed them reports them
    result = run_eval(cfg, EvalOptions(**{**opts.__dict__, "output_dir": folder, "lm": False}), log=lambda m: None)
    assert result.lm == [] and (folder / "lm.jsonl").read_bytes() == kept
    assert json.loads((folder / "run.json").read_text())["options"]["lm"] is False
    assert read_run(folder)["lm"] == [] and not any(r["metric"] == "heldout_perplexity" for r in result.summary)
    assert rescore_run(cfg, folder, log=lambda m: None).lm == [] and read_run(folder)["lm"] == []


def test_more_themes_than_the_prompts_hold_is_said(run, tmp_path):
    from poetbench.eval.plan import make_plan
    from poetbench.prompts import default_prompts
    from poetbench.workspace import Workspace

    cfg, opts, tmp = run
    notes = []
    plan = make_plan(cfg, EvalOptions(**{**opts.__dict__, "themes": 999, "output_dir": tmp_path / "t"}),
                     Workspace.from_env(), notes.append)
    n = len(default_prompts().themes)
    assert plan.themes == list(default_prompts().themes)
    assert any(f"--themes 999, but the prompts hold {n} themes" in m for m in notes)
    make_plan(cfg, EvalOptions(**{**opts.__dict__, "themes": n, "output_dir": tmp_path / "t"}), Workspace.from_env(),
              notes.append)
    assert sum("the prompts hold" in m for m in notes) == 1


def test_resume_after_interruption_gives_the_same_rows(run, monkeypatch):
    import poetbench.eval.stages as S

    cfg, opts, tmp = run
    full = opts.output_dir
    run_eval(cfg, opts, log=lambda m: None)
    expected = {k: r["text"] for k, r in read_done(full / GENERATIONS).items()}

    interrupted = EvalOptions(**{**opts.__dict__, "output_dir": tmp / "again"})
    real_run_jobs = S.run_jobs

    def stop_after_two(*a, **kw):
        def boom(n):
            if n == 1:
                raise KeyboardInterrupt
        return real_run_jobs(*a, **{**kw, "after_batch": boom})

    monkeypatch.setattr(S, "run_jobs", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        run_eval(cfg, interrupted, log=lambda m: None)
    partial = read_done(tmp / "again" / GENERATIONS)
    assert 0 < len(partial) < len(expected)
    with open(tmp / "again" / GENERATIONS, "a") as f:  # a kill in the middle of writing a row
        f.write('{"key": "torn", "te')
    monkeypatch.setattr(S, "run_jobs", real_run_jobs)
    run_eval(cfg, interrupted, log=lambda m: None)
    lines = (tmp / "again" / GENERATIONS).read_text().splitlines()
    got = {json.loads(line)["key"]: json.loads(line)["text"] for line in lines}
    assert len(lines) == len(got) == len(expected)  # nothing lost, nothing duplicated
    assert got == expected


def test_a_rerun_with_nothing_to_generate_records_the_batch_size_of_its_poems(run):
    cfg, opts, tmp = run
    run_eval(cfg, opts, log=lambda m: None)  # batches of 3 (or read back)
    for size in (None, 5):  # auto, or another size: no poem is generated with it
        run_eval(cfg, EvalOptions(**{**opts.__dict__, "batch_size": size}), log=lambda m: None)
        recorded = json.loads((opts.output_dir / "run.json").read_text())["options"]
        assert recorded["batch_size"] == 3 and recorded["batch_size_option"] == (size or "auto")


def test_noop_adapter_is_rejected(run):
    from peft import get_peft_model

    from poetbench.models.loading import load_model
    from poetbench.train import lora_config

    cfg, opts, tmp = run
    manifest = json.loads((opts.adapters / "alpha" / "poetbench.json").read_text())
    base = load_model(manifest["base_model"]["path"])
    noop = get_peft_model(base, lora_config(cfg))  # LoRA B starts at zero: changes nothing
    noop.save_pretrained(str(tmp / "noop"))
    (tmp / "noop" / "poetbench.json").write_text(json.dumps({**manifest, "author": {"id": "alpha", "name": "A"}}))
    with pytest.raises(PoetbenchError, match="does not change the base"):
        run_eval(cfg, EvalOptions(**{**opts.__dict__, "models": f"base,{tmp / 'noop'}", "output_dir": tmp / "noop-run"}),
                 log=lambda m: None)


@pytest.mark.parametrize("models,message", [
    ("base,,lora", "comma-separated"),
    ("lora:nobody", "no adapter for 'nobody'"),
    ("gpt5", "is not base, lora"),
    ("base,base", "names a model twice"),
])
def test_bad_models_values(tmp_path, models, message):
    with pytest.raises(PoetbenchError, match=message):
        parse_models(models, tmp_path)


def test_missing_adapter_run_and_foreign_base(run):
    cfg, opts, tmp = run
    with pytest.raises(PoetbenchError, match="no adapter run folder"):
        parse_models("lora", tmp / "nowhere")
    other = cfg.replace(preset="seed", base_model="Qwen/Qwen2.5-3B-Instruct")
    with pytest.raises(PoetbenchError, match="trained on base 'tiny'"):
        run_eval(other, opts, log=lambda m: None)


def test_cli_eval_errors_are_one_line(run):
    from poetbench.cli import cli
    from poetbench.config import save_config

    cfg, opts, tmp = run
    save_config(cfg, tmp / "c.toml")
    result = CliRunner().invoke(cli, ["eval", "--config", str(tmp / "c.toml"), "--samples", "0"])
    assert result.exit_code == 2 and "at least 1" in result.output
    result = CliRunner().invoke(cli, ["eval", "--config", str(tmp / "c.toml"), "--models", "lora:zed",
                                      "--adapters", str(opts.adapters)])
    assert result.exit_code == 2 and "no adapter for 'zed'" in result.output and "Traceback" not in result.output


def test_cis_contain_the_mean_and_shrink_with_more_samples():
    rng = np.random.default_rng(1)
    small = rng.normal(0.5, 0.2, 20)
    large = rng.normal(0.5, 0.2, 400)
    m1, lo1, hi1 = bootstrap_ci(small)
    m2, lo2, hi2 = bootstrap_ci(large)
    assert lo1 <= m1 <= hi1 and lo2 <= m2 <= hi2
    assert (hi2 - lo2) < (hi1 - lo1) / 2
    c = paired_comparison(large + 0.1, large)
    assert c["p_value"] < 1e-6 and c["ci_low"] > 0.09 and c["diff"] == pytest.approx(0.1)


def test_every_registered_metric_reaches_summary_terminal_and_html(run):
    """The registry drives every output: each metric is in summary.csv, in the terminal tables and
    in the HTML report, with its label."""
    import pandas as pd
    from rich.console import Console

    from poetbench.metrics.registry import METRICS
    from poetbench.report.html import write_report
    from poetbench.report.terminal import eval_tables

    cfg, opts, tmp = run
    result = run_eval(cfg, opts, log=lambda m: None)
    summary = pd.read_csv(opts.output_dir / "summary.csv")
    console = Console(record=True, width=400)
    for table in eval_tables(result.summary, result.comparisons, result.lm):
        console.print(table)
    terminal = console.export_text()
    html = write_report(opts.output_dir).read_text(encoding="utf-8")
    scores = [json.loads(line) for line in (opts.output_dir / "scores.jsonl").read_text().splitlines()]
    for m in METRICS:
        assert m.name in set(summary.metric), m.name
        assert m.label in terminal, m.name
        assert m.name in html and m.label in html, m.name
        if m.level == "poem":
            assert all(m.name in s for s in scores), m.name
    # the report reads what scoring kept: per-line stresses, meters and rhyme letters
    assert all({"accented", "meter", "rhyme"} <= set(s["line_scans"][0]) for s in scores if s["line_scans"])
    # and the best value is chosen by the metric's direction
    from poetbench.metrics.registry import get

    assert get("copied_line_share").better([0.5, 0.1]) == 0.1 and get("p_target").better([0.5, 0.1]) == 0.5
    assert get("words").better([1, 2]) is None


def test_eval_across_two_processes_gives_the_rows_of_one(run, tmp_path):
    """`accelerate launch --multi_gpu -m poetbench eval` with 2 CPU processes over gloo: each rank
    generates its share of the batches into its own file, rank 0 merges them (in job order) and
    scores; the rows and keys are those of one process."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from poetbench.config import save_config

    cfg, opts, tmp = run
    launcher = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    if not Path(launcher).exists():
        pytest.skip("accelerate's launcher is not installed")
    save_config(cfg, tmp_path / "c.toml")
    args = ["eval", "--config", str(tmp_path / "c.toml"), "--adapters", str(opts.adapters), "--samples", "2",
            "--themes", "3", "--max-new-tokens", "16", "--batch-size", "2", "--no-lm", "--quiet"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}  # same threads: same float sums
    one = subprocess.run([sys.executable, "-m", "poetbench", *args, "--output-dir", str(tmp_path / "one")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([launcher, *launch_args(), "-m", "poetbench", *args,
                          "--output-dir", str(tmp_path / "two")], env=env, capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    rows = {name: [json.loads(line) for line in (tmp_path / name / GENERATIONS).read_text().splitlines()]
            for name in ("one", "two")}
    assert [r["key"] for r in rows["one"]] == [r["key"] for r in rows["two"]]  # the same rows, in the same order
    assert [r["text"] for r in rows["one"]] == [r["text"] for r in rows["two"]]
    assert not list((tmp_path / "two").glob("generations.rank*"))
    assert (tmp_path / "two" / "scores.jsonl").exists() and two.stdout.count("outputs:") == 1  # rank 0 reports


def test_benjamini_hochberg_q_values():
    from poetbench.eval.stats import add_q_values, disagrees, is_significant

    comps = add_q_values([{"p_value": p, "ci_low": lo, "ci_high": hi}
                          for p, lo, hi in ((0.001, 0.1, 0.2), (0.04, 0.01, 0.2), (0.5, -0.1, 0.1), (float("nan"), 0, 0))])
    assert [round(c["q_value"], 4) for c in comps] == [0.004, 0.08, 0.6667, 1.0]
    assert is_significant(comps[0]) and not is_significant(comps[1])  # p 0.04 alone would have been
    assert disagrees(comps[1]) and not disagrees(comps[0]) and not disagrees(comps[2])


def test_score_poems_made_elsewhere(run, tmp_path):
    """`poetbench score --poems FILE --name NAME`: an eval run's files, the model row and the
    reference rows, a report; a bad row is one error naming line and field."""
    import random

    from poetbench.cli import cli
    from poetbench.config import save_config
    from tests.conftest import VOCAB, make_poem

    cfg, opts, tmp = run
    save_config(cfg, tmp_path / "c.toml")
    rng = random.Random(3)
    poems = tmp_path / "poems.jsonl"
    poems.write_text("".join(json.dumps({"author": a, "text": make_poem(rng, VOCAB[a]), "theme": "осень"},
                                        ensure_ascii=False) + "\n" for a in ("alpha", "beta") for _ in range(3)),
                     encoding="utf-8")
    out = tmp_path / "scored"
    result = CliRunner().invoke(cli, ["score", "--config", str(tmp_path / "c.toml"), "--poems", str(poems),
                                      "--name", "human", "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    for name in ("generations.jsonl", "scores.jsonl", "summary.csv", "summary.json", "run.json", "report.html"):
        assert (out / name).exists(), name
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert {s["model"] for s in scores} == {"human", "reference"} and sum(s["model"] == "human" for s in scores) == 6
    counts = json.loads((out / "run.json").read_text())["reference"]["poems"]
    assert counts == {a: sum(s["model"] == "reference" and s["author"] == a for s in scores) for a in ("alpha", "beta")}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"author": "alpha", "text": "Строка"}\n{"author": "nobody", "text": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["score", "--config", str(tmp_path / "c.toml"), "--poems", str(bad),
                                      "--name", "x", "--output-dir", str(tmp_path / "bad-out")])
    assert result.exit_code == 2 and "bad.jsonl:2 field 'author'" in result.output
    assert not (tmp_path / "bad-out").exists()
    # the same file added to an eval run with --also: one more model row in its scores and summary
    result = CliRunner().invoke(cli, ["eval", "--config", str(tmp_path / "c.toml"), "--adapters", str(opts.adapters),
                                      "--samples", "1", "--themes", "1", "--max-new-tokens", "12", "--no-lm",
                                      "--quiet", "--output-dir", str(tmp_path / "with-also"),
                                      "--also", f"{poems}:human"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "with-also" / "summary.json").read_text())["summary"]
    assert {"base", "human", "reference"} <= {r["model"] for r in summary}
    result = CliRunner().invoke(cli, ["eval", "--config", str(tmp_path / "c.toml"), "--adapters", str(opts.adapters),
                                      "--output-dir", str(tmp_path / "also-bad"), "--also", f"{bad}:x"])
    assert result.exit_code == 2 and "bad.jsonl:2 field 'author'" in result.output


def test_library_calls_read_the_stress_dictionaries_of_the_workspace_they_are_given(run, tmp_path, monkeypatch):
    """score_poems (and run_eval, rescore_run) with a workspace of their own, no POETBENCH_PROSODY_DIR and
    no ../shared beside the current folder: the scans read that workspace's dictionaries, and the
    environment is as it was after."""
    import os

    from poetbench.eval.external import score_poems
    from poetbench.workspace import Workspace

    cfg, opts, tmp = run
    prosody = os.environ["POETBENCH_PROSODY_DIR"]
    poems = tmp_path / "poems.jsonl"
    poems.write_text('{"author": "alpha", "text": "Строка раз\\nСтрока два\\nСтрока три\\nСтрока четыре"}\n',
                     encoding="utf-8")
    monkeypatch.delenv("POETBENCH_PROSODY_DIR")
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    ws = Workspace.from_env(prosody_dir=prosody)
    result = score_poems(cfg, poems, "api", tmp_path / "scored", log=lambda m: None, ws=ws)
    assert any(r["model"] == "api" for r in result.summary) and "POETBENCH_PROSODY_DIR" not in os.environ


def test_score_poems_keeps_empty_outputs_as_failures(run, tmp_path):
    """Another system's empty output is scored, as eval scores an empty generation (dropping it would
    flatter that system); a text that is missing or not a string is still an error naming the line."""
    from poetbench.eval.external import score_poems
    from poetbench.eval.plan import make_plan
    from poetbench.workspace import Workspace

    cfg, opts, tmp = run
    poems = tmp_path / "poems.jsonl"
    poems.write_text('{"author": "alpha", "text": ""}\n{"author": "alpha", "text": "  "}\n', encoding="utf-8")
    notes = []
    result = score_poems(cfg, poems, "api", tmp_path / "scored", log=notes.append)
    rows = [json.loads(line) for line in (tmp_path / "scored" / "scores.jsonl").read_text().splitlines()]
    empty = [r for r in rows if r["model"] == "api"]
    assert len(empty) == 2 and all(r["p_target"] < 0.5 and r["regularity"] == 0 for r in empty)
    assert any("2 of the 2 poems of api are empty" in n for n in notes)
    assert {(r["model"], r["author"]) for r in result.summary} >= {("api", "alpha")}
    plan = make_plan(cfg, EvalOptions(**{**opts.__dict__, "also": [f"{poems}:api"], "output_dir": tmp_path / "also"}),
                     Workspace.from_env(), notes.append)  # the same file added to an eval run
    assert len(plan.also_rows) == 2 and sum("2 of the 2 poems of api are empty" in n for n in notes) == 2
    poems.write_text('{"author": "alpha", "text": null}\n', encoding="utf-8")
    with pytest.raises(PoetbenchError, match=r"poems.jsonl:1 field 'text': missing or not a string"):
        score_poems(cfg, poems, "api", tmp_path / "none", log=notes.append)
