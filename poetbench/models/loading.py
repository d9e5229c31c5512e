"""Load a base model and tokenizer (hub id or local path): safetensors only, remote code off unless
asked. The tiny offline model (``models/tiny.py``) is an ordinary local model folder, so it loads
here exactly like ``Qwen/Qwen2.5-3B-Instruct``: by path.
"""

from __future__ import annotations

import logging
from pathlib import Path
from poetbench.errors import ModelError

def resolve_dtype(name: str):
    import torch

    if name == "auto":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    table = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    try:
        return table[name]
    except KeyError:
        raise ModelError(f"unknown dtype {name!r}; choose auto, bf16, fp16 or fp32") from None


def quiet_transformers() -> None:
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # transformers 5 renames gradient_checkpointing; TRL's config still sets the old name.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\..*")
    logging.getLogger("torch.distributed").setLevel(logging.ERROR)


def load_tokenizer(name_or_path: str, revision: str | None = None, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    quiet_transformers()
    try:
        tok = AutoTokenizer.from_pretrained(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise ModelError(_model_error(name_or_path, e)) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(name_or_path: str, revision: str | None = None, dtype: str = "auto",
               trust_remote_code: bool = False, attn_implementation: str | None = None, device_map=None):
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    # safetensors only: a pickled pytorch_model.bin from a user path could run arbitrary code
    kwargs = {"revision": revision, "dtype": resolve_dtype(dtype), "trust_remote_code": trust_remote_code,
              "use_safetensors": True}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if device_map is not None:
        kwargs["device_map"] = device_map
    try:
        return AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelError(_model_error(name_or_path, e)) from None


def to_accelerator(model):
    """The model on the GPU when there is one (generation and scoring run where the model is;
    training leaves placement to the Trainer)."""
    from poetbench.runtime import cuda_available, device_name

    if cuda_available() and getattr(model, "device", None) is not None and model.device.type == "cpu":
        model = model.to(device_name())  # each rank of `accelerate launch` on its own GPU
    return model


def _model_error(name_or_path: str, err: Exception) -> str:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if Path(name_or_path).exists():
        return f"cannot load model/tokenizer from {name_or_path}: {first}"
    return (
        f"cannot load base model {name_or_path!r}: not a local folder, and the hub did not provide it "
        f"({first}). Check the id, your network/HF_TOKEN, or pass a local path."
    )


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total
