"""The vLLM backend (optional extra, GPU): one engine with LoRA enabled, each adapter a ``LoRARequest``.

Same jobs, cache keys and row schema as the transformers backend, so a run can be resumed with
either. Seeds: every request carries its own seed derived from its job key (``seed_scope``
``request``), so a poem does not depend on batching; the two backends sample the same kind of poem
for a key, not the same poem. The probe asks the engine itself for the first token's log-probabilities
with and without each adapter. Install with ``pip install 'poetbench[vllm]'`` on a GPU machine;
``--tensor-parallel-size`` is passed through for bases that do not fit one GPU.
"""

from __future__ import annotations

from poetbench.config import SamplingParams
from poetbench.errors import GenerateError
from poetbench.generation.adapters import ModelEntry
from poetbench.generation.backend import Backend, Completion, Job, request_seed

DTYPES = {"auto": "auto", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
PROBE_LOGPROBS = 20


def _vllm():
    try:
        import vllm
        from vllm.lora.request import LoRARequest
    except ImportError:
        raise GenerateError("the vllm backend needs vLLM: pip install 'poetbench[vllm]' (GPU only)") from None
    return vllm, LoRARequest


class VLLMBackend(Backend):
    name = "vllm"
    seed_scope = "request"

    def __init__(self, entries: list[ModelEntry], base_path: str, config, tensor_parallel_size: int = 1):
        super().__init__(entries)
        self.base_path, self.config, self.tensor_parallel_size = base_path, config, tensor_parallel_size
        self._vllm, LoRARequest = _vllm()  # fail at once, before any other work, when vLLM is missing
        adapters = [e for e in entries if not e.is_base]
        self.requests = {e.name: LoRARequest(e.name, i + 1, str(e.adapter_path)) for i, e in enumerate(adapters)}
        self._llm = None

    @property
    def llm(self):
        if self._llm is None:
            c = self.config
            self._llm = self._vllm.LLM(
                model=self.base_path, revision=c.base_revision, trust_remote_code=c.trust_remote_code,
                dtype=DTYPES[c.dtype], enable_lora=bool(self.requests), max_loras=max(1, len(self.requests)),
                max_lora_rank=max(8, c.lora_r), seed=c.seed, gpu_memory_utilization=0.5,
                tensor_parallel_size=self.tensor_parallel_size)
        return self._llm

    def _chat(self, prompts: list[str], sampling, model: str):
        return self.llm.chat([[{"role": "user", "content": p}] for p in prompts], sampling_params=sampling,
                             lora_request=self.requests.get(model), use_tqdm=False)

    def probe(self, prompt: str) -> dict[str, float]:
        sampling = self._vllm.SamplingParams(temperature=0.0, max_tokens=1, logprobs=PROBE_LOGPROBS)

        def first_logprobs(model: str) -> dict[int, float]:
            (out,) = self._chat([prompt], sampling, model)
            return {t: float(getattr(lp, "logprob", lp)) for t, lp in out.outputs[0].logprobs[0].items()}

        ref = first_logprobs("base")
        changes = {}
        for name in self.requests:
            mine = first_logprobs(name)
            shared = set(ref) & set(mine)
            delta = max((abs(ref[t] - mine[t]) for t in shared), default=float("inf"))
            if delta <= 1e-6:
                raise GenerateError(f"adapter {name} ({self.entries[name].adapter_path}) does not change the base "
                                    "model's output on a probe prompt: wrong base model or target modules?")
            changes[name] = delta
        return changes

    def generate(self, batch: list[Job], params: SamplingParams, seed: int) -> list[Completion]:
        sampling = [self._vllm.SamplingParams(temperature=params.temperature, top_p=params.top_p,
                                              max_tokens=params.max_new_tokens,
                                              repetition_penalty=params.repetition_penalty, seed=request_seed(j))
                    for j in batch]
        outputs = self._chat([j.prompt for j in batch], sampling, batch[0].entry)
        return [Completion(o.outputs[0].text.strip(), len(o.outputs[0].token_ids), request_seed(j))
                for j, o in zip(batch, outputs)]

    def close(self) -> None:
        self._llm = None
