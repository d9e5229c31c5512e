import pytest

from poetbench.config import preset
from poetbench.errors import ModelError
from poetbench.models.loading import count_parameters, load_model, resolve_dtype
from poetbench.models.tiny import CHATML_TEMPLATE, train_tiny_tokenizer
from poetbench.train import lora_config


def qwen25_3b_config():
    """Qwen/Qwen2.5-3B-Instruct's published config.json (the numbers that decide parameter counts)."""
    from transformers import Qwen2Config

    return Qwen2Config(vocab_size=151936, hidden_size=2048, intermediate_size=11008, num_hidden_layers=36,
                       num_attention_heads=16, num_key_value_heads=2, max_position_embeddings=32768,
                       tie_word_embeddings=True, rms_norm_eps=1e-6)


def test_seed_lora_on_qwen25_3b_has_the_seed_trainable_count():
    """Built on the meta device (no weights, no hub): r=8, alpha=16, all linear layers -> ~14.97M."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(qwen25_3b_config())
    peft_model = get_peft_model(model, lora_config(preset("seed")))
    trainable, total = count_parameters(peft_model)
    assert abs(trainable - 14.97e6) / 14.97e6 < 0.02
    assert trainable == 14_966_784  # 36 layers x (q,k,v,o,gate,up,down) x r x (in + out)
    assert 3.0e9 < total < 3.2e9


def test_tiny_tokenizer_chat_template_and_roundtrip():
    tok = train_tiny_tokenizer(["Мороз и солнце; день чудесный!\nЕщё ты дремлешь, друг прелестный"] * 20, 400)
    text = "Мороз и солнце — ёлка"
    assert tok.decode(tok(text)["input_ids"]) == text  # byte-level: lossless on any text
    chat = tok.apply_chat_template([{"role": "user", "content": "Тема"}], tokenize=False, add_generation_prompt=True)
    assert chat == "<|im_start|>user\nТема<|im_end|>\n<|im_start|>assistant\n"
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert tok.chat_template == CHATML_TEMPLATE


def test_tiny_tokenizer_is_deterministic():
    texts = [f"строка номер {i} про осень и весну" for i in range(50)]
    assert train_tiny_tokenizer(texts, 350).get_vocab() == train_tiny_tokenizer(texts, 350).get_vocab()


def test_unknown_model_path_is_a_model_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="cannot load"):
        load_model(str(tmp_path / "empty"))


def test_dtypes():
    import torch

    assert resolve_dtype("fp32") is torch.float32 and resolve_dtype("bf16") is torch.bfloat16
    with pytest.raises(ModelError):
        resolve_dtype("int3")


def test_pickled_weights_are_refused(tmp_path):
    """A model folder with only pytorch_model.bin (pickle) is not loaded."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=1))
    model.save_pretrained(str(tmp_path / "m"))
    (tmp_path / "m" / "model.safetensors").unlink()
    torch.save(model.state_dict(), tmp_path / "m" / "pytorch_model.bin")
    with pytest.raises(ModelError, match="cannot load"):
        load_model(str(tmp_path / "m"))


def test_to_accelerator_moves_a_cpu_model_to_the_gpu_when_there_is_one(monkeypatch):
    """eval generates and scores where the model is: on a GPU box it must be put there (the Trainer
    places the model for training, nothing did for eval)."""
    import torch

    from poetbench.models.loading import to_accelerator

    class Model:
        device = torch.device("cpu")
        moved_to = None

        def to(self, where):
            self.moved_to = where
            return self

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert to_accelerator(Model()).moved_to is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert to_accelerator(Model()).moved_to == "cuda"


def test_memory_aware_micro_batch_on_a_gpu():
    """The seed preset on Qwen2.5-3B's shapes: within the default 24 GiB budget the 16 sequences of
    an optimizer step go in one micro-batch with gradient checkpointing (the fast path measured
    on an H200 needed 87 GiB without it); a large budget drops checkpointing once the micro-batch
    it allows is as large; a small one falls back to the smallest micro-batch."""
    from poetbench.train.sft import GIB, memory_plan

    cfg = preset("seed")
    shape = qwen25_3b_config()
    weights = 3.09e9 * 2
    assert memory_plan(cfg, shape, 140 * GIB, weights) == (16, 1, True)
    assert memory_plan(cfg.replace(memory_budget_gib=120), shape, 140 * GIB, weights) == (16, 1, False)
    assert memory_plan(cfg, shape, 8 * GIB, weights) == (1, 16, True)
    assert memory_plan(cfg.replace(memory_budget_gib=100), shape, 30 * GIB, weights)[0] * 0.45 * GIB < 30 * GIB


def test_sft_config_takes_the_plan_only_on_a_gpu(monkeypatch, tmp_path):
    import torch

    from poetbench.train.sft import sft_config

    class Model:
        config = qwen25_3b_config()

        def parameters(self):
            return [torch.empty(10, dtype=torch.bfloat16)]

    cfg = preset("seed")
    cpu = sft_config(cfg, tmp_path, model=Model())
    assert (cpu.per_device_train_batch_size, cpu.gradient_accumulation_steps) == (4, 4) and not cpu.gradient_checkpointing
    assert not cfg.replace(use_liger_kernel=False).use_liger_kernel


def test_two_trainings_started_at_once_build_the_tiny_base_once(corpus_env, tmp_path, monkeypatch):
    """The second process that needs the tiny base another one is pretraining waits for it, says so, and
    takes it (both had pretrained into one work folder and saved into one folder)."""
    import poetbench.models.tiny as T
    from poetbench.corpus.build import prepare_corpora
    from tests.conftest import micro_config, two_at_once

    cfg = micro_config(corpus_env)
    _, metas = prepare_corpora(cfg, authors=[], log=lambda m: None)
    logs, got = two_at_once(monkeypatch, T, "_build_base",
                            lambda log: T.ensure_tiny_base(cfg, metas, tmp_path / "cache", log=log))
    assert sum(m.startswith("building the tiny base") for m in logs["first"] + logs["second"]) == 1
    assert any(m.startswith("waiting for another poetbench process") for m in logs["second"])
    assert got["first"] == got["second"] and (got["first"] / "poetbench_base.json").is_file()
