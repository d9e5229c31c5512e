"""Runs killed with SIGKILL resume to the same results; the same seed gives the same outputs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from poetbench.config import save_config
from tests.conftest import SHARED, micro_config



def _env(tmp: Path) -> dict:
    return {**os.environ, "POETBENCH_CACHE": str(tmp / "cache"), "POETBENCH_CLASSIFIER_DIR": str(tmp / "classifiers")}


def _cli(args, tmp, **kw):
    return subprocess.Popen([sys.executable, "-m", "poetbench.cli", *map(str, args)], env=_env(tmp),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _kill_when(proc, condition, timeout=240):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the run neither reached the kill point nor finished")


def _finish(args, tmp):
    proc = _cli(args, tmp)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def test_train_killed_then_resumed_matches_uninterrupted(corpus_env, tmp_path):
    import torch

    cfg = micro_config(corpus_env, authors=["alpha"], max_steps=40, save_steps=5, logging_steps=5)
    save_config(cfg, tmp_path / "c.toml")
    _finish(["train", "--config", tmp_path / "c.toml", "--output-dir", tmp_path / "full"], tmp_path)
    killed_dir = tmp_path / "killed"
    proc = _cli(["train", "--config", tmp_path / "c.toml", "--output-dir", killed_dir], tmp_path)
    reached = _kill_when(proc, lambda: any((killed_dir / ".checkpoints" / "alpha").glob("checkpoint-*/trainer_state.json")))
    if not reached:
        pytest.skip("training finished before it could be killed on this machine")
    assert not (killed_dir / "alpha" / "poetbench.json").exists()
    _finish(["train", "--config", tmp_path / "c.toml", "--output-dir", killed_dir, "--resume"], tmp_path)
    manifest = json.loads((killed_dir / "alpha" / "poetbench.json").read_text())
    assert manifest["effective"]["resumed_from"] is not None
    full, resumed = _weights(tmp_path / "full" / "alpha"), _weights(killed_dir / "alpha")
    assert full.keys() == resumed.keys()
    for k in full:
        assert torch.allclose(full[k], resumed[k], atol=1e-5), k


def test_eval_killed_then_rerun_has_every_row_once_and_the_same(corpus_env, tmp_path, monkeypatch):
    from poetbench.train import train

    cfg = micro_config(corpus_env)
    save_config(cfg, tmp_path / "c.toml")
    monkeypatch.setenv("POETBENCH_CACHE", str(tmp_path / "cache"))
    train(cfg, output_dir=tmp_path / "adapters", log=lambda m: None)
    args = ["eval", "--config", tmp_path / "c.toml", "--adapters", tmp_path / "adapters", "--samples", "3",
            "--themes", "6", "--batch-size", "1", "--max-new-tokens", "24", "--no-lm", "--quiet"]
    _finish([*args, "--output-dir", tmp_path / "full"], tmp_path)
    expected = [json.loads(line) for line in (tmp_path / "full" / "generations.jsonl").read_text().splitlines()]
    out = tmp_path / "killed"
    proc = _cli([*args, "--output-dir", out], tmp_path)
    gens = out / "generations.jsonl"
    reached = _kill_when(proc, lambda: gens.exists() and gens.read_text().count("\n") >= 3)
    if not reached:
        pytest.skip("eval finished before it could be killed on this machine")
    partial = gens.read_text().count("\n")
    assert 0 < partial < len(expected)
    _finish([*args, "--output-dir", out], tmp_path)
    got = [json.loads(line) for line in gens.read_text().splitlines()]
    assert len(got) == len(expected) == len({r["key"] for r in got})
    assert {r["key"]: r["text"] for r in got} == {r["key"]: r["text"] for r in expected}


def test_same_seed_same_generations_and_scores(corpus_env, tmp_path, monkeypatch):
    from poetbench.eval import EvalOptions, run_eval
    from poetbench.config import SamplingParams
    from poetbench.train import train

    monkeypatch.setenv("POETBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("POETBENCH_CLASSIFIER_DIR", str(tmp_path / "classifiers"))
    cfg = micro_config(corpus_env)
    train(cfg, output_dir=tmp_path / "adapters", log=lambda m: None)
    outs = []
    for name in ("one", "two"):
        run_eval(cfg, EvalOptions(adapters=tmp_path / "adapters", samples=2, themes=2, output_dir=tmp_path / name,
                                  params=SamplingParams(max_new_tokens=20)), log=lambda m: None)
        outs.append(tmp_path / name)
    for f in ("generations.jsonl", "scores.jsonl", "lm.jsonl", "summary.json"):
        assert (outs[0] / f).read_text() == (outs[1] / f).read_text(), f
