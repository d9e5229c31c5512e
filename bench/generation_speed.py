"""Eval's generation on a CPU: today's defaults (batch 8, adapters unmerged, every prompt read for
each of its poems, the KV cache grown by a copy each step) against the new ones (batch auto, each
adapter merged into the base for its batches, a batch's repeated prompt read once, the KV cache's
room reserved once), side by side in one process, and each change alone.

    .venv/bin/python bench/generation_speed.py [--new-tokens 48] [--themes 16] [--samples 4]

The model: a Qwen2 of random weights, ~40M parameters (hidden 640, 8 layers, GQA 10/2 heads,
vocabulary 8,000), with LoRA adapters of random weights (r=8, all linear layers), one for each demo
author: base and two adapters x themes x samples poems, through the library's own path
(``HFBackend`` + ``run_jobs``: the cache layer, the batches, the seeds). At eval's defaults the jobs
are those ``poetbench eval`` builds (``build_jobs``) for the three demo authors: the base for every
author and each adapter for its own, every theme, eval's samples, the tiny preset's new tokens. Every configuration generates the same jobs into a fresh file;
``min_new_tokens`` = ``max_new_tokens`` so every poem costs the same. The configurations run in
turn, ``--repeats`` rounds (default 3), and each one's fastest run counts. Prints a table and
updates bench/RESULTS.md and bench/results.json (``generation_default_speedup``,
``generation_merged_speedup``: merged against unmerged, batch auto and prompts read once;
``generation_reserved_cache_speedup`` and ``..._at_eval_defaults``: the KV cache reserved or not,
the rest of the new defaults on;
``generation_default_speedup_at_eval_defaults``: the two ends again on eval's jobs at its defaults).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

SHAPE = dict(vocab_size=8000, hidden_size=640, intermediate_size=1792, num_hidden_layers=8, num_attention_heads=10,
             num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True)


def build(work: Path) -> tuple[Path, list[Path]]:
    """The random base (with a byte-level BPE trained on the prompt templates and themes) and a random
    adapter for each demo author (its manifest names the author, as a trained one's does)."""
    import torch
    from peft import get_peft_model
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from poetbench.config import DEMO_AUTHORS, preset
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
    for i, author in enumerate(DEMO_AUTHORS):
        torch.manual_seed(1 + i)
        lora = lora_config(preset("seed"))
        lora.init_lora_weights = False  # random B, so the adapter changes the output
        model = get_peft_model(Qwen2ForCausalLM.from_pretrained(base), lora)
        model.save_pretrained(work / f"adapter{i}")
        manifest = {"author": {"id": author}, "base_model": {"name": str(base)}}
        (work / f"adapter{i}" / "poetbench.json").write_text(json.dumps(manifest), encoding="utf-8")
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

    from poetbench.config import DEMO_AUTHORS, SamplingParams, preset
    from poetbench.corpus.authors import load_authors
    from poetbench.eval.plan import EvalOptions, build_jobs, sampling_for
    from poetbench.generation import Job, job_key, parse_models, run_jobs
    from poetbench.generation.hf import HFBackend
    from poetbench.prompts import default_prompts

    work = Path(tempfile.mkdtemp(prefix="poetbench-genspeed-"))
    base, adapters = build(work)
    all_entries = parse_models("base," + ",".join(map(str, adapters)), None)
    entries = all_entries[:3]  # the base and two adapters
    prompts = prompts_all = default_prompts()
    name = "Александр Сергеевич Пушкин"

    def make_jobs(samples: int, params: SamplingParams) -> list[Job]:
        return [Job(e.name, "pushkin", t, k, prompts.eval_prompt(t, name),
                    job_key(str(base), e, prompts.eval_prompt(t, name), params, 42 + k))
                for e in entries for t in prompts.themes[: args.themes] for k in range(samples)]

    params = SamplingParams(max_new_tokens=args.new_tokens)
    jobs = make_jobs(args.samples, params)
    n_params = sum(p.numel() for p in __import__("transformers").AutoModelForCausalLM.from_pretrained(base).parameters())
    cfg = preset("tiny").replace(base_model=str(base), dtype="fp32")

    import transformers

    real_generate = transformers.GenerationMixin.generate

    def fixed_length(self, *a, **kw):  # every poem the same length, so the configurations do the same work
        kw["min_new_tokens"] = kw.get("max_new_tokens")
        return real_generate(self, *a, **kw)

    transformers.GenerationMixin.generate = fixed_length
    # (merge, share prompts, reserve the KV cache)
    settings = [(False, False, False), (True, False, False), (False, True, False), (True, True, False),
                (True, True, True)]
    backends = {s: HFBackend(all_entries, str(base), cfg, merge=s[0], share_prompts=s[1], reserve_cache=s[2])
                for s in settings}
    new_defaults = backends[True, True, True]
    auto = new_defaults.auto_batch_size(jobs, params)

    configs = [(False, False, False, 8), (True, False, False, 8), (False, False, False, auto),
               (True, False, False, auto), (False, True, False, auto), (True, True, False, auto),
               (True, True, True, auto)]
    for i, b in enumerate(backends.values()):  # load and warm up every one
        run_jobs(b, jobs[:2], work / f"warm-{i}.jsonl", params, 2, str(base))

    def measure(configs, jobs, params, repeats, tag) -> dict:
        """Each configuration's fastest run over ``repeats`` rounds, in turn (round robin, so a slow
        minute of the machine hits every configuration)."""
        best = {c: float("inf") for c in configs}
        for rep in range(repeats):
            for i, (*setting, batch) in enumerate(configs):
                t0 = time.perf_counter()
                run_jobs(backends[tuple(setting)], jobs, work / f"{tag}-{i}-{rep}.jsonl", params, batch, str(base))
                best[configs[i]] = min(best[configs[i]], time.perf_counter() - t0)
        return best

    best = measure(configs, jobs, params, args.repeats, "g")
    today, new = best[configs[0]], best[configs[-1]]
    n = len(jobs)

    def label(merge, share, reserve, batch):
        what = [f"batch {batch}" if batch == 8 else f"batch auto ({batch})",
                "adapters merged" if merge else "adapters unmerged", *(["prompts read once"] if share else []),
                *(["KV cache reserved"] if reserve else [])]
        if (merge, share, reserve, batch) == configs[0]:
            return "today's defaults: " + ", ".join(what)
        return ("new defaults: " if (merge, share, reserve, batch) == configs[-1] else "") + ", ".join(what)

    rows = [[label(*c), f"{best[c]:.1f} s", f"{n / best[c]:.2f}", f"{today / best[c]:.2f}x"] for c in configs]
    merged8 = today / best[True, False, False, 8]
    merged_auto = best[False, True, False, auto] / best[True, True, False, auto]
    shared = best[True, False, False, auto] / best[True, True, False, auto]
    reserved = best[True, True, False, auto] / new
    md = markdown_table(["configuration", "time", "poems/s", "vs today"], rows)
    print(md)
    # The same two ends on eval's own jobs at its defaults (the demo authors, every theme, its samples;
    # the tiny preset's new tokens), 2 rounds
    samples, eval_params = EvalOptions().samples, sampling_for(preset("tiny"))
    names = {a: load_authors(preset("tiny").authors_file)[a].name for a in DEMO_AUTHORS}
    plan = SimpleNamespace(entries=all_entries, authors=list(DEMO_AUTHORS), themes=list(prompts_all.themes), prompts=prompts_all,
                           names=names, opts=SimpleNamespace(samples=samples), base_id=str(base), params=eval_params,
                           seed=42)
    eval_jobs = build_jobs(plan)
    eval_auto = new_defaults.auto_batch_size(eval_jobs, eval_params)
    ends = [configs[0], (True, True, False, eval_auto), (True, True, True, eval_auto)]
    at_eval = measure(ends, eval_jobs, eval_params, 2, "e")
    eval_ratio = at_eval[ends[0]] / at_eval[ends[-1]]
    eval_reserved = at_eval[ends[1]] / at_eval[ends[-1]]
    print(f"at eval's defaults ({samples} samples, {eval_params.max_new_tokens} new tokens): {eval_ratio:.2f}x")
    bank = backends[False, False, False].bank
    tok = bank.tokenizer
    prompts = [tok.apply_chat_template([{"role": "user", "content": j.prompt}], add_generation_prompt=True,
                                       tokenize=True, return_dict=False) for j in jobs[:auto]]
    prompt_tokens = round(sum(map(len, prompts)) / len(prompts))
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
        f"Merged against unmerged, the rest the same: {merged8:.2f}x at batch 8, {merged_auto:.2f}x at batch {auto} "
        f"with prompts read once. Reading each prompt once (the {args.samples} samples of a theme share its cache; "
        f"eval's default is {samples}): {shared:.2f}x at batch {auto}, merged; the prompt is {prompt_tokens} tokens here against "
        f"{args.new_tokens} new ones, so this gain shrinks as poems grow longer than their prompts. Reserving the KV "
        f"cache's room once (each step written in place, where `generate`'s own cache copies all it holds onto "
        f"itself each step): {reserved:.2f}x at batch {auto}, the rest of the new defaults on; this gain grows with "
        "the poem's length. Greedy decoding in fp32 gives the same tokens merged and unmerged, with the prompts read "
        "once or not and with the cache reserved or not; so do seeded samples (`tests/test_generation.py`). transformers' continuous batching (`generate_batch`, its default paged "
        f"attention), measured on the base with the first {len(prompts)} prompts: {continuous:.1f} s against "
        f"{padded:.1f} s for padded `generate` as one batch ({continuous / padded:.1f}x slower on this CPU), so eval "
        "does not use it; it was not measured on a GPU.\n\n"
        f"The same two ends on the jobs `poetbench eval` builds at its defaults ({len(DEMO_AUTHORS)} authors: the base for "
        f"every author and each author's own adapter; all {len(prompts_all.themes)} themes x {samples} samples, "
        f"{eval_params.max_new_tokens} new tokens, the tiny preset's; {len(eval_jobs)} poems, 2 rounds): today's "
        f"{at_eval[ends[0]]:.1f} s, the new defaults' (batch {eval_auto}) {at_eval[ends[-1]]:.1f} s, {eval_ratio:.2f}x; "
        f"without the reserved cache {at_eval[ends[1]]:.1f} s (reserving it: {eval_reserved:.2f}x). The base "
        f"generates for every author, so it has the most jobs and the largest batches; on one author's jobs for the "
        f"base and two adapters (96 poems, batch 32 each) the same two ends measured 2.86x on 2026-12-03.\n\n"
        f"Target 3x: {'met' if today / new >= 3 else 'NOT met'} here on the jobs above ({today / new:.2f}x), "
        f"{'met' if eval_ratio >= 3 else 'not met'} at eval's defaults ({eval_ratio:.2f}x). On these CPU cores a decoding "
        "step is compute-bound above a batch of about 32, and a LoRA layer's two thin matmuls cost little beside the "
        "base's, so the larger batch and merging give what they give here mostly by fewer, larger matmuls; reading a "
        "prompt once saves its share of the work, which is largest where prompts are long against poems, and the "
        "reserved cache the copying that grows with the square of a poem's length. On a GPU, "
        "where a step of the unmerged model cost about the same for 8 or 128 poems (gpu-seed below), the larger batch "
        "and merging are what the defaults were changed for."))
    update_json({"generation_default_speedup": round(today / new, 2),
                 "generation_merged_speedup": round(merged_auto, 2),
                 "generation_reserved_cache_speedup": round(reserved, 2),
                 "generation_reserved_cache_speedup_at_eval_defaults": round(eval_reserved, 2),
                 "generation_default_speedup_at_eval_defaults": round(eval_ratio, 2)})


if __name__ == "__main__":
    main()
