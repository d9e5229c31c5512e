"""The vLLM backend's code path, run against a stand-in `vllm` module (the real one needs a GPU)."""

import json
import sys
import types

import pytest

from poetbench.benchmark import EvalOptions, run_eval
from poetbench.generate import SamplingParams, read_done
from tests.conftest import SHARED, micro_config



@pytest.fixture
def fake_vllm(monkeypatch):
    calls = {"init": None, "chat": []}

    class LLM:
        def __init__(self, **kw):
            calls["init"] = kw

        def chat(self, messages, sampling_params, lora_request=None, use_tqdm=False):
            calls["chat"].append((len(messages), lora_request, [s.seed for s in sampling_params]))
            out = []
            for m, s in zip(messages, sampling_params):
                text = f"Строка про {m[0]['content'][40:60]}\nи ещё одна строка {s.seed % 97}"
                out.append(types.SimpleNamespace(outputs=[types.SimpleNamespace(text=text, token_ids=[1, 2, 3])]))
            return out

    class SamplingParamsStub:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class LoRARequest:
        def __init__(self, name, int_id, path):
            self.lora_name, self.lora_int_id, self.lora_path = name, int_id, path

    def install():
        # after TRL is imported: TRL probes for an installed vllm at import time
        vllm = types.ModuleType("vllm")
        vllm.LLM, vllm.SamplingParams = LLM, SamplingParamsStub
        lora = types.ModuleType("vllm.lora")
        request = types.ModuleType("vllm.lora.request")
        request.LoRARequest = LoRARequest
        monkeypatch.setitem(sys.modules, "vllm", vllm)
        monkeypatch.setitem(sys.modules, "vllm.lora", lora)
        monkeypatch.setitem(sys.modules, "vllm.lora.request", request)

    calls["install"] = install
    return calls


def test_vllm_backend_writes_the_same_rows_and_keys(corpus_env, tmp_path, monkeypatch, fake_vllm):
    from poetbench.train import train

    monkeypatch.setenv("POETBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("POETBENCH_CLASSIFIER_DIR", str(tmp_path / "classifiers"))
    cfg = micro_config(corpus_env)
    train(cfg, output_dir=tmp_path / "adapters", log=lambda m: None)
    opts = dict(adapters=tmp_path / "adapters", samples=2, themes=2, batch_size=4, params=SamplingParams(max_new_tokens=16),
                lm=False)
    run_eval(cfg, EvalOptions(**opts, output_dir=tmp_path / "hf"), log=lambda m: None)
    fake_vllm["install"]()
    run_eval(cfg, EvalOptions(**opts, output_dir=tmp_path / "vllm", backend="vllm"), log=lambda m: None)
    hf, vl = read_done(tmp_path / "hf" / "generations.jsonl"), read_done(tmp_path / "vllm" / "generations.jsonl")
    assert hf.keys() == vl.keys()  # same jobs, same cache keys: a run can be resumed with either backend
    assert set(next(iter(hf.values()))) <= set(next(iter(vl.values()))) | {"batch_seed"}
    assert fake_vllm["init"]["enable_lora"] and fake_vllm["init"]["max_loras"] == 2
    lora_paths = {r.lora_path for _, r, _ in fake_vllm["chat"] if r is not None}
    assert lora_paths == {str(tmp_path / "adapters" / "alpha"), str(tmp_path / "adapters" / "beta")}
    assert any(r is None for _, r, _ in fake_vllm["chat"])  # base = no LoRA request
    assert json.loads((tmp_path / "vllm" / "run.json").read_text())["options"]["backend"] == "vllm"
