"""The vLLM backend's code path, run against a stand-in `vllm` module (the real one needs a GPU)."""

import json
import sys
import types

import pytest

from poetbench.eval import EvalOptions, run_eval
from poetbench.config import SamplingParams
from poetbench.generation import read_done
from tests.conftest import SHARED, micro_config



@pytest.fixture
def fake_vllm(monkeypatch):
    calls = {"init": None, "chat": [], "probes": []}

    class LLM:
        def __init__(self, **kw):
            calls["init"] = kw

        def chat(self, messages, sampling_params, lora_request=None, use_tqdm=False):
            if not isinstance(sampling_params, list):  # the probe: one SamplingParams, first-token logprobs
                calls["probes"].append(lora_request)
                shift = 0.0 if lora_request is None else 0.1 * lora_request.lora_int_id
                lp = {t: types.SimpleNamespace(logprob=-1.0 - t - shift * (t % 2)) for t in range(sampling_params.logprobs)}
                return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text="", token_ids=[0], logprobs=[lp])])]
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
    from poetbench.generation.hf import HFBackend

    def no_hf(self):  # the vllm backend must not load the transformers model (lm=False: nothing needs it)
        raise AssertionError("the transformers model was loaded by a vllm run")

    monkeypatch.setattr(HFBackend, "bank", property(no_hf))
    run_eval(cfg, EvalOptions(**opts, output_dir=tmp_path / "vllm", backend="vllm"), log=lambda m: None)
    hf, vl = read_done(tmp_path / "hf" / "generations.jsonl"), read_done(tmp_path / "vllm" / "generations.jsonl")
    assert hf.keys() == vl.keys()  # same jobs, same cache keys: a run can be resumed with either backend
    assert set(next(iter(hf.values()))) == set(next(iter(vl.values())))  # one row schema
    assert {r["seed_scope"] for r in hf.values()} == {"batch"} and {r["seed_scope"] for r in vl.values()} == {"request"}
    assert len(fake_vllm["probes"]) == 3  # the probe ran in the backend that generates: base + 2 adapters
    run = json.loads((tmp_path / "vllm" / "run.json").read_text())
    assert all(m["probe_change"] > 0 for m in run["models"] if m["adapter"])
    assert fake_vllm["init"]["enable_lora"] and fake_vllm["init"]["max_loras"] == 2
    lora_paths = {r.lora_path for _, r, _ in fake_vllm["chat"] if r is not None}
    assert lora_paths == {str(tmp_path / "adapters" / "alpha"), str(tmp_path / "adapters" / "beta")}
    assert any(r is None for _, r, _ in fake_vllm["chat"])  # base = no LoRA request
    assert json.loads((tmp_path / "vllm" / "run.json").read_text())["options"]["backend"] == "vllm"
