"""The hf backend's merged adapters: the same greedy tokens as unmerged, base weights restored
exactly, batches by prompt length, and --batch-size auto."""

import pytest
import torch

from poetbench.generation.adapters import ModelEntry


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    from peft import get_peft_model
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from poetbench.config import preset
    from poetbench.generation.hf import ModelBank
    from poetbench.models.tiny import train_tiny_tokenizer
    from poetbench.train import lora_config

    tmp = tmp_path_factory.mktemp("gen")
    tok = train_tiny_tokenizer(["Напиши стихотворение про осень и зиму, про море и степь"] * 30, 300)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(tmp / "base")
    entries = [ModelEntry("base")]
    for i in range(2):
        torch.manual_seed(10 + i)
        lora = lora_config(preset("tiny"))
        lora.init_lora_weights = False
        get_peft_model(Qwen2ForCausalLM.from_pretrained(tmp / "base"), lora).save_pretrained(tmp / f"a{i}")
        entries.append(ModelEntry(f"lora:{i}", tmp / f"a{i}", None, str(i)))
    return ModelBank(Qwen2ForCausalLM.from_pretrained(tmp / "base", dtype=torch.float32), tok, entries)


def greedy(bank, name, merged):
    from poetbench.generation.hf import chat_ids

    ids = chat_ids(bank.tokenizer, ["Напиши стихотворение про осень", "про море"])
    with torch.no_grad(), bank.use(name, merged=merged) as m:
        return m.generate(**ids, do_sample=False, max_new_tokens=12, pad_token_id=bank.tokenizer.pad_token_id)


def test_merged_and_unmerged_give_the_same_greedy_tokens(bank):
    base_before = greedy(bank, "base", False)
    weights = {n: p.detach().clone() for n, p in bank.model.named_parameters() if "lora" not in n}
    for name in ("lora:0", "lora:1"):
        unmerged = greedy(bank, name, False)
        merged = greedy(bank, name, True)
        assert bank.merged == name
        assert torch.equal(unmerged, merged), name
        assert not torch.equal(merged, base_before)
    # after merging and unmerging both adapters the base is exactly what it was
    assert torch.equal(greedy(bank, "base", False), base_before) and bank.merged is None
    for n, p in bank.model.named_parameters():
        if "lora" not in n:
            assert torch.equal(p, weights[n]), n


def test_batches_are_per_model_and_by_prompt_length():
    from poetbench.generation.backend import Job, batches

    jobs = [Job(m, "a", t, 0, "x" * n, f"{m}{n}") for m in ("base", "lora") for n, t in ((30, "t1"), (5, "t2"), (20, "t3"))]
    got = batches(jobs, 2)
    assert [[j.model for j in b] for b in got] == [["base", "base"], ["base"], ["lora", "lora"], ["lora"]]
    assert [len(j.prompt) for j in got[0]] == [5, 20]


def test_the_batch_size_of_generated_rows_is_read_from_their_seeds():
    from poetbench.generation.backend import Job, batch_seed, batches, generated_batch_size

    jobs = [Job(m, "a", f"t{n}", 0, "x" * n, f"{m}{n}") for m in ("base", "lora") for n in range(1, 6)]

    def rows(size_of, scope="batch"):  # each model's rows as generated in batches of size_of[model]
        return {j.key: {"key": j.key, "seed": batch_seed(b), "seed_scope": scope}
                for m in ("base", "lora") for b in batches([j for j in jobs if j.model == m], size_of[m]) for j in b}

    assert generated_batch_size(jobs, rows({"base": 2, "lora": 2})) == 2
    assert generated_batch_size(jobs, rows({"base": 64, "lora": 64})) == 5  # one batch a model: 5 makes the same
    assert generated_batch_size(jobs, rows({"base": 2, "lora": 5})) is None  # resumed with another size
    assert generated_batch_size(jobs, rows({"base": 2, "lora": 2}, scope="request")) is None
    assert generated_batch_size(jobs, {k: r for k, r in rows({"base": 2, "lora": 2}).items() if k != "base3"}) is None


def test_auto_batch_size_on_a_cpu(bank):
    from poetbench.config import SamplingParams
    from poetbench.generation.backend import Job
    from poetbench.generation.hf import CPU_AUTO_BATCH, HFBackend

    backend = HFBackend(list(bank.entries.values()), "unused", None)
    jobs = [Job("base", "a", "t", k, "p", str(k)) for k in range(100)]
    assert backend.auto_batch_size(jobs, SamplingParams()) == CPU_AUTO_BATCH
    assert backend.auto_batch_size(jobs[:5], SamplingParams()) == 5


def test_auto_batch_size_on_a_gpu_fits_the_free_memory(bank, monkeypatch):
    """The GPU path of --batch-size auto, with the GPU's free memory stood in: the KV cache of the
    longest sequence decides, rounded down to a power of two, at most 256 and one model's jobs."""
    from poetbench.config import SamplingParams
    from poetbench.generation.backend import Job
    from poetbench.generation.hf import HFBackend

    backend = HFBackend(list(bank.entries.values()), "unused", None)
    backend._bank = bank
    jobs = [Job("base", "a", "t", k, "Напиши стихотворение про осень", str(k)) for k in range(1000)]
    params = SamplingParams(max_new_tokens=512)
    cfg = bank.model.config
    seq = len(bank.tokenizer(jobs[0].prompt)["input_ids"]) + 32 + 512  # prompt, chat template, new tokens
    per_seq = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads) \
        * seq * 4 + 4 * cfg.vocab_size  # fp32 KV cache + one step's logits
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for fits, expected in ((5, 4), (40, 32), (10_000, 256)):
        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None, f=fits: (f * per_seq / 0.7 + 1, 0))
        assert backend.auto_batch_size(jobs, params) == expected, fits
    assert backend.auto_batch_size(jobs[:100], params) == 64  # never more than one model's jobs


def test_a_prompt_held_twice_is_read_once_and_gives_the_same_tokens(bank):
    """shared_prefill: the samples of one theme share their prompt's cache; greedy tokens and seeded
    sampled poems are those of a plain call, for the base and for an adapter, merged or not."""
    from poetbench.generation.hf import chat_ids, shared_prefill

    prompts = ["Напиши стихотворение про осень", "про море", "Напиши стихотворение про осень", "про море", "про море"]
    ids = chat_ids(bank.tokenizer, prompts)
    pad = bank.tokenizer.pad_token_id
    calls = []
    for name, merged in (("base", False), ("lora:0", False), ("lora:1", True)):
        with torch.inference_mode(), bank.use(name, merged=merged) as m:
            handle = m.get_base_model().register_forward_pre_hook(
                lambda mod, args, kw: calls.append(kw["input_ids"].shape), with_kwargs=True)
            cache = shared_prefill(m, ids)
            handle.remove()
            assert len(cache) == 1 and calls[-1] == (2, ids["input_ids"].shape[1] - 1)  # two prompts, read once each
            for sample in (False, True):
                torch.manual_seed(7)
                plain = m.generate(**ids, do_sample=sample, max_new_tokens=10, pad_token_id=pad)
                torch.manual_seed(7)
                shared = m.generate(**ids, **shared_prefill(m, ids), do_sample=sample, max_new_tokens=10,
                                    pad_token_id=pad)
                assert torch.equal(plain, shared), (name, sample)
    with torch.inference_mode(), bank.use("base") as m:
        assert shared_prefill(m, chat_ids(bank.tokenizer, prompts[:2])) == {}  # nothing to share


def test_a_reserved_cache_gives_the_tokens_of_generates_own(bank):
    """generation_cache without shared prompts: the KV cache reserved once gives the greedy tokens
    and seeded samples of a plain call (different prompt lengths, so padding), for the base and a
    merged adapter; a cache too small for the poem grows instead of failing."""
    from poetbench.generation.hf import chat_ids, generation_cache
    from poetbench.generation.kv import ReservedLayer

    ids = chat_ids(bank.tokenizer, ["Напиши стихотворение про осень и зиму", "про море", "про степь"])
    pad = bank.tokenizer.pad_token_id
    for name, merged in (("base", False), ("lora:1", True)):
        with torch.inference_mode(), bank.use(name, merged=merged) as m:
            for sample in (False, True):
                torch.manual_seed(5)
                plain = m.generate(**ids, do_sample=sample, max_new_tokens=12, pad_token_id=pad)
                for room in (12, 2):  # room for the poem; too little, so it grows
                    cache = generation_cache(m, ids, room, share_prompts=False)
                    assert [type(x) for x in next(iter(cache.values())).layers] == [ReservedLayer] * 2
                    torch.manual_seed(5)
                    reserved = m.generate(**ids, **cache, do_sample=sample, max_new_tokens=12, pad_token_id=pad)
                    assert torch.equal(plain, reserved), (name, sample, room)


def test_a_reserved_layer_takes_in_keys_replaced_from_outside():
    from poetbench.generation.kv import ReservedLayer

    layer = ReservedLayer(capacity=4)
    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)
    layer.update(k, -k)
    layer.batch_select_indices(torch.tensor([1]))  # keeps row 1 only, as a new tensor
    keys, values = layer.update(k[1:, :, :1], -k[1:, :, :1])
    assert keys.shape == (1, 1, 4, 2) and torch.equal(keys[0, :, :3], k[1]) and torch.equal(values, -keys)
    keys, _ = layer.update(k[1:], -k[1:])  # past its capacity: grows
    assert keys.shape == (1, 1, 7, 2) and torch.equal(keys[0, :, 4:], k[1]) and layer.get_seq_length() == 7


def test_the_backend_samples_the_same_poems_with_and_without_shared_prompts(bank):
    from poetbench.config import SamplingParams
    from poetbench.generation.backend import Job
    from poetbench.generation.hf import HFBackend

    jobs = [Job("lora:0", "a", t, k, f"Напиши стихотворение про {t}", f"{t}{k}") for t in ("осень", "море")
            for k in range(3)]
    texts = []
    for share in (False, True):
        backend = HFBackend(list(bank.entries.values()), "unused", None, share_prompts=share)
        backend._bank = bank
        texts.append([c.text for c in backend.generate(jobs, SamplingParams(max_new_tokens=12), 3)])
    assert texts[0] == texts[1] and len(set(texts[0])) > 1
