"""Seed-preset figures on one GPU: LoRA training tokens/s and peak GPU memory with the defaults
(memory-aware micro-batch), the previous defaults (4 x 4 with checkpointing) and the fast options,
and `poetbench eval` generation speed with the hf backend: today's default (batch 8, adapters
unmerged) against the new one (batch auto, adapters merged).

    python bench/gpu_seed.py [--base-model Qwen/Qwen2.5-3B-Instruct] [--corpus-root DIR]
    python bench/gpu_seed.py --random-weights [--corpus-root DIR]     # a GPU machine without the hub
    python bench/gpu_seed.py --smoke                                  # a CPU check of this script

It runs the library paths `poetbench train` and `poetbench eval` use (`train()`; `HFBackend` and
`run_jobs()`, the model put on the GPU by `to_accelerator`) on one author, Pushkin. With --random-weights the base model is
built from Qwen2.5-3B-Instruct's architecture (its config.json values, below) with random weights,
and a byte-level BPE of 8,000 tokens is trained on the corpora (`poetbench.models`): for the same
number of tokens the speed and memory of a model depend on its shapes, not its weights, so the
training figures hold for the real model; but its tokenizer cuts Russian into other pieces, so
tokens per poem differ, and random weights never stop at an end token, so every generated poem runs
to max_new_tokens (poems/s is then the floor for that length; tokens/s is the comparable figure).
Prints a table; updates bench/RESULTS.md ("gpu-seed") and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _results import markdown_table, update_json, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Qwen/Qwen2.5-3B-Instruct config.json (architecture fields): 3.09B parameters, 36 layers
QWEN25_3B_INSTRUCT = dict(
    hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
    num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1_000_000.0,
    rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu", use_sliding_window=False,
)
SMOKE_SHAPE = dict(QWEN25_3B_INSTRUCT, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, vocab_size=8192)
AUTHOR = "pushkin"
# the fast options a GPU user has: no recomputation of activations, the same 16 sequences per
# optimizer step in one micro-batch, PyTorch's fused attention (packing needs flash-attn: not here)
FAST = dict(gradient_checkpointing=False, per_device_train_batch_size=16, gradient_accumulation_steps=1,
            attn_implementation="sdpa", auto_micro_batch=False)
# the defaults before the memory-aware micro-batch: 4 x 4 with gradient checkpointing
PREVIOUS = dict(auto_micro_batch=False)


def corpus_texts(corpus_root: Path) -> list[str]:
    from poetbench.io import iter_jsonl

    return [row["text"] for f in sorted(corpus_root.glob("*.jsonl")) for _, row in iter_jsonl(f)]


def random_base(path: Path, corpus_root: Path, shape: dict) -> None:
    """A base model of ``shape`` with random weights, saved with a tokenizer trained on the corpora."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from poetbench.models.loading import resolve_dtype
    from poetbench.models.tiny import train_tiny_tokenizer

    tok = train_tiny_tokenizer(corpus_texts(corpus_root), 8000)
    config = Qwen2Config(**shape, bos_token_id=None, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = Qwen2ForCausalLM(config)
    model.to(resolve_dtype("auto")).save_pretrained(path)  # the dtype `poetbench train` loads it in
    tok.save_pretrained(path)
    del model


def peak_gib() -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 1) if torch.cuda.is_available() else None


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def train_once(base: str, corpus_root: Path, out: Path, steps: int, **options) -> dict:
    """One `poetbench train` of the author with the seed preset (plus ``options``)."""
    from poetbench.config import preset
    from poetbench.train import MANIFEST, train

    config = preset("seed").replace(base_model=base, authors=[AUTHOR], corpus_root=str(corpus_root),
                                    corpus_dir=str(out.parent / "corpus"), max_steps=steps, save_steps=100_000,
                                    logging_steps=5, **options)
    reset_peak()
    t0 = time.time()
    train(config, output_dir=out, log=lambda *_: None)
    wall = time.time() - t0
    manifest = json.loads((out / AUTHOR / MANIFEST).read_text(encoding="utf-8"))
    history = manifest["log_history"]
    runtime = next(e["train_runtime"] for e in reversed(history) if "train_runtime" in e)
    tokens = max(e.get("num_tokens", 0) for e in history)
    return {"steps": steps, "tokens": int(tokens), "train_s": round(runtime, 1),
            "tokens_per_s": round(tokens / runtime), "peak_gib": peak_gib(), "wall_s": round(wall, 1),
            "schedule": f"{manifest['effective'].get('per_device_train_batch_size')} x "
                        f"{manifest['effective'].get('gradient_accumulation_steps')}, "
                        f"{'on' if manifest['effective'].get('gradient_checkpointing') else 'off'}",
            "trainable": manifest["trainable_parameters"], "total": manifest["total_parameters"],
            "effective": manifest["effective"]}


def random_adapter(base: str, path: Path) -> Path:
    """An adapter of the seed preset's LoRA shape with random weights (for speed alone: no training)."""
    from peft import get_peft_model

    from poetbench.config import preset
    from poetbench.models.loading import load_model
    from poetbench.train import lora_config

    lora = lora_config(preset("seed"))
    lora.init_lora_weights = False  # random B too, so the adapter changes the output (verify_adapters)
    get_peft_model(load_model(base), lora).save_pretrained(str(path))
    return path


def generation(base: str, adapters: Path, out: Path, themes: int, batch_sizes: list[int], max_new_tokens: int,
               samples: int = 1) -> dict:
    """base and the adapter(s) in ``adapters`` x ``themes`` prompts x ``samples`` through the hf
    backend, per batch size."""
    import torch

    from poetbench.config import SamplingParams, preset
    from poetbench.generation import Job, job_key, parse_models, run_jobs
    from poetbench.generation.hf import HFBackend
    from poetbench.prompts import default_prompts

    entries = parse_models("base,lora", adapters) if (adapters / AUTHOR).is_dir() else parse_models(f"base,{adapters}", None)
    backend = HFBackend(entries, base, preset("seed"))  # the seed preset's loading options (dtype auto)
    prompts = default_prompts()
    name = "Александр Сергеевич Пушкин"
    backend.probe(prompts.eval_prompt(prompts.themes[0], name))
    params = SamplingParams(max_new_tokens=max_new_tokens)
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)

    def jobs_for(models, n_themes, n_samples, seed):
        return [Job(e.name, AUTHOR, t, k, prompts.eval_prompt(t, name),
                    job_key(base, e, prompts.eval_prompt(t, name), params, seed + k))
                for e in models for t in prompts.themes[:n_themes] for k in range(n_samples)]

    run_jobs(backend, jobs_for(entries[:1], 1, 1, 7), out / "warmup.jsonl", params, 1, base)
    result = {"device": str(backend.bank.model.device), "max_new_tokens": max_new_tokens, "runs": []}
    reset_peak()
    for n, size in enumerate(batch_sizes):  # sizes: numbers or "auto"; "8u" = batch 8 unmerged (today's default)
        merged = not str(size).endswith("u")
        jobs = jobs_for(entries, themes, samples, 42 + n)
        backend.merge = merged
        bs = backend.auto_batch_size(jobs, params) if size == "auto" else int(str(size).rstrip("u"))
        sync()
        t0 = time.time()
        rows = run_jobs(backend, jobs, out / f"generations-{n}.jsonl", params, bs, base)
        sync()
        secs = time.time() - t0
        tokens = sum(rows[j.key]["tokens"] for j in jobs)
        result["runs"].append({"batch_size": bs, "auto": size == "auto", "merged": merged, "poems": len(jobs),
                               "seconds": round(secs, 1), "poems_per_s": round(len(jobs) / secs, 2),
                               "tokens_per_s": round(tokens / secs)})
    result["peak_gib"] = peak_gib()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-model", default="Qwen/Qwen2.5-3B-Instruct")
    ap.add_argument("--random-weights", action="store_true", help="Qwen2.5-3B-Instruct's shapes, random weights")
    ap.add_argument("--smoke", action="store_true", help="a 2-layer model, 2 steps, 2 themes: checks the script")
    ap.add_argument("--corpus-root", type=Path, default=ROOT.parent / "shared" / "corpora")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--themes", type=int, default=16)
    ap.add_argument("--batch-sizes", default="8u,auto",
                    help="generation batch sizes: numbers (adapters merged), N u (unmerged: 8u is today's default), auto")
    ap.add_argument("--max-new-tokens", type=int, default=512)
    ap.add_argument("--samples", type=int, default=1, help="samples per theme in the generation runs")
    ap.add_argument("--only-generation", action="store_true",
                    help="skip training; generate with an adapter of random weights (speed only)")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = ap.parse_args()

    import torch

    if args.smoke:
        args.steps, args.themes, args.batch_sizes, args.max_new_tokens = 2, 2, "2u,auto", 16
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU (CPU)"
    figures: dict = {"gpu": gpu, "torch": torch.__version__}
    work = Path(tempfile.mkdtemp(prefix="poetbench-gpu-"))
    base = args.base_model
    if args.random_weights or args.smoke:
        base = str(work / "base")
        t0 = time.time()
        random_base(Path(base), args.corpus_root, SMOKE_SHAPE if args.smoke else QWEN25_3B_INSTRUCT)
        figures["base"] = f"random weights, {'smoke' if args.smoke else 'Qwen2.5-3B-Instruct'} shapes ({time.time() - t0:.0f} s to build)"
    else:
        figures["base"] = base
    sizes = [b.strip() for b in args.batch_sizes.split(",")]
    stages = [("train_default", lambda: train_once(base, args.corpus_root, work / "default", args.steps)),
              ("train_previous", lambda: train_once(base, args.corpus_root, work / "previous", args.steps, **PREVIOUS)),
              ("train_fast", lambda: train_once(base, args.corpus_root, work / "fast", args.steps, **FAST)),
              ("generation", lambda: generation(base, work / "default", work, args.themes, sizes,
                                                args.max_new_tokens, args.samples))]
    if args.only_generation:
        stages = [("generation", lambda: generation(base, random_adapter(base, work / "adapter"), work, args.themes,
                                                    sizes, args.max_new_tokens, args.samples))]
    for name, run in stages:  # a stage that fails is reported and the others still run
        try:
            figures[name] = run()
        except Exception as e:  # noqa: BLE001 - a benchmark reports what broke and goes on
            figures[name] = {"error": f"{type(e).__name__}: {e}"}
            traceback.print_exc()
        print(name, json.dumps(figures[name], ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")

    def cell(stage: str, key: str, unit: str = "") -> str:
        value = figures.get(stage, {}).get(key)
        return "—" if value is None else f"{value:,}{unit}" if isinstance(value, (int, float)) else str(value)

    rows = [["LoRA training tokens/s (seed preset, one author)", cell("train_default", "tokens_per_s"),
             cell("train_previous", "tokens_per_s"), cell("train_fast", "tokens_per_s")],
            ["peak GPU memory (allocated)", cell("train_default", "peak_gib", " GiB"),
             cell("train_previous", "peak_gib", " GiB"), cell("train_fast", "peak_gib", " GiB")],
            ["micro-batch x accumulation, checkpointing", cell("train_default", "schedule"),
             cell("train_previous", "schedule"), cell("train_fast", "schedule")],
            ["tokens over the timed steps", cell("train_default", "tokens"), cell("train_previous", "tokens"),
             cell("train_fast", "tokens")]]
    gen = figures.get("generation", {})
    for r in gen.get("runs", []):
        rows.append([f"hf generation, batch {r['batch_size']}{' (auto)' if r.get('auto') else ''}"
                     f"{', merged' if r.get('merged') else ', unmerged'}: poems/s (tokens/s)",
                     f"{r['poems_per_s']} ({r['tokens_per_s']:,})", "—", "—"])
    md = (f"GPU: **{gpu}**; base model: {figures['base']}; torch {figures['torch']}; {args.steps} optimizer steps of "
          f"16 sequences per run; generation: {args.themes} themes x {args.samples} sample(s) x (base, LoRA), "
          f"max_new_tokens {gen.get('max_new_tokens', args.max_new_tokens)}, on {gen.get('device', '?')}.\n\n"
          + markdown_table(["measure", "defaults (memory-aware micro-batch, 24 GiB budget)",
                            "previous defaults (4 x 4, checkpointing)", "fast options (no checkpointing, 16 x 1, sdpa)"],
                           rows))
    errors = {k: v["error"] for k, v in figures.items() if isinstance(v, dict) and "error" in v}
    if errors:
        md += "\n\nFailed stages: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
    print(md)
    if args.only_generation:
        return  # a partial run: printed (and --json), RESULTS.md keeps the full run's section
    if not args.smoke:
        update_section("gpu-seed", "## Seed preset on a GPU (bench/gpu_seed.py)\n\n" + md)
        auto_run = next((r for r in gen.get("runs", []) if r.get("auto") and r.get("merged")), {})
        update_json({"gpu_name": gpu,
                     "gpu_train_tokens_per_s": figures.get("train_default", {}).get("tokens_per_s"),
                     "gpu_poems_per_s": auto_run.get("poems_per_s"),
                     "gpu_train_tokens_per_s_default": figures.get("train_default", {}).get("tokens_per_s"),
                     "gpu_train_tokens_per_s_fast": figures.get("train_fast", {}).get("tokens_per_s"),
                     "gpu_train_peak_gib_default": figures.get("train_default", {}).get("peak_gib"),
                     "gpu_train_peak_gib_fast": figures.get("train_fast", {}).get("peak_gib"),
                     "gpu_generation_poems_per_s": {str(r["batch_size"]): r["poems_per_s"] for r in gen.get("runs", [])}})


if __name__ == "__main__":
    main()
