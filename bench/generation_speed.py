"""Eval's generation on a CPU: today's defaults (batch 8, adapters unmerged) against the new ones
(batch auto, each adapter merged into the base for its batches), side by side in one process.

    .venv/bin/python bench/generation_speed.py [--new-tokens 48] [--themes 16] [--samples 4]

The model: a Qwen2 of random weights, ~40M parameters (hidden 640, 8 layers, GQA 10/2 heads,
vocabulary 8,000), with two LoRA adapters of random weights (r=8, all linear layers): base and both
adapters x themes x samples poems, through the library's own path (``HFBackend`` + ``run_jobs``: the
cache layer, the batches, the seeds). Every configuration generates the same jobs into a fresh file;
``min_new_tokens`` = ``max_new_tokens`` so every poem costs the same. The configurations run in
turn, ``--repeats`` rounds (default 3), and each one's fastest run counts. Prints a table and updates bench/RESULTS.md and bench/results.json
(``generation_default_speedup``, ``generation_merged_speedup``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

SHAPE = dict(vocab_size=8000, hidden_size=640, intermediate_size=1792, num_hidden_layers=8, num_attention_heads=10,
             num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True)


def build(work: Path) -> tuple[Path, list[Path]]:
    """The random base (with a byte-level BPE trained on the prompt templates and themes) and two
    random adapters."""
    import torch
    from peft import get_peft_model
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from poetbench.config import preset
    from poetbench.models.tiny import train_tiny_tokenizer
    from poetbench.prompts import default_prompts
    from poetbench.train import lora_config

    p = default_prompts()
    texts = [p.eval_prompt(t, "Александр Сергеевич Пушкин") for t in p.themes] * 20
    tok = train_tiny_tokenizer(texts, 2000)
    config = Qwen2Config(**{**SHAPE, "vocab_size": len(tok)}, bos_token_id=None, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    base = work / "base"
    Qwen2ForCausalLM(config).save_pretrained(base)
    tok.save_pretrained(base)
    adapters = []
    for i in range(2):
        torch.manual_seed(1 + i)
        lora = lora_config(preset("seed"))
        lora.init_lora_weights = False  # random B, so the adapter changes the output
        model = get_peft_model(Qwen2ForCausalLM.from_pretrained(base), lora)
        model.save_pretrained(work / f"adapter{i}")
        adapters.append(work / f"adapter{i}")
    return base, adapters


def continuous_batching(model, prompts: list[list[int]], new_tokens: int) -> tuple[float, float]:
    """Seconds for ``prompts`` (one batch) with padded ``generate`` and with transformers' continuous
    batching (``generate_batch``, its default paged attention), same sampling, base weights only."""
    import torch
    from transformers.generation import GenerationConfig

    gc = GenerationConfig(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=True, temperature=0.8,
                          top_p=0.95, eos_token_id=model.config.eos_token_id, pad_token_id=model.config.pad_token_id)
    pad = model.config.pad_token_id
    width = max(map(len, prompts))
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    with torch.inference_mode():
        t0 = time.perf_counter()
        model.generate(input_ids=ids, attention_mask=(ids != pad).long(), generation_config=gc)
        padded = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.generate_batch(prompts, generation_config=gc, progress_bar=False)
        continuous = time.perf_counter() - t0
    return padded, continuous


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--themes", type=int, default=16)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from poetbench.config import SamplingParams, preset
    from poetbench.generation import Job, job_key, parse_models, run_jobs
    from poetbench.generation.hf import HFBackend
    from poetbench.prompts import default_prompts

    work = Path(tempfile.mkdtemp(prefix="poetbench-genspeed-"))
    base, adapters = build(work)
    entries = parse_models("base," + ",".join(map(str, adapters)), None)
    params = SamplingParams(max_new_tokens=args.new_tokens)
    prompts = default_prompts()
    name = "Александр Сергеевич Пушкин"
    jobs = [Job(e.name, "pushkin", t, k, prompts.eval_prompt(t, name),
                job_key(str(base), e, prompts.eval_prompt(t, name), params, 42 + k))
            for e in entries for t in prompts.themes[: args.themes] for k in range(args.samples)]
    n_params = sum(p.numel() for p in __import__("transformers").AutoModelForCausalLM.from_pretrained(base).parameters())
    cfg = preset("tiny").replace(base_model=str(base), dtype="fp32")

    import transformers

    real_generate = transformers.GenerationMixin.generate

    def fixed_length(self, *a, **kw):  # every poem the same length, so the configurations do the same work
        kw["min_new_tokens"] = kw.get("max_new_tokens")
        return real_generate(self, *a, **kw)

    transformers.GenerationMixin.generate = fixed_length
    backends = {m: HFBackend(entries, str(base), cfg, merge=m) for m in (False, True)}
    auto = backends[True].auto_batch_size(jobs, params)

    configs = [(False, 8), (True, 8), (False, auto), (True, auto)]
    best = {c: float("inf") for c in configs}
    for b in backends.values():  # load and warm up both
        run_jobs(b, jobs[:2], work / f"warm-{b.merge}.jsonl", params, 2, str(base))
    for rep in range(args.repeats):  # round robin, so a slow minute of the machine hits every configuration
        for merge, batch in configs:
            t0 = time.perf_counter()
            run_jobs(backends[merge], jobs, work / f"g-{merge}-{batch}-{rep}.jsonl", params, batch, str(base))
            best[(merge, batch)] = min(best[(merge, batch)], time.perf_counter() - t0)
    today, merged8, unmerged_auto, new = (best[c] for c in configs)
    n = len(jobs)
    rows = [
        [f"today's defaults: batch 8, adapters unmerged", f"{today:.1f} s", f"{n / today:.2f}", "1.0x"],
        [f"batch 8, adapters merged", f"{merged8:.1f} s", f"{n / merged8:.2f}", f"{today / merged8:.2f}x"],
        [f"batch auto ({auto}), adapters unmerged", f"{unmerged_auto:.1f} s", f"{n / unmerged_auto:.2f}",
         f"{today / unmerged_auto:.2f}x"],
        [f"new defaults: batch auto ({auto}), adapters merged", f"{new:.1f} s", f"{n / new:.2f}", f"{today / new:.2f}x"],
    ]
    md = markdown_table(["configuration", "time", "poems/s", "vs today"], rows)
    print(md)
    bank = backends[False].bank
    tok = bank.tokenizer
    prompts = [tok.apply_chat_template([{"role": "user", "content": j.prompt}], add_generation_prompt=True,
                                       tokenize=True, return_dict=False) for j in jobs[:auto]]
    with bank.use("base") as model:
        padded, continuous = continuous_batching(model, prompts, args.new_tokens)
    print(f"continuous batching: {continuous:.1f} s against {padded:.1f} s padded, {len(prompts)} prompts")
    threads = torch.get_num_threads()
    update_section("generation-speed", (
        f"## Eval's generation, new defaults against today's (CPU, {threads} threads)\n\n"
        f"`bench/generation_speed.py`: {n} poems (base and 2 LoRA adapters, r=8 all-linear, x {args.themes} themes x "
        f"{args.samples} samples) of exactly {args.new_tokens} new tokens each, from a Qwen2 of random weights with "
        f"{n_params / 1e6:.0f}M parameters, through the library's own generation path, in one process: the "
        f"configurations in turn, {args.repeats} rounds, the fastest run of each counts.\n\n" + md + "\n\n"
        f"Merged against unmerged at the same batch: {today / merged8:.2f}x at batch 8, {unmerged_auto / new:.2f}x at "
        f"batch {auto}. Greedy decoding in fp32 gives the same tokens merged and unmerged "
        "(`tests/test_generation.py`). transformers' continuous batching (`generate_batch`, its default paged "
        f"attention), measured on the base with the first {len(prompts)} prompts: {continuous:.1f} s against "
        f"{padded:.1f} s for padded `generate` as one batch ({continuous / padded:.1f}x slower on this CPU), so eval "
        "does not use it; it was not measured on a GPU.\n\n"
        + (f"Target 3x: {'met' if today / new >= 3 else 'NOT met'} here ({today / new:.2f}x). On these CPU cores "
           "a decoding step is compute-bound above a batch of about 32 (the batch of 64 gains little over 32), and "
           "a LoRA layer's two thin matmuls cost little beside the base's, so neither a larger batch nor merging "
           "can give much more here; on a GPU, where a step of the unmerged model cost about the same for 8 or 128 "
           "poems (gpu-seed below), both are what the defaults were changed for.")))
    update_json({"generation_default_speedup": round(today / new, 2),
                 "generation_merged_speedup": round(unmerged_auto / new, 2)})


if __name__ == "__main__":
    main()
