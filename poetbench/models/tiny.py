"""The tiny offline base model: a byte-level BPE tokenizer trained on the training poems of a declared
set of authors (``tiny.pretrain_authors``) and a small Qwen2 pretrained on them (cached by those
corpora's hashes and the config, both recorded in the base's ``poetbench_base.json``), so that on a
CPU "base" is a generic Russian verse model and each adapter specialises it. Importing another author
never changes it."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from typing import Iterable

from poetbench import corpus as corpus_mod
from poetbench.config import RunConfig
from poetbench.errors import ModelError
from poetbench.io import atomic_write_json, exclusive
from poetbench.prompts import PromptSet, default_prompts, theme_for_poem
from poetbench.runtime import (
    cuda_available, is_main_process, last_checkpoint, progress_callback, quiet_trainer, versions,
    wait_for_everyone, world_size,
)

# Qwen's ChatML without Qwen's default system prompt: the tiny model never sees a system turn.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]




def train_tiny_tokenizer(texts: Iterable[str], vocab_size: int):
    """Byte-level BPE (like Qwen's) trained on ``texts``, wrapped as a transformers fast tokenizer
    with the ChatML special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHATML_TEMPLATE
    fast.padding_side = "left"  # generation pads on the left; TRL's collator pads on its own
    return fast


def tiny_qwen2_config(tiny, tokenizer):
    """A small Qwen2 of the same architecture family as Qwen2.5 (GQA, tied embeddings)."""
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=tiny.hidden_size,
        intermediate_size=tiny.intermediate_size,
        num_hidden_layers=tiny.num_hidden_layers,
        num_attention_heads=tiny.num_attention_heads,
        num_key_value_heads=tiny.num_key_value_heads,
        max_position_embeddings=tiny.max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )


def init_tiny_model(tiny, tokenizer, seed: int):
    import torch
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(seed)
    return Qwen2ForCausalLM(tiny_qwen2_config(tiny, tokenizer))


def generic_records(records: list[dict], prompts: PromptSet) -> list[dict]:
    """Conversations without an author, for pretraining the tiny base on its pretraining authors."""
    return [
        {"messages": [
            {"role": "user", "content": prompts.generic_prompt(theme_for_poem(r.get("title"), r["text"]))},
            {"role": "assistant", "content": r["text"]},
        ]}
        for r in records
    ]


def pretrain_set(config: RunConfig, metas: dict) -> tuple[list[dict], dict[str, str]]:
    """The tiny base's pretraining poems (the train splits of ``tiny.pretrain_authors``) and those
    corpora's hashes. A declared author without texts is an error: the set is never quietly smaller."""
    from poetbench.errors import CorpusError

    wanted = list(config.tiny.pretrain_authors)
    missing = [a for a in wanted if a not in metas]
    if missing:
        raise CorpusError(f"the tiny base is pretrained on {', '.join(wanted)} (tiny.pretrain_authors), but "
                          f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no texts: import or fetch it (`poetbench corpus fetch "
                          f"{missing[0]}`), or set tiny.pretrain_authors in a config file to authors you have")
    records = [r for a in sorted(wanted) for r in corpus_mod.load_records(config.corpus_dir, a, "train")]
    return records, {a: metas[a]["corpus_sha256"] for a in sorted(wanted)}


def base_key_data(config: RunConfig, corpus_hashes: dict[str, str]) -> dict:
    """What decides the tiny base (its cache key hashes this)."""
    return {"tiny": config.to_dict()["tiny"], "corpora": corpus_hashes, "seed": config.seed,
            "prompts": default_prompts().generic_template, "version": 2}


def base_key(key_data: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]


def base_changes(old: dict, new: dict) -> list[str]:
    """What differs between the inputs of two tiny bases (``base_key_data``), in words."""
    out = []
    old_corpora, new_corpora = old.get("corpora") or {}, new.get("corpora") or {}
    for a in sorted(set(old_corpora) | set(new_corpora)):
        if a not in new_corpora:
            out.append(f"{a} is no longer in the pretraining set")
        elif a not in old_corpora:
            out.append(f"{a} was added to the pretraining set")
        elif old_corpora[a] != new_corpora[a]:
            out.append(f"{a}'s corpus changed (sha256 {old_corpora[a][:12]}… then, {new_corpora[a][:12]}… now)")
    old_tiny, new_tiny = old.get("tiny") or {}, new.get("tiny") or {}
    for k in sorted(set(old_tiny) | set(new_tiny)):
        if k != "pretrain_authors" and old_tiny.get(k) != new_tiny.get(k):
            out.append(f"tiny.{k} {old_tiny.get(k)!r} then, {new_tiny.get(k)!r} now")
    for k in ("seed", "prompts", "version"):
        if old.get(k) != new.get(k):
            out.append(f"{k} {old.get(k)!r} then, {new.get(k)!r} now")
    return out


def cached_base(cache_dir: Path, key: str) -> Path | None:
    path = cache_dir / "tiny-base" / key
    return path if (path / "poetbench_base.json").exists() else None


def ensure_tiny_base(config: RunConfig, metas: dict, cache_dir: Path | None = None, progress=None,
                     log: Callable[[str], None] = print) -> Path:
    """Return the folder of the tiny pretrained base for this config and its declared pretraining
    set (``pretrain_set``), building it (tokenizer + short causal-LM pretraining on those train
    splits) when it is not cached yet. Other authors' corpora never change it."""
    from poetbench.models.loading import quiet_transformers

    quiet_transformers()

    train_records, corpus_hashes = pretrain_set(config, metas)
    key_data = base_key_data(config, corpus_hashes)
    key = base_key(key_data)
    if cache_dir is None:
        from poetbench.workspace import Workspace

        cache_dir = Workspace.from_env().cache
    root = cache_dir / "tiny-base"
    path = root / key
    if (path / "poetbench_base.json").exists():
        return path
    if world_size() > 1:  # every rank pretrains it together (rank 0 writes)
        return _build_base(config, train_records, corpus_hashes, key_data, root, key, progress, log)
    # one process builds a base at a time: another (two `train`s started at once) waits, then takes it
    with exclusive(root, ModelError, wait=log, name=f".{key}.lock"):
        if (path / "poetbench_base.json").exists():
            return path
        return _build_base(config, train_records, corpus_hashes, key_data, root, key, progress, log)


def _build_base(config: RunConfig, train_records: list[dict], corpus_hashes: dict, key_data: dict, root: Path,
                key: str, progress, log: Callable[[str], None]) -> Path:
    """The tiny base pretrained and saved in ``root/key`` (``ensure_tiny_base``)."""
    prompts = default_prompts()
    path = root / key
    tiny = config.tiny
    t0 = time.time()
    log(f"building the tiny base model ({len(train_records)} training poems, cache {path})")
    tokenizer = tiny_tokenizer(config, train_records)
    model = init_tiny_model(tiny, tokenizer, config.seed)
    blocks = _lm_blocks(generic_records(train_records, prompts), tokenizer, tiny.pretrain_seq_len)
    work = root / f".{key}.work"
    # Plain causal-LM pretraining with transformers' Trainer (resumable checkpoints); TRL's fused
    # per-token metrics are not needed here and cost ~2.5x on a CPU.
    from transformers import Trainer, TrainingArguments, default_data_collator

    args = TrainingArguments(
        output_dir=str(work), seed=config.seed, data_seed=config.seed, max_steps=tiny.pretrain_steps,
        learning_rate=tiny.pretrain_learning_rate, lr_scheduler_type="cosine", warmup_steps=0.05,
        weight_decay=0.01, per_device_train_batch_size=tiny.pretrain_batch_size, use_cpu=not cuda_available(),
        logging_steps=max(1, tiny.pretrain_steps // 20), save_strategy="steps",
        save_steps=max(1, tiny.pretrain_steps // 4), save_total_limit=1, report_to="none", disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=blocks, data_collator=default_data_collator,
                      callbacks=[progress_callback(progress, "pretrain tiny base")])
    quiet_trainer(trainer)
    last = last_checkpoint(work)
    trainer.train(resume_from_checkpoint=last)
    if is_main_process():  # in a distributed run every rank trains; rank 0 writes
        tmp = root / f".{key}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
        atomic_write_json(tmp / "poetbench_base.json", {
            "kind": "poetbench-tiny-base", "key": key, "config": key_data,
            "pretrain": {"authors": sorted(corpus_hashes), "corpora": corpus_hashes, "poems": len(train_records)},
            "pretrain_loss_first": losses[0],
            "pretrain_loss_last": losses[-1], "wall_time_s": round(time.time() - t0, 1), "versions": versions(),
        })
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
        shutil.rmtree(work, ignore_errors=True)
    wait_for_everyone()
    return path


def _lm_blocks(conversations: list[dict], tokenizer, seq_len: int):
    """Chat-formatted documents, concatenated and cut into ``seq_len`` blocks (run_clm's group_texts)."""
    from datasets import Dataset

    ids: list[int] = []
    for conv in conversations:
        ids.extend(tokenizer.apply_chat_template(conv["messages"], tokenize=True, return_dict=False))
        ids.append(tokenizer.pad_token_id)  # document separator (<|endoftext|>)
    n = len(ids) // seq_len
    rows = [ids[i * seq_len : (i + 1) * seq_len] for i in range(n)]
    return Dataset.from_dict({"input_ids": rows, "labels": rows})


def tiny_tokenizer(config: RunConfig, train_records: list[dict]):
    """The tiny preset's tokenizer: byte-level BPE on the training poems and the prompt templates."""
    prompts = default_prompts()
    texts = [r["text"] for r in train_records]
    return train_tiny_tokenizer(
        texts + [prompts.generic_template, prompts.train_template, prompts.eval_template], config.tiny.vocab_size
    )


def resolve_tokenizer_for_stats(config: RunConfig, name: str, metas: dict, log: Callable[[str], None] = print):
    """(tokenizer or None, its display name) for ``corpus stats --tokenizer NAME``."""
    from poetbench.models.loading import load_tokenizer

    if name == "none":
        return None, None
    if name == "tiny" or (name == "auto" and config.is_tiny):
        return tiny_tokenizer(config, pretrain_set(config, metas)[0]), "tiny BPE"
    target = config.base_model if name == "auto" else name
    try:
        return load_tokenizer(target, config.base_revision if name == "auto" else None), target
    except ModelError as e:
        if name != "auto":
            raise
        log(f"[yellow]no token counts[/]: {e}")
        return None, None
