"""Shared fixtures: small synthetic corpora written by the tests, and an even smaller tiny model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from poetbench.config import TinyModelConfig, preset

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Each synthetic author has a vocabulary of its own, so an adapter has something to learn.
VOCAB = {
    "alpha": "луна звезда ночь туман река берег ветер тихий светлый печальный плывёт сияет".split(),
    "beta": "город камень улица мост окно дверь шаги холодный серый железный стоит звенит".split(),
    "gamma": "поле берёза рожь изба конь дорога песня зелёный родной весёлый шумит поёт".split(),
}


VOWELS = "аеёиоуыэюя"
CLITICS = "и в во на с со к ко по не ни за из от до у о об а но же ли бы".split()
PROMPT_WORDS = ("напиши стихотворение из четверостиший на тему в стиле поэта каждое четверостишие должно быть "
                "художественным ритмичным стих строка раз два три четыре").split()


def write_stress_dictionary(folder: Path) -> Path:
    """A small accent.dic / accent1.dic (cp1251, the shared dictionaries' format) covering the synthetic
    authors' words, so tests that scan poems do not need ../shared/prosody. Stress: the penultimate
    vowel of words of three or more syllables, else the first (a fixed rule, like a real language's)."""
    folder.mkdir(parents=True, exist_ok=True)
    words = sorted({w for ws in VOCAB.values() for w in ws} | set(PROMPT_WORDS))
    lines = []
    for w in words:
        n = sum(ch in VOWELS for ch in w)
        if n:
            lines.append(f"{w.replace('ё', 'е')}\t{n - 1 if n >= 3 else 1}{chr(34) if 'ё' in w else ''}")
    (folder / "accent.dic").write_bytes(("\n".join(lines) + "\n").encode("cp1251"))
    (folder / "accent1.dic").write_bytes(("\r\n".join(f"{c}\t0" for c in CLITICS) + "\r\n").encode("cp1251"))
    return folder


def launch_args(processes: int = 2) -> list[str]:
    """`accelerate launch`'s options for a data-parallel run of ``processes`` CPU processes on this
    machine, on a port free now (a second launch on the default port can meet the first one's socket
    still closing)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return ["launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
            "--main_process_port", str(port), "--mixed_precision", "no", "--dynamo_backend", "no"]


def make_poem(rng: random.Random, words: list[str], lines: int = 8) -> str:
    out = []
    for i in range(lines):
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 5))).capitalize())
        if i % 4 == 3 and i < lines - 1:
            out.append("")
    return "\n".join(out)


def write_corpus(path: Path, author: str, n: int, seed: int = 0) -> Path:
    rng = random.Random(f"{author}-{seed}")
    rows = [{"title": f"Стих {i}", "text": make_poem(rng, VOCAB[author]), "year": "1830"} for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def module_workspace(tmp: Path, extra_authors: str = "") -> tuple[dict, pytest.MonkeyPatch]:
    """For module-scoped fixtures: synthetic corpora of the three authors, an authors.toml (plus
    ``extra_authors`` TOML), and cache/classifier folders inside ``tmp``. Undo the returned
    MonkeyPatch when done."""
    mp = pytest.MonkeyPatch()
    mp.setenv("POETBENCH_CACHE", str(tmp / "cache"))
    mp.setenv("POETBENCH_CLASSIFIER_DIR", str(tmp / "classifiers"))
    mp.setenv("POETBENCH_PROSODY_DIR", str(write_stress_dictionary(tmp / "prosody")))
    for author in VOCAB:
        write_corpus(tmp / "texts" / f"{author}.jsonl", author, 60)
    (tmp / "authors.toml").write_text(
        'corpus_root = "texts"\n' + "".join(f'[authors.{a}]\nname = "{a.title()} Поэт"\npath = "{a}.jsonl"\n'
                                            for a in VOCAB) + extra_authors, encoding="utf-8")
    return {"authors_file": tmp / "authors.toml", "corpus_dir": tmp / "normalized", "tmp": tmp}, mp


@pytest.fixture
def corpus_env(tmp_path: Path, monkeypatch) -> dict:
    """An authors.toml with three synthetic authors (60 poems each) and one declared without texts,
    and a synthetic stress dictionary (POETBENCH_PROSODY_DIR)."""
    monkeypatch.setenv("POETBENCH_PROSODY_DIR", str(write_stress_dictionary(tmp_path / "prosody")))
    root = tmp_path / "texts"
    for author in VOCAB:
        write_corpus(root / f"{author}.jsonl", author, 60)
    authors = tmp_path / "authors.toml"
    authors.write_text(
        'corpus_root = "texts"\n'
        '[authors.alpha]\nname = "Альфа Поэтович"\npath = "alpha.jsonl"\n'
        '[authors.beta]\nname = "Бета Поэтович"\npath = "beta.jsonl"\n'
        '[authors.gamma]\nname = "Гамма Поэтович"\npath = "gamma.jsonl"\n'
        '[authors.missing]\nname = "Нет Текстов"\npath = "missing"\nnote = "supply them yourself"\n',
        encoding="utf-8",
    )
    return {"root": root, "authors_file": authors, "corpus_dir": tmp_path / "normalized", "tmp": tmp_path}


def micro_config(env: dict, **changes):
    """The tiny preset shrunk further so a whole train run takes seconds."""
    cfg = preset("tiny").replace(
        authors_file=str(env["authors_file"]),
        corpus_dir=str(env["corpus_dir"]),
        authors=["alpha", "beta"],
        tiny=TinyModelConfig(vocab_size=400, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                             pretrain_steps=12, pretrain_batch_size=8, pretrain_seq_len=64,
                             pretrain_learning_rate=1e-2, pretrain_authors=["alpha", "beta", "gamma"]),
        max_steps=8,
        per_device_train_batch_size=8,
        max_length=256,
        learning_rate=1e-2,
        logging_steps=1,
        save_steps=4,
    )
    return cfg.replace(**changes) if changes else cfg


def trained_workspace(tmp: Path, extra_authors: str = ""):
    """``module_workspace`` with micro adapters for alpha and beta trained in ``tmp/adapters``:
    (env, MonkeyPatch to undo, config)."""
    from poetbench.train import train

    env, mp = module_workspace(tmp, extra_authors)
    cfg = micro_config(env)
    train(cfg, output_dir=tmp / "adapters", log=lambda m: None)
    return env, mp, cfg


def two_at_once(monkeypatch, module, step: str, call) -> tuple[dict, dict]:
    """``call(log)`` in two threads as two processes started at once, the second once the first is inside
    ``module.step`` (the work both need): each one's log lines and result, by "first" and "second"."""
    import threading

    inside, real = threading.Event(), getattr(module, step)

    def marked(*a, **kw):
        inside.set()
        return real(*a, **kw)

    monkeypatch.setattr(module, step, marked)
    logs, got = {"first": [], "second": []}, {}
    first = threading.Thread(target=lambda: got.update(first=call(logs["first"].append)))
    first.start()
    assert inside.wait(120)
    got["second"] = call(logs["second"].append)
    first.join(300)
    return logs, got
