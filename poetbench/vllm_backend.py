"""Optional generation backend: one vLLM engine with LoRA enabled, each adapter a ``LoRARequest``.

Same jobs, cache keys and ``generations.jsonl`` rows as the default backend, so a run can be resumed
with either. Seeds: every request carries its own seed derived from its job key, so a poem does not
depend on batching (the default backend seeds each fixed batch instead; the two backends do not
sample the same poems for a key, only the same kind of poem). Install with ``pip install
'poetbench[vllm]'`` on a GPU machine.
"""

from __future__ import annotations

from pathlib import Path

from poetbench.generate import GenerateError, Job, ModelEntry, SamplingParams, append_rows, batches, read_done


def _engine(base_path: str, entries: list[ModelEntry], config, max_lora_rank: int):
    from vllm import LLM

    adapters = [e for e in entries if not e.is_base]
    return LLM(model=base_path, revision=config.base_revision, trust_remote_code=config.trust_remote_code,
               dtype="auto" if config.dtype == "auto" else {"bf16": "bfloat16", "fp16": "float16",
                                                            "fp32": "float32"}[config.dtype],
               enable_lora=bool(adapters), max_loras=max(1, len(adapters)), max_lora_rank=max_lora_rank,
               seed=config.seed, gpu_memory_utilization=0.5)


def generate_vllm(entries: list[ModelEntry], jobs: list[Job], out_path: Path, params: SamplingParams,
                  batch_size: int, base_id: str, base_path: str, config, progress=None) -> dict[str, dict]:
    try:
        from vllm import SamplingParams as VllmSampling
        from vllm.lora.request import LoRARequest
    except ImportError:
        raise GenerateError("the vllm backend needs vLLM: pip install 'poetbench[vllm]' (GPU only)") from None

    out_path.parent.mkdir(parents=True, exist_ok=True)
    done = read_done(out_path)
    todo = [b for b in batches(jobs, batch_size) if not all(j.key in done for j in b)]
    if not todo:
        return done
    llm = _engine(base_path, entries, config, max_lora_rank=max(8, config.lora_r))
    by_name = {e.name: e for e in entries}
    requests = {e.name: LoRARequest(e.name, i + 1, str(e.adapter_path))
                for i, e in enumerate(x for x in entries if not x.is_base)}
    task = progress.add_task("generate (vllm)", total=len(jobs),
                             completed=len(jobs) - sum(len(b) for b in todo)) if progress is not None else None
    for batch in todo:
        batch = [j for j in batch if j.key not in done]
        sampling = [VllmSampling(temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_new_tokens,
                                 repetition_penalty=params.repetition_penalty, seed=int(j.key[:8], 16))
                    for j in batch]
        outputs = llm.chat([[{"role": "user", "content": j.prompt}] for j in batch], sampling_params=sampling,
                           lora_request=requests.get(batch[0].model), use_tqdm=False)
        rows = []
        for job, out in zip(batch, outputs):
            completion = out.outputs[0]
            rows.append({"key": job.key, "model": job.model, "author": job.author, "theme": job.theme,
                         "sample": job.sample, "prompt": job.prompt, "text": completion.text.strip(),
                         "tokens": len(completion.token_ids), "params": params.to_dict(),
                         "request_seed": int(job.key[:8], 16), "backend": "vllm", "base": base_id,
                         "adapter_sha256": by_name[job.model].adapter_sha256})
        append_rows(out_path, rows)
        done.update({r["key"]: r for r in rows})
        if task is not None:
            progress.advance(task, len(batch))
    return done
