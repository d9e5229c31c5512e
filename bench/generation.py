"""Generation speed on the tiny preset (CPU), measured side by side in one process:

* batched (left padding, `generate` on a batch) vs one prompt at a time (the seed lab's way),
  same model, same prompts, same number of new tokens;
* one base model with switched adapters vs reloading base + adapter for every adapter.

    .venv/bin/python bench/generation.py [--prompts 32] [--batch 16] [--new-tokens 48]

Needs trained tiny adapters (`poetbench train --preset tiny`). Updates bench/RESULTS.md and
bench/results.json (generation_batched_speedup, adapter_switch_speedup).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import os

    import torch

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=48)
    args = ap.parse_args()
    os.chdir(ROOT)
    from poetbench.config import preset
    from poetbench.corpus import prepare_corpora
    from poetbench.eval.plan import resolve_base
    from poetbench.generation import newest_run, parse_models
    from poetbench.generation.hf import ModelBank, chat_ids
    from poetbench.models.loading import load_model, load_tokenizer
    from poetbench.prompts import default_prompts
    from poetbench.workspace import Workspace

    ws = Workspace.from_env(ROOT)
    cfg = ws.resolve(preset("tiny"))
    run = newest_run(ws.adapters)
    if run is None:
        sys.exit("no trained adapters: run `poetbench train --preset tiny` first")
    entries = parse_models("base,lora", run)
    _, metas = prepare_corpora(cfg, authors=[], log=lambda m: None)
    base_path, _ = resolve_base(entries, cfg, metas, ws, log=lambda m: None)
    tok = load_tokenizer(base_path)
    prompts_set = default_prompts()
    prompts = [prompts_set.eval_prompt(prompts_set.themes[i % len(prompts_set.themes)], "Александр Сергеевич Пушкин")
               for i in range(args.prompts)]
    kw = dict(do_sample=True, temperature=0.8, top_p=0.95, max_new_tokens=args.new_tokens,
              min_new_tokens=args.new_tokens, pad_token_id=tok.pad_token_id)

    def run_prompts(model, batch):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        for i in range(0, len(prompts), batch):
            with torch.no_grad():
                model.generate(**chat_ids(tok, prompts[i: i + batch]), **kw)
        return time.perf_counter() - t0

    model = load_model(base_path)
    run_prompts(model, args.batch)  # warm-up
    sequential = run_prompts(model, 1)
    batched = run_prompts(model, args.batch)

    adapters = [e for e in entries if not e.is_base]
    few = prompts[: args.batch]

    def per_adapter(get_model):
        t0 = time.perf_counter()
        for e in adapters:
            with get_model(e) as m, torch.no_grad():
                torch.manual_seed(0)
                m.generate(**chat_ids(tok, few), **kw)
        return time.perf_counter() - t0

    bank = ModelBank(load_model(base_path), tok, entries)

    class Reload:
        def __init__(self, e):
            self.e = e

        def __enter__(self):
            from peft import PeftModel

            return PeftModel.from_pretrained(load_model(base_path), str(self.e.adapter_path)).eval()

        def __exit__(self, *a):
            return False

    switched_total = per_adapter(lambda e: bank.use(e.name))
    reloaded = per_adapter(Reload)
    rows = [
        [f"{args.prompts} poems, one prompt at a time", f"{sequential:.1f} s", ""],
        [f"{args.prompts} poems, batches of {args.batch}", f"{batched:.1f} s", f"{sequential / batched:.1f}x faster"],
        [f"{len(adapters)} adapters x {len(few)} poems, switched on one base", f"{switched_total:.1f} s", ""],
        [f"{len(adapters)} adapters x {len(few)} poems, base + adapter reloaded each time", f"{reloaded:.1f} s",
         f"switching {reloaded / switched_total:.1f}x faster"],
    ]
    md = markdown_table(["what", "time", "ratio"], rows)
    print(md)
    update_section("generation", f"## Generation on the tiny preset (CPU, {args.new_tokens} new tokens per poem)\n\n"
                   "Ratios are measured side by side in one process; on a GPU the batched ratio is larger.\n\n" + md)
    update_json({"generation_batched_speedup": round(sequential / batched, 2),
                 "adapter_switch_speedup": round(reloaded / switched_total, 2)})


if __name__ == "__main__":
    main()
