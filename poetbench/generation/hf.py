"""The transformers backend: one base model, every adapter attached with peft's multi-adapter API
and switched (``set_adapter``); the base is the model with adapters disabled. Each fixed batch is
sampled under one seed (``torch.manual_seed``), left-padded."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from poetbench.config import SamplingParams
from poetbench.errors import GenerateError
from poetbench.generation.adapters import ModelEntry
from poetbench.generation.backend import Backend, Completion, Job


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

    @contextmanager
    def use(self, entry_name: str) -> Iterator[object]:
        """The model with ``entry_name``'s adapter active (or all adapters off for base)."""
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


def chat_ids(tokenizer, prompts: list[str]):
    """Left-padded batch of chat-formatted prompts (generation prompt added)."""
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in prompts]
    tokenizer.padding_side = "left"
    return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


class HFBackend(Backend):
    name = "hf"
    seed_scope = "batch"

    def __init__(self, entries: list[ModelEntry], base_path: str, config):
        super().__init__(entries)
        self.base_path, self.config = base_path, config
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
        with torch.no_grad(), bank.use(batch[0].model) as model:
            out = model.generate(**ids, do_sample=True, temperature=params.temperature, top_p=params.top_p,
                                 max_new_tokens=params.max_new_tokens, repetition_penalty=params.repetition_penalty,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        new = out[:, ids["input_ids"].shape[1]:]
        return [Completion(tok.decode(seq, skip_special_tokens=True).strip(), int((seq != tok.pad_token_id).sum()), seed)
                for seq in new]

    def close(self) -> None:
        self._bank = None
