"""What TRL and peft are given for one author: the chat-format dataset, ``SFTConfig`` and ``LoraConfig``,
and which of TRL's logged values make the training table."""

from __future__ import annotations

from pathlib import Path

from poetbench.config import RunConfig
from poetbench.prompts import PromptSet, theme_for_poem

TRAIN_COLUMNS = ["loss", "grad_norm", "entropy", "num_tokens", "mean_token_accuracy"]
VAL_COLUMNS = ["eval_loss", "eval_entropy", "eval_mean_token_accuracy"]
TABLE_HEADERS = {
    "loss": "Loss", "grad_norm": "Grad Norm", "entropy": "Entropy", "num_tokens": "Num Tokens",
    "mean_token_accuracy": "Mean Token Accuracy", "eval_loss": "Val Loss", "eval_entropy": "Val Entropy",
    "eval_mean_token_accuracy": "Val Mean Token Accuracy",
}
# attention implementations that keep packed examples apart (TRL's padding-free packing)
PACKING_ATTENTION = ("flash_attention_2", "flash_attention_3")


def sft_records(records: list[dict], author_name: str, prompts: PromptSet) -> list[dict]:
    """Chat pairs in TRL's conversational prompt-completion format (loss on the completion only)."""
    return [
        {
            "prompt": [{"role": "user", "content": prompts.train_prompt(theme_for_poem(r.get("title"), r["text"]), author_name)}],
            "completion": [{"role": "assistant", "content": r["text"]}],
            "id": r["id"],
        }
        for r in records
    ]


GIB = 2**30


def memory_plan(config: RunConfig, model_config, free_bytes: float, weight_bytes: float) -> tuple[int, int, bool]:
    """(micro-batch, accumulation steps, gradient checkpointing) for a GPU with ``free_bytes`` free:
    the largest micro-batch that divides the sequences per optimizer step and whose activations
    fit ``memory_budget_gib`` (at most 90% of the free memory) beside the weights; without
    gradient checkpointing when that same micro-batch fits without it. Activations per sequence
    of ``max_length`` tokens, calibrated on Qwen2.5-3B-Instruct (bench/RESULTS.md, gpu-seed: 5.1 GiB
    per sequence without checkpointing, 0.45 GiB with; TRL's fused LM head keeps the logits out):
    70 bytes per token, layer and hidden unit without, 6 (plus one layer's 70) with."""
    total = config.per_device_train_batch_size * config.gradient_accumulation_steps
    tokens, layers, hidden = config.max_length, model_config.num_hidden_layers, model_config.hidden_size
    budget = min(config.memory_budget_gib * GIB, 0.9 * free_bytes) - weight_bytes - 1 * GIB
    without = tokens * layers * hidden * 70
    with_ckpt = tokens * layers * hidden * 6 + tokens * hidden * 70

    def largest(per_seq: float) -> int:
        fits = [m for m in range(1, total + 1) if total % m == 0 and m * per_seq <= budget]
        return max(fits, default=0)

    plain, ckpt = largest(without), largest(with_ckpt)
    if plain and plain >= ckpt:
        return plain, total // plain, False
    m = max(ckpt, 1)
    return m, total // m, True


def sft_config(config: RunConfig, output_dir: Path, model=None, **overrides):
    import torch
    from trl import SFTConfig

    cuda = torch.cuda.is_available()
    bf16 = bool(config.bf16 and cuda and torch.cuda.is_bf16_supported())
    micro, accumulation = config.per_device_train_batch_size, config.gradient_accumulation_steps
    checkpointing = bool(config.gradient_checkpointing and cuda)
    if cuda and config.auto_micro_batch and model is not None:
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        micro, accumulation, checkpointing = memory_plan(config, model.config, torch.cuda.mem_get_info()[0], weights)
    kwargs = dict(
        output_dir=str(output_dir),
        seed=config.seed,
        data_seed=config.seed,
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=micro,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=accumulation,
        max_length=config.max_length,
        packing=config.packing,
        bf16=bf16,
        fp16=False,
        gradient_checkpointing=checkpointing,
        use_cpu=not cuda,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=1,
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        model_init_kwargs=None,
    )
    if config.use_liger_kernel:
        import importlib.util

        from poetbench.errors import TrainError

        if importlib.util.find_spec("liger_kernel") is None:
            raise TrainError("--use-liger-kernel needs Liger's kernels: pip install 'poetbench[liger]' (GPU)")
        kwargs["use_liger_kernel"] = True
    kwargs.update(overrides)
    return SFTConfig(**kwargs)


def lora_config(config: RunConfig):
    from peft import LoraConfig

    targets = config.lora_target_modules
    target_modules = targets if targets == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()]
    return LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=target_modules, bias="none", task_type="CAUSAL_LM",
    )


def final_train_metrics(log_history: list[dict]) -> dict:
    """TRL's logged train values at the last logging step (never re-typed)."""
    rows = [e for e in log_history if "loss" in e and "eval_loss" not in e]
    if not rows:
        return {}
    last = rows[-1]
    return {k: last[k] for k in TRAIN_COLUMNS if k in last} | {"step": last.get("step")}
