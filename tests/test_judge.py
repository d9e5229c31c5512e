"""An absolute scale: detectability (classifier two-sample AUC), the open-set judge's `other` class,
the pinned judge (recorded, kept when another author arrives, `score RUN_DIR --judge KEY`) and the
pinned tiny base."""

import json
import random

import numpy as np
import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.config import SamplingParams
from poetbench.errors import PoetbenchError
from poetbench.eval import EvalOptions, run_eval
from poetbench.style.detect import auc, halves, two_sample_auc
from poetbench.style.openset import other_weight
from tests.conftest import VOCAB, make_poem, trained_workspace, write_corpus

# "other" verse: words of every synthetic poet and some of its own, so it is near them all
OTHER_WORDS = "сад окно весна утро свеча письмо".split() + VOCAB["alpha"][:4] + VOCAB["beta"][:4] + VOCAB["gamma"][:4]


def write_other(path, n=80, quote=None):
    rng = random.Random("other")
    rows = [{"poem_text": make_poem(rng, OTHER_WORDS)} for _ in range(n)]
    if quote:
        rows[0]["poem_text"] = quote + "\n" + rows[0]["poem_text"]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# detectability
# --------------------------------------------------------------------------------------------


def test_auc_is_the_mann_whitney_statistic():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(30, int), np.zeros(40, int)]
    s = rng.normal(size=70) + y * 0.7
    s[:5] = s[40:45]  # ties count half
    assert auc(y, s)[0] == pytest.approx(roc_auc_score(y, s))


def test_two_sample_auc_is_near_half_for_one_distribution_and_near_one_for_two():
    rng = np.random.default_rng(1)
    same = [two_sample_auc(rng.normal(size=(40, 30)), rng.normal(size=(40, 30)), seed=k)[0] for k in range(20)]
    assert abs(np.mean(same) - 0.5) < 0.1
    value, low, high = two_sample_auc(rng.normal(size=(40, 30)) + 1.0, rng.normal(size=(60, 30)), seed=0)
    assert value > 0.95 and low <= value <= high <= 1.0
    a = rng.normal(size=(50, 10))
    x, y, _, _ = halves(a, seed=3)
    assert x.shape == y.shape == (25, 10) and not set(map(tuple, x)) & set(map(tuple, y))
    works = [i // 2 for i in range(50)]  # pairs of parts of one work go to the same half
    _, _, gx, gy = halves(a, seed=3, groups=works)
    assert not set(gx) & set(gy) and abs(len(gx) - len(gy)) <= 2
    assert all(np.isnan(two_sample_auc(a[:3], a[3:])))  # too few poems: no figure


# --------------------------------------------------------------------------------------------
# the open-set class
# --------------------------------------------------------------------------------------------


def test_other_weight_sends_at_most_the_allowed_share_of_poets_to_other():
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 1, 1000)  # P(other) of the poets' poems (out of fold)
    best = rng.uniform(0.4, 1, 1000)  # the closed-set model's top poet
    w = other_weight(q, best, 0.01)
    odds = w * q / (1 - q)
    s = odds / (1 + odds)
    assert 0 < w <= 1 and np.mean(s > (1 - s) * best) <= 0.011
    assert other_weight(np.full(10, 0.01), np.full(10, 0.9), 0.01) == 1.0  # never raised above 1


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Micro adapters for alpha and beta, an `other` corpus (one poem quoting alpha), and one eval run."""
    tmp = tmp_path_factory.mktemp("judge")
    (tmp / "texts").mkdir(parents=True, exist_ok=True)
    write_corpus(tmp / "texts" / "alpha.jsonl", "alpha", 60)
    alpha_line = next(  # a line of over 20 letters found in alpha's corpus
        ln for ln in json.loads((tmp / "texts" / "alpha.jsonl").read_text().splitlines()[0])["text"]
                      .split("\n") if sum(c.isalpha() for c in ln) > 20)
    write_other(tmp / "texts" / "other.jsonl", quote=alpha_line)
    extra = '[authors.other]\nname = "Другие"\npath = "other.jsonl"\nfields = {text = "poem_text"}\n'
    env, mp, cfg = trained_workspace(tmp, extra)
    opts = EvalOptions(models="base,lora", adapters=tmp / "adapters", samples=3, themes=2, output_dir=tmp / "out",
                       batch_size=6, params=SamplingParams(max_new_tokens=24))
    result = run_eval(cfg, opts, log=lambda m: None)
    yield env, cfg, opts, result, tmp
    mp.undo()


def test_open_set_judge_has_an_other_class_and_leaves_out_quoting_poems(judged):
    from poetbench.style.store import load

    env, cfg, opts, result, tmp = judged
    judge = result.run["classifier"]
    assert "other" in judge["classes"] and {"alpha", "beta", "gamma"} <= set(judge["classes"])
    assert judge["other"]["left_out"] >= 1 and "line" in judge["other"]["rule"]
    model = load(judge["path"])
    assert model.meta["train_poems_per_class"]["other"] > 0
    # the poets' real held-out poems are attributed as without the class; other verse is "other"
    from poetbench import corpus as C

    poets = [r["text"] for a in ("alpha", "beta", "gamma") for r in C.load_records(cfg.corpus_dir, a, "test")]
    assert sum(p == "other" for p in model.predict(poets)) <= max(1, len(poets) // 50)
    rng = random.Random("fresh other")
    fresh = [make_poem(rng, OTHER_WORDS[:6] * 3 + OTHER_WORDS) for _ in range(20)]
    assert sum(p == "other" for p in model.predict(fresh)) >= 10
    # the tiny base was not pretrained on `other` (a declared pretraining set)
    assert "other" not in cfg.tiny.pretrain_authors


def test_config_refuses_other_as_an_author_to_imitate(judged):
    env, cfg, *_ = judged
    with pytest.raises(PoetbenchError, match="not an author to imitate"):
        cfg.replace(authors=["alpha", "other"]).__post_init__()


def test_classifier_predict_attributes_one_poem_from_a_file_or_standard_input(judged):
    """`classifier predict FILE` (or -): a table of the classes' probabilities, or `--json` the row that
    `--jsonl` writes for the same text."""
    from poetbench.config import save_config

    env, cfg, opts, result, tmp = judged
    save_config(cfg, tmp / "predict.toml")
    poem = make_poem(random.Random("predict"), VOCAB["alpha"])
    (tmp / "poem.txt").write_text(poem, encoding="utf-8")
    (tmp / "poem.jsonl").write_text(json.dumps({"text": poem}, ensure_ascii=False) + "\n", encoding="utf-8")
    common = ["classifier", "predict", "--config", str(tmp / "predict.toml")]
    batch = CliRunner().invoke(cli, common + ["--jsonl", str(tmp / "poem.jsonl")])
    one = CliRunner().invoke(cli, common + [str(tmp / "poem.txt"), "--json"])
    piped = CliRunner().invoke(cli, common + ["-", "--json"], input=poem)
    assert batch.exit_code == one.exit_code == piped.exit_code == 0, batch.output + one.output
    row = json.loads(batch.stdout.strip())
    assert json.loads(one.stdout) == json.loads(piped.stdout) == row
    table = CliRunner().invoke(cli, common + [str(tmp / "poem.txt")])
    assert table.exit_code == 0 and f"reads as {row['author']}" in table.output
    assert all(a in table.output for a in row["proba"])
    both = CliRunner().invoke(cli, common + [str(tmp / "poem.txt"), "--jsonl", str(tmp / "poem.jsonl")])
    assert both.exit_code == 2 and "give a FILE" in both.output


def test_detect_auc_is_in_the_summary_with_a_ci_and_the_reference_near_half(judged):
    env, cfg, opts, result, tmp = judged
    rows = [r for r in result.summary if r["metric"] == "detect_auc"]
    by = {(r["model"], r["author"]): r for r in rows}
    assert {("reference", "alpha"), ("base", "alpha"), ("lora:alpha", "alpha")} <= set(by)
    from poetbench import corpus as C

    for r in rows:
        test_poems = len(C.load_records(cfg.corpus_dir, r["author"], "test"))
        enough = min(r["n"], test_poems) >= 4 if r["model"] != "reference" else test_poems >= 8
        assert (0 <= r["mean"] <= 1 and r["ci_low"] <= r["mean"] <= r["ci_high"]) if enough else np.isnan(r["mean"])
    # the micro base's poems are told from the real ones
    assert by[("base", "alpha")]["mean"] >= 0.75, by[("base", "alpha")]
    from poetbench.report.html import write_report

    html = write_report(opts.output_dir).read_text(encoding="utf-8")
    assert "detectability" in html and "other" in html


# --------------------------------------------------------------------------------------------
# the pinned judge and base
# --------------------------------------------------------------------------------------------


def test_a_new_author_changes_neither_the_runs_judge_nor_the_tiny_base(judged, monkeypatch):
    from poetbench.corpus.build import prepare_corpora
    from poetbench.models.tiny import ensure_tiny_base
    from poetbench.style.classifier import ensure_classifier

    env, cfg, opts, result, tmp = judged
    def p_targets():
        rows = [json.loads(line) for line in (opts.output_dir / "scores.jsonl").read_text().splitlines()]
        return {r["key"]: r["p_target"] for r in rows}

    before = p_targets()
    old_key = result.run["classifier"]["key"]
    _, metas = prepare_corpora(cfg, authors=[], log=lambda m: None)
    base = ensure_tiny_base(cfg, metas, log=lambda m: None)
    # a new author arrives (imported into the authors file)
    write_corpus(tmp / "texts" / "delta.jsonl", "gamma", 40, seed=7)
    with open(env["authors_file"], "a", encoding="utf-8") as f:
        f.write('[authors.delta]\nname = "Дельта Поэт"\npath = "delta.jsonl"\n')
    _, metas = prepare_corpora(cfg, authors=[], log=lambda m: None)
    assert "delta" in metas
    assert ensure_tiny_base(cfg, metas, log=lambda m: None) == base  # the base of existing adapters stays
    new_key = ensure_classifier(cfg, log=lambda m: None).path.name
    assert new_key != old_key  # a new run's judge knows delta ...
    # ... while the existing run, scored again, keeps its own judge and figures
    out = CliRunner().invoke(cli, ["score", str(opts.output_dir), "--preset", "tiny", "--authors-file", str(env["authors_file"]),
                                   "--corpus-dir", str(env["corpus_dir"]), "--quiet"])
    assert out.exit_code == 0, out.output
    run = json.loads((opts.output_dir / "run.json").read_text())
    assert run["classifier"]["key"] == old_key and run["rescored"]["previous_judge"] == old_key
    again = p_targets()
    assert again.keys() == before.keys() and all(again[k] == pytest.approx(before[k]) for k in before)
    assert list(opts.output_dir.glob("replaced-*/scores.jsonl"))  # the files it rewrote were kept
    # --judge KEY: the same poems scored by another judge (no generation)
    gen_before = (opts.output_dir / "generations.jsonl").read_bytes()
    out = CliRunner().invoke(cli, ["score", str(opts.output_dir), "--preset", "tiny", "--judge", new_key, "--authors-file",
                                   str(env["authors_file"]), "--corpus-dir", str(env["corpus_dir"]), "--quiet"])
    assert out.exit_code == 0, out.output
    run = json.loads((opts.output_dir / "run.json").read_text())
    assert run["classifier"]["key"] == new_key and "delta" in run["classifier"]["classes"]
    assert (opts.output_dir / "generations.jsonl").read_bytes() == gen_before
    out = CliRunner().invoke(cli, ["score", str(opts.output_dir), "--preset", "tiny", "--judge", "0000000000000000", "--authors-file",
                                   str(env["authors_file"]), "--corpus-dir", str(env["corpus_dir"])])
    assert out.exit_code != 0 and out.output.startswith("Error:") and "no judge" in out.output


def test_a_changed_pretraining_corpus_is_named_when_the_old_base_is_gone(judged, tmp_path, monkeypatch):
    import shutil

    from poetbench.corpus.build import prepare_corpora
    from poetbench.eval.plan import make_plan
    from poetbench.workspace import Workspace

    env, cfg, opts, result, tmp = judged
    # eval uses the base the adapters name while it is cached, whatever the corpora are now
    write_corpus(tmp / "texts" / "beta.jsonl", "beta", 61)  # beta's corpus changes
    plan = make_plan(cfg, EvalOptions(models="base,lora", adapters=tmp / "adapters", output_dir=tmp_path / "o"),
                     Workspace.from_env(), lambda m: None)
    assert plan.base_id == result.run["base"]["id"]
    # once that base is gone from the cache, the error says what changed
    cache = tmp / "cache" / "tiny-base"
    moved = tmp_path / "kept"
    shutil.move(str(cache), str(moved))
    try:
        with pytest.raises(PoetbenchError) as e:
            make_plan(cfg, EvalOptions(models="base,lora", adapters=tmp / "adapters", output_dir=tmp_path / "o2"),
                      Workspace.from_env(), lambda m: None)
        assert "beta's corpus changed" in str(e.value) and "Restore" in str(e.value)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.move(str(moved), str(cache))
        write_corpus(tmp / "texts" / "beta.jsonl", "beta", 60)
        prepare_corpora(cfg, authors=[], log=lambda m: None)


def test_eval_takes_its_base_from_the_adapters_manifests(judged, tmp_path):
    """No --preset or --config: the adapters' manifests name the (micro tiny) base; an explicit
    preset that disagrees is the only error."""
    env, cfg, opts, result, tmp = judged
    common = ["--authors-file", str(env["authors_file"]), "--corpus-dir", str(env["corpus_dir"]), "--models",
              "base,lora", "--adapters", str(tmp / "adapters"), "--samples", "1", "--themes", "1", "--no-lm",
              "--max-new-tokens", "12", "--quiet"]
    out = CliRunner().invoke(cli, ["eval", *common, "--output-dir", str(tmp_path / "a")])
    assert out.exit_code == 0, out.output
    assert "as the adapters' manifests name it" in out.output
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["base"]["id"] == result.run["base"]["id"] and run["config"]["preset"] == "tiny"
    out = CliRunner().invoke(cli, ["eval", "--preset", "seed", *common, "--output-dir", str(tmp_path / "b")])
    assert out.exit_code != 0 and out.output.startswith("Error:") and "trained on base 'tiny'" in out.output
    # bad options: their Error line alone, not the base's note before it
    out = CliRunner().invoke(cli, ["eval", *common, "--themes", "0", "--output-dir", str(tmp_path / "c")])
    assert out.exit_code == 2 and out.output.startswith("Error:") and len(out.output.splitlines()) == 1, out.output


def test_prompt_controls_are_rows_with_paired_comparisons(judged, tmp_path):
    """--controls: base:anon (no poet named) and lora:<a>@<b> (another poet named), compared paired
    with base and with the adapter; resumable like any run."""
    env, cfg, opts, result, tmp = judged
    o = EvalOptions(models="base,lora", adapters=tmp / "adapters", samples=2, themes=2, output_dir=tmp_path / "c",
                    batch_size=4, params=SamplingParams(max_new_tokens=16), controls=True, lm=False)
    res = run_eval(cfg, o, log=lambda m: None)
    rows = [json.loads(line) for line in (tmp_path / "c" / "generations.jsonl").read_text().splitlines()]
    models = {r["model"] for r in rows}
    assert {"base", "base:anon", "lora:alpha", "lora:beta", "lora:alpha@beta", "lora:beta@alpha"} == models
    anon = [r for r in rows if r["model"] == "base:anon"]
    assert anon and all("Поэт" not in r["prompt"] for r in anon)
    assert all("Beta Поэт" in r["prompt"] and r["author"] == "alpha" for r in rows if r["model"] == "lora:alpha@beta")
    assert len({r["key"] for r in rows}) == len(rows)  # base:anon's poems per author are samples of their own
    against = {(c["model"], c.get("against")) for c in res.comparisons}
    assert {("lora:alpha", None), ("base:anon", "base"), ("lora:alpha@beta", "lora:alpha")} <= against
    assert res.run["options"]["controls"] and "anon_template" in res.run["identity"]["controls"]
    assert {(r["model"], r["author"]) for r in res.summary} >= {("base:anon", "alpha"), ("lora:beta@alpha", "beta")}
    again = run_eval(cfg, o, log=lambda m: None)  # resumes: nothing generated again
    assert again.run["timings"]["generated"] == 0
    first = res.run["timings"]  # ... and keeps how fast the first run made the poems
    assert again.run["timings"]["earlier"] == [{"generation_s": first["generation_s"], "generated": first["generated"],
                                                "poems_per_s": first["poems_per_s"], "batch_size": 4}]
    assert run_eval(cfg, o, log=lambda m: None).run["timings"]["earlier"] == again.run["timings"]["earlier"]
    from poetbench.eval.plan import earlier_generation

    assert earlier_generation({"timings": {"earlier": 5, "generated": True}}) == []  # a hand-edited run.json
    from poetbench.eval.rescore import rescore_run

    rescored = rescore_run(cfg, tmp_path / "c", log=lambda m: None)  # the controls survive scoring again
    assert {(c["model"], c.get("against")) for c in rescored.comparisons} == against
    from poetbench.report.html import write_report

    html = write_report(tmp_path / "c").read_text(encoding="utf-8")
    assert "lora:alpha@beta − lora:alpha" in html
    assert f"an earlier run generated {first['generated']} in {first['generation_s']} s" in html


def test_training_seeds_widen_the_cis_with_the_variance_between_runs(judged, tmp_path):
    """train --seeds 1,2: one adapter per author and seed; eval pools them into one row per adapter
    with n_seeds = 2 and a two-level CI (seeds, then prompts)."""
    from poetbench.eval.stats import bootstrap_ci, two_level_ci
    from poetbench.train import train

    env, cfg, opts, result, tmp = judged
    seeds_cfg = cfg.replace(seeds=[1, 2])
    res = train(seeds_cfg, output_dir=tmp_path / "adapters", log=lambda m: None)
    assert sorted(p.name for p in (tmp_path / "adapters").iterdir() if (p / "poetbench.json").exists()) == [
        "alpha-seed1", "alpha-seed2", "beta-seed1", "beta-seed2"]
    manifest = json.loads((tmp_path / "adapters" / "alpha-seed2" / "poetbench.json").read_text())
    assert manifest["train_seed"] == 2 and manifest["seed"] == 2
    assert [r.seed for r in res.results] == [1, 2, 1, 2]
    o = EvalOptions(models="base,lora", adapters=tmp_path / "adapters", samples=3, themes=2, output_dir=tmp_path / "e",
                    batch_size=6, params=SamplingParams(max_new_tokens=16), lm=False, controls=True)
    ev = run_eval(cfg, o, log=lambda m: None)
    rows = [json.loads(line) for line in (tmp_path / "e" / "generations.jsonl").read_text().splitlines()]
    assert {r.get("weights") for r in rows if r["model"] == "lora:alpha"} == {"lora:alpha#seed1", "lora:alpha#seed2"}
    summary = {(r["model"], r["author"], r["metric"]): r for r in ev.summary}
    row = summary[("lora:alpha", "alpha", "regularity")]
    assert row["n_seeds"] == 2 and row["n"] == 2 * 2 * 3 and summary[("base", "alpha", "regularity")]["n_seeds"] == 1
    comp = next(c for c in ev.comparisons if c["model"] == "lora:alpha" and c["metric"] == "regularity")
    assert comp["n_seeds"] == 2
    # a control of a two-seed adapter: one row, each seed paired with the same seed of the adapter
    control = next(c for c in ev.comparisons if c["model"] == "lora:alpha@beta" and c["metric"] == "regularity")
    assert control["against"] == "lora:alpha" and control["n_seeds"] == 2
    assert {r.get("weights") for r in rows if r["model"] == "lora:alpha@beta"} == {"lora:alpha#seed1", "lora:alpha#seed2"}
    # the two-level interval is wider than one that takes the two seeds' poems as one sample
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.normal(0.0, 0.1, 60), rng.normal(0.5, 0.1, 60)
    _, lo2, hi2 = two_level_ci([a, b])
    _, lo1, hi1 = bootstrap_ci(np.r_[a, b])
    assert hi2 - lo2 > hi1 - lo1
    from poetbench.report.html import write_report

    assert "pools 2 training seeds" in write_report(tmp_path / "e").read_text(encoding="utf-8")
    assert "was not measured" in write_report(opts.output_dir).read_text(encoding="utf-8")
