"""End-to-end training on synthetic corpora with a micro model (seconds on a CPU)."""

import csv
import json
from pathlib import Path

import pytest

from poetbench.errors import PoetbenchError
from poetbench.train import MANIFEST, TRAIN_COLUMNS, run_name, train
from tests.conftest import launch_args, micro_config, module_workspace


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """alpha and beta trained once for the module."""
    env, mp = module_workspace(tmp_path_factory.mktemp("train"))
    cfg = micro_config(env)
    out = env["tmp"] / "run"
    result = train(cfg, output_dir=out, cache_dir=env["tmp"] / "cache", log=lambda m: None)
    yield cfg, out, result, env
    mp.undo()


def _losses(history):
    return [e["loss"] for e in history if "loss" in e]


def test_training_lowers_loss_and_writes_peft_folders(trained):
    cfg, out, result, env = trained
    assert [r.author for r in result.results] == ["alpha", "beta"]
    base = json.loads((Path(result.base_model) / "poetbench_base.json").read_text())
    assert base["pretrain_loss_last"] < base["pretrain_loss_first"]
    for author in ("alpha", "beta"):
        folder = out / author
        assert (folder / "adapter_model.safetensors").exists() and (folder / "adapter_config.json").exists()
        m = json.loads((folder / MANIFEST).read_text())
        losses = _losses(m["log_history"])
        assert losses[-1] < losses[0]
        for key in ("base_model", "corpus", "prompts", "hyperparameters", "seed", "versions", "wall_time_s", "metrics"):
            assert key in m
        assert set(m["versions"]) >= {"torch", "transformers", "peft", "trl"}
        assert m["corpus"]["train_poems"] > 20 and len(m["corpus"]["sha256"]) == 64
        assert m["hyperparameters"]["lora_r"] == 8 and m["hyperparameters"]["lora_target_modules"] == "all-linear"
        assert set(TRAIN_COLUMNS) <= set(m["metrics"]["train"])
        assert {"eval_loss", "eval_entropy", "eval_mean_token_accuracy"} <= set(m["metrics"]["val"])
        assert "{theme}" in m["prompts"]["train_template"]
    assert not (out / ".checkpoints" / "alpha").exists()  # removed once the adapter is complete


def test_adapter_loads_with_peft_and_changes_output(trained):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg, out, result, env = trained
    tok = AutoTokenizer.from_pretrained(result.base_model)
    base = AutoModelForCausalLM.from_pretrained(result.base_model)
    ids = tok.apply_chat_template([{"role": "user", "content": "Напиши стихотворение"}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        before = base(ids).logits
        model = PeftModel.from_pretrained(base, str(out / "alpha"))
        after = model(ids).logits
    assert not torch.allclose(before, after)


def test_training_csv_matches_log_history(trained):
    cfg, out, result, env = trained
    rows = list(csv.DictReader(open(result.training_csv, encoding="utf-8")))
    assert [r["author"] for r in rows] == ["alpha", "beta"]
    assert list(rows[0])[:6] == ["author", "Loss", "Grad Norm", "Entropy", "Num Tokens", "Mean Token Accuracy"]
    m = json.loads((out / "alpha" / MANIFEST).read_text())
    last = [e for e in m["log_history"] if "loss" in e][-1]
    assert float(rows[0]["Loss"]) == pytest.approx(last["loss"])
    assert float(rows[0]["Mean Token Accuracy"]) == pytest.approx(last["mean_token_accuracy"])


def test_training_table_never_replaces_an_eval_runs_own(trained):
    """With the default folders the table goes to reports/<run>/ (where eval looks) and beside the
    adapters; once an eval run owns reports/<run>/, its training.csv is that run's file and stays."""
    from poetbench.workspace import Workspace

    cfg, out, result, env = trained
    project = env["tmp"] / "project"
    project.mkdir()
    ws = Workspace.from_env(project=project)
    name = run_name(cfg, ws.root)
    first = train(cfg, cache_dir=env["tmp"] / "cache", ws=ws, log=lambda m: None)
    table = (ws.reports / name / "training.csv")
    assert first.training_csv == table and (ws.adapters / name / "training.csv").read_text() == table.read_text()
    (ws.reports / name / "run.json").write_text("{}", encoding="utf-8")
    table.write_text("the eval run's own table\n", encoding="utf-8")
    said = []
    again = train(cfg, cache_dir=env["tmp"] / "cache", ws=ws, log=said.append)
    assert again.training_csv == ws.adapters / name / "training.csv" and again.training_csv.read_text().startswith("author,")
    assert table.read_text(encoding="utf-8") == "the eval run's own table\n"
    assert any("holds an eval run" in m for m in said)


def test_rerun_skips_complete_adapters_and_force_retrains(trained):
    cfg, out, result, env = trained
    stamp = (out / "alpha" / MANIFEST).stat().st_mtime_ns
    again = train(cfg, output_dir=out, cache_dir=env["tmp"] / "cache", log=lambda m: None)
    assert all(r.skipped for r in again.results)
    assert (out / "alpha" / MANIFEST).stat().st_mtime_ns == stamp
    from poetbench.generation.adapters import adapter_sha256

    before = adapter_sha256(out / "alpha")
    forced = train(cfg.replace(authors=["alpha"]), output_dir=out, force=True, cache_dir=env["tmp"] / "cache",
                   log=lambda m: None)
    assert not forced.results[0].skipped
    assert (out / "alpha" / MANIFEST).stat().st_mtime_ns != stamp
    # the same training gives the same adapter files (target_modules written sorted), so the same hash
    assert adapter_sha256(out / "alpha") == before
    modules = json.loads((out / "alpha" / "adapter_config.json").read_text())["target_modules"]
    assert modules == sorted(modules)


def test_resume_continues_from_checkpoint(corpus_env, monkeypatch):
    """Interrupt after the first checkpoint, then --resume finishes from it, not from step 0."""
    from transformers import TrainerCallback

    import poetbench.train.runner as T

    cfg = micro_config(corpus_env, authors=["alpha"])
    out = corpus_env["tmp"] / "run"
    cache = corpus_env["tmp"] / "cache"

    class Boom(TrainerCallback):
        def on_save(self, args, state, control, **kw):
            if state.global_step == 4:
                raise KeyboardInterrupt

    real = T.progress_callback
    monkeypatch.setattr(T, "progress_callback", lambda p, d: Boom() if d.startswith("train") else real(p, d))
    with pytest.raises(KeyboardInterrupt):
        train(cfg, output_dir=out, cache_dir=cache, log=lambda m: None)
    assert not (out / "alpha").exists()
    assert (out / ".checkpoints" / "alpha" / "checkpoint-4").exists()
    monkeypatch.setattr(T, "progress_callback", real)
    train(cfg, output_dir=out, resume=True, cache_dir=cache, log=lambda m: None)
    m = json.loads((out / "alpha" / MANIFEST).read_text())
    assert m["effective"]["resumed_from"].endswith("checkpoint-4")
    steps = [e["step"] for e in m["log_history"] if "loss" in e]
    assert steps == list(range(1, 9))  # steps 1-4 restored from the checkpoint, 5-8 trained: none twice


def test_run_name_is_deterministic_and_ignores_author_list(corpus_env):
    cfg = micro_config(corpus_env)
    assert run_name(cfg) == run_name(cfg.replace(authors=["gamma"]))
    assert run_name(cfg) != run_name(cfg.replace(lora_r=4))
    assert run_name(cfg).startswith("tiny-")


@pytest.mark.parametrize("changes,message", [
    ({"authors": ["nobody"]}, "unknown author 'nobody'"),
    ({"authors": ["missing"]}, "no texts for 'missing'"),
    ({"authors": ["alpha"], "min_train_poems": 500}, "at least 500 are needed"),
    ({"base_model": "/nonexistent/model"}, "cannot load base model"),
])
def test_bad_input_is_one_clear_error(corpus_env, changes, message):
    cfg = micro_config(corpus_env, **changes)
    with pytest.raises(PoetbenchError, match=message):
        train(cfg, output_dir=corpus_env["tmp"] / "run", cache_dir=corpus_env["tmp"] / "cache", log=lambda m: None)


def test_accelerate_launch_two_processes_gloo(corpus_env, tmp_path):
    """`accelerate launch -m poetbench train` runs data-parallel unchanged (2 CPU processes, gloo)."""
    import os
    import shutil
    import subprocess
    import sys

    from poetbench.config import save_config

    launcher = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    if not Path(launcher).exists():
        pytest.skip("accelerate's launcher is not installed")
    cfg = micro_config(corpus_env, authors=["alpha"])
    save_config(cfg, tmp_path / "c.toml")
    # the multi-GPU launch line as a GPU user types it; with no GPU visible each rank trains on the CPU
    # and the process group uses gloo
    env = {**os.environ, "POETBENCH_CACHE": str(tmp_path / "cache"), "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([launcher, *launch_args(), "-m", "poetbench", "train",
                           "--config", str(tmp_path / "c.toml"), "--output-dir", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((tmp_path / "out" / "alpha" / MANIFEST).read_text())
    assert manifest["effective"]["world_size"] == 2
    losses = _losses(manifest["log_history"])
    assert losses[-1] < losses[0]
    assert (tmp_path / "out" / "alpha" / "adapter_model.safetensors").exists()
    assert proc.stdout.count("Training — run") == 1  # rank 0 reports, once
