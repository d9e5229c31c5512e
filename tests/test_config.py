import pytest

from poetbench.config import PRESETS, RunConfig, load_config, preset, save_config
from poetbench.errors import ConfigError


def test_presets():
    seed, tiny = preset("seed"), preset("tiny")
    assert seed.base_model == "Qwen/Qwen2.5-3B-Instruct" and not seed.trust_remote_code
    assert (seed.lora_r, seed.lora_alpha, seed.lora_dropout, seed.lora_target_modules) == (8, 16, 0.05, "all-linear")
    assert tiny.is_tiny and not tiny.bf16 and not tiny.gradient_checkpointing
    assert tiny.authors == ["pushkin", "lermontov", "tyutchev"]
    tiny.authors.append("blok")
    assert preset("tiny").authors == ["pushkin", "lermontov", "tyutchev"]  # presets are not shared state


def test_every_field_is_documented():
    import dataclasses

    for f in dataclasses.fields(RunConfig):
        assert f.metadata.get("help"), f.name


def test_toml_roundtrip(tmp_path):
    cfg = preset("tiny").replace(lora_r=4, authors=["blok"])
    cfg.tiny.pretrain_steps = 7
    save_config(cfg, tmp_path / "c.toml")
    assert load_config(tmp_path / "c.toml") == cfg


def test_partial_toml_fills_from_its_preset(tmp_path):
    (tmp_path / "c.toml").write_text('preset = "tiny"\nmax_steps = 3\n[tiny]\nhidden_size = 64\n')
    cfg = load_config(tmp_path / "c.toml")
    assert cfg.max_steps == 3 and cfg.tiny.hidden_size == 64 and cfg.tiny.num_hidden_layers == 2
    assert cfg.base_model == "tiny"


@pytest.mark.parametrize("content,match", [
    ("lora_rank = 3\n", "unknown field 'lora_rank'"),
    ("max_steps = \n", "not valid TOML"),
    ('preset = "huge"\n', "unknown preset"),
    ("[tiny]\nwidth = 3\n", "unknown field 'width'"),
])
def test_bad_toml(tmp_path, content, match):
    (tmp_path / "c.toml").write_text(content)
    with pytest.raises(ConfigError, match=match):
        load_config(tmp_path / "c.toml")


def test_replace_rejects_unknown_fields():
    with pytest.raises(ConfigError):
        PRESETS["seed"].replace(nonsense=1)
