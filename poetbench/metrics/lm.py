"""Language-model metrics of real held-out poems, on completion tokens only, defined as in TRL's
SFTTrainer logs: mean token NLL (-> perplexity), mean entropy of the next-token distribution, and
mean token accuracy (the argmax is the true token)."""

from __future__ import annotations

import math

LM_VERSION = 1  # what completion_stats computes: a change to it makes eval compute every held-out row again


def completion_stats(model, tokenizer, prompts: list[str], completions: list[str], batch_size: int = 8,
                     max_length: int = 1024) -> dict[str, float]:
    """Sums over the completion tokens of every (prompt, completion) chat pair, then means."""
    import torch

    totals = {"nll": 0.0, "entropy": 0.0, "correct": 0, "tokens": 0}
    pad = tokenizer.pad_token_id
    for start in range(0, len(prompts), batch_size):
        rows, masks = [], []
        for p, c in zip(prompts[start: start + batch_size], completions[start: start + batch_size]):
            head = tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=True,
                                                 add_generation_prompt=True, return_dict=False)
            full = tokenizer.apply_chat_template([{"role": "user", "content": p}, {"role": "assistant", "content": c}],
                                                 tokenize=True, return_dict=False)[:max_length]
            rows.append(full)
            masks.append([0] * min(len(head), len(full)) + [1] * max(0, len(full) - len(head)))
        width = max(map(len, rows))
        device = model.device  # the batch goes where the model is (a GPU when there is one)
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=device)
        attn = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
        target_mask = torch.tensor([m + [0] * (width - len(m)) for m in masks], dtype=torch.bool, device=device)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1].float()
        labels, mask = ids[:, 1:], target_mask[:, 1:]
        logp = torch.log_softmax(logits, dim=-1)
        nll = -logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
        entropy = -(logp.exp() * logp).sum(-1)
        correct = logits.argmax(-1) == labels
        totals["nll"] += float(nll[mask].sum())
        totals["entropy"] += float(entropy[mask].sum())
        totals["correct"] += int(correct[mask].sum())
        totals["tokens"] += int(mask.sum())
    n = max(1, totals["tokens"])
    return {"perplexity": math.exp(totals["nll"] / n), "loss": totals["nll"] / n, "entropy": totals["entropy"] / n,
            "mean_token_accuracy": totals["correct"] / n, "tokens": totals["tokens"]}
