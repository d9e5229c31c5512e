"""The transformers backend: one base model, every adapter attached with peft's multi-adapter API
and switched (``set_adapter``); the base is the model with adapters disabled. Each fixed batch is
sampled under one seed (``torch.manual_seed``), left-padded; a prompt the batch holds more than once
(the samples of one theme) is read once and its cache copied to each of its rows; the KV cache
reserves its room for the whole poem once instead of growing by a copy each step."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from poetbench.config import SamplingParams
from poetbench.errors import GenerateError
from poetbench.generation.adapters import ModelEntry
from poetbench.generation.backend import Backend, Completion, Job

CPU_AUTO_BATCH = 64
GPU_AUTO_BATCH_MAX = 256


class ModelBank:
    """The base model with every adapter attached under its own name."""

    def __init__(self, model, tokenizer, entries: list[ModelEntry]):
        from peft import PeftModel

        self.tokenizer = tokenizer
        self.entries = {e.name: e for e in entries}
        adapters = [e for e in entries if not e.is_base]
        self.model = model
        self._names = {}
        for i, e in enumerate(adapters):
            name = f"a{i}"
            try:
                if i == 0:
                    self.model = PeftModel.from_pretrained(model, str(e.adapter_path), adapter_name=name)
                else:
                    self.model.load_adapter(str(e.adapter_path), adapter_name=name)
            except Exception as err:  # peft/safetensors raise many types for a foreign or damaged adapter
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise GenerateError(f"{e.adapter_path}: cannot attach this adapter to the base model ({first[:200]}); "
                                    "was it trained on another base?") from None
            self._names[e.name] = name
        self.model.eval()
        self.merged: str | None = None  # the entry whose adapter is merged into the base weights
        self._backup: dict[str, object] = {}

    def merge(self, entry_name: str) -> None:
        """Merge ``entry_name``'s adapter into the base weights (its LoRA layers then skip their own
        matmuls: one matmul per projection, as in the base). The base weights are kept on the CPU
        and restored exactly on ``unmerge`` (subtracting the product back would leave rounding in
        bf16 weights)."""
        if self.merged == entry_name:
            return
        self.unmerge()
        if entry_name not in self._names:
            return
        if not self._backup:
            self._backup = {n: m.base_layer.weight.detach().to("cpu", copy=True)
                            for n, m in self.model.named_modules() if hasattr(m, "base_layer")
                            and hasattr(m, "merged_adapters") and hasattr(m.base_layer, "weight")}
        self.model.set_adapter(self._names[entry_name])
        self.model.merge_adapter()
        self.merged = entry_name

    def unmerge(self) -> None:
        import torch

        if self.merged is None:
            return
        self.model.unmerge_adapter()
        with torch.no_grad():
            for n, m in self.model.named_modules():
                if n in self._backup:
                    m.base_layer.weight.copy_(self._backup[n])
        self.merged = None

    @contextmanager
    def use(self, entry_name: str, merged: bool = False) -> Iterator[object]:
        """The model with ``entry_name``'s adapter active (or all adapters off for base); with
        ``merged``, the adapter merged into the weights (it stays merged for the next batch of the
        same model)."""
        if merged and entry_name in self._names:
            self.merge(entry_name)
            yield self.model
            return
        self.unmerge()
        if entry_name in self._names:
            self.model.set_adapter(self._names[entry_name])
            yield self.model
        elif hasattr(self.model, "disable_adapter"):
            with self.model.disable_adapter():
                yield self.model
        else:
            yield self.model

    def verify_adapters(self, probe: str, atol: float = 1e-6) -> dict[str, float]:
        """Each adapter must change the model's next-token distribution on a probe prompt; one that
        does not (wrong target modules, zero weights, another base) is an error."""
        import torch

        ids = chat_ids(self.tokenizer, [probe]).to(self.model.device)
        with torch.no_grad(), self.use("base") as m:
            ref = m(**ids).logits[:, -1].float()
        changes = {}
        for name in self._names:
            with torch.no_grad(), self.use(name) as m:
                out = m(**ids).logits[:, -1].float()
            delta = float((out - ref).abs().max())
            if delta <= atol:
                raise GenerateError(f"adapter {name} ({self.entries[name].adapter_path}) does not change the base "
                                    "model's output on a probe prompt: wrong base model or target modules?")
            changes[name] = delta
        return changes


def cache_keyword(model) -> tuple[str, dict]:
    """The cache keyword of the transformers model under peft's wrapper (``cache`` in newer
    transformers 5, ``past_key_values`` before) and ``logits_to_keep=1`` where its forward takes it."""
    import inspect

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    accepts = inspect.signature(inner.forward).parameters
    key = "cache" if "cache" in accepts else "past_key_values"
    return key, ({"logits_to_keep": 1} if "logits_to_keep" in accepts else {})


def generation_cache(model, ids, max_new_tokens: int, share_prompts: bool = True, reserve: bool = True) -> dict:
    """``generate``'s cache keyword for a left-padded batch: a KV cache that reserves room for the
    prompts and ``max_new_tokens`` once (``kv.ReservedLayer``: no copy of the whole cache per step)
    and, with ``share_prompts``, already holds each distinct prompt's cache (``shared_prefill``).
    {} for a model whose cache layers are not plain, or with neither: ``generate`` builds its own."""
    from poetbench.generation.kv import reserved_cache

    capacity = ids["input_ids"].shape[1] + max_new_tokens
    shared = shared_prefill(model, ids, capacity, reserve) if share_prompts else {}
    if shared or not reserve:
        return shared

    cache = reserved_cache(model.config, capacity)
    return {} if cache is None else {cache_keyword(model)[0]: cache}


def shared_prefill(model, ids, capacity: int = 0, reserve: bool = True) -> dict:
    """Read each distinct prompt of a left-padded batch once: the KV cache of all but its last
    token, copied to every row that holds it, as ``generate``'s cache keyword ({} when every
    prompt differs); its layers reserve ``capacity`` positions (``reserve=False``: they grow).
    ``generate`` then reads only the last prompt token itself, at the positions it would have
    given, so the poems are those of a plain call up to float rounding (the greedy tokens are the
    same: tests/test_generation.py), and a batch of k samples per theme reads its prompts k times
    less (bench/generation_speed.py)."""
    import torch

    from poetbench.generation.kv import reserved_cache

    input_ids, mask = ids["input_ids"], ids["attention_mask"]
    if input_ids.shape[1] < 2:
        return {}
    rows, inverse = torch.unique(input_ids, dim=0, return_inverse=True)
    if len(rows) == len(input_ids):
        return {}
    empty = reserved_cache(model.config, input_ids.shape[1], reserve)
    if empty is None:
        return {}  # sliding-window or recurrent layers keep more than their keys: left to generate
    first = torch.zeros(len(rows), dtype=torch.long, device=inverse.device)  # a row holding each prompt (any)
    first.scatter_(0, inverse, torch.arange(len(inverse), device=inverse.device))
    head, head_mask = input_ids[first, :-1], mask[first, :-1]
    positions = (head_mask.long().cumsum(-1) - 1).masked_fill(head_mask == 0, 0)  # as generate's own
    key, extra = cache_keyword(model)  # extra: one position's logits, not the prompt's
    read = model(input_ids=head, attention_mask=head_mask, position_ids=positions, use_cache=True, **{key: empty},
                 **extra)
    cache = reserved_cache(model.config, max(capacity, input_ids.shape[1]), reserve)
    for layer_idx, layer in enumerate(getattr(read, key).layers):
        cache.update(layer.keys[inverse], layer.values[inverse], layer_idx)
    return {key: cache}


def chat_ids(tokenizer, prompts: list[str]):
    """Left-padded batch of chat-formatted prompts (generation prompt added)."""
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in prompts]
    tokenizer.padding_side = "left"
    return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


class HFBackend(Backend):
    name = "hf"
    seed_scope = "batch"

    def __init__(self, entries: list[ModelEntry], base_path: str, config, merge: bool = True,
                 share_prompts: bool = True, reserve_cache: bool = True):
        super().__init__(entries)
        self.base_path, self.config, self.merge, self.share_prompts = base_path, config, merge, share_prompts
        self.reserve_cache = reserve_cache
        self._bank: ModelBank | None = None

    @property
    def bank(self) -> ModelBank:
        """The base model with every adapter attached (loaded on first use, put on the GPU if any)."""
        if self._bank is None:
            from poetbench.models.loading import load_model, load_tokenizer, to_accelerator

            c = self.config
            tokenizer = load_tokenizer(self.base_path, c.base_revision, c.trust_remote_code)
            model = to_accelerator(load_model(self.base_path, c.base_revision, c.dtype, c.trust_remote_code,
                                              c.attn_implementation))
            self._bank = ModelBank(model, tokenizer, list(self.entries.values()))
        return self._bank

    def probe(self, prompt: str) -> dict[str, float]:
        return self.bank.verify_adapters(prompt)

    def generate(self, batch: list[Job], params: SamplingParams, seed: int) -> list[Completion]:
        import torch

        bank = self.bank
        tok = bank.tokenizer
        ids = chat_ids(tok, [j.prompt for j in batch]).to(bank.model.device)
        torch.manual_seed(seed)
        with bank.use(batch[0].entry, merged=self.merge) as model, torch.inference_mode():
            cache = generation_cache(model, ids, params.max_new_tokens, self.share_prompts, self.reserve_cache)
            out = model.generate(**ids, **cache, do_sample=True, temperature=params.temperature, top_p=params.top_p,
                                 max_new_tokens=params.max_new_tokens, repetition_penalty=params.repetition_penalty,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        new = out[:, ids["input_ids"].shape[1]:]
        return [Completion(tok.decode(seq, skip_special_tokens=True).strip(), int((seq != tok.pad_token_id).sum()), seed)
                for seq in new]

    def auto_batch_size(self, jobs: list[Job], params: SamplingParams) -> int:
        """The largest batch that fits: on a GPU, what the KV cache of the longest sequence allows in
        70% of the free memory (at most 256); on a CPU, 64 (compute-bound there: larger batches
        gain little, bench/generation_speed.py). Never more than one model's jobs."""
        import torch

        per_model = max(sum(j.model == m for j in jobs) for m in {j.model for j in jobs}) if jobs else 1
        if not torch.cuda.is_available():
            return max(1, min(CPU_AUTO_BATCH, per_model))
        cfg = self.bank.model.config
        prompt = max(len(self.bank.tokenizer(j.prompt)["input_ids"]) for j in jobs[:64]) + 32  # + chat template
        layers = cfg.num_hidden_layers
        kv_heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        dtype_bytes = next(self.bank.model.parameters()).element_size()
        per_seq = 2 * layers * kv_heads * head_dim * (prompt + params.max_new_tokens) * dtype_bytes
        per_seq += 4 * cfg.vocab_size  # one step's fp32 logits
        free = torch.cuda.mem_get_info(self.bank.model.device)[0]
        fit = int(0.7 * free // max(1, per_seq))
        size = 1
        while size * 2 <= min(GPU_AUTO_BATCH_MAX, fit, per_model):
            size *= 2
        return size

    def close(self) -> None:
        if self._bank is not None:
            self._bank.unmerge()
        self._bank = None
