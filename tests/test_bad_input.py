"""Bad input of every kind: one clear `Error:` line, a non-zero exit code, no traceback, and nothing
already written lost or changed. Each case's test id contains `bad_input`."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.config import save_config
from tests.conftest import SHARED, micro_config, module_workspace

needs_prosody = (SHARED / "prosody" / "accent.dic").exists()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace with a corpus, a config, trained micro adapters and a finished eval run."""
    from poetbench.benchmark import EvalOptions, run_eval
    from poetbench.generate import SamplingParams
    from poetbench.train import train

    tmp = tmp_path_factory.mktemp("bad")
    env, mp = module_workspace(tmp, '[authors.ghost]\nname = "Нет"\npath = "ghost.jsonl"\n')
    cfg = micro_config(env)
    save_config(cfg, tmp / "c.toml")
    train(cfg, output_dir=tmp / "adapters", log=lambda m: None)
    if needs_prosody:
        run_eval(cfg, EvalOptions(adapters=tmp / "adapters", samples=1, themes=1, output_dir=tmp / "run",
                                  params=SamplingParams(max_new_tokens=16)), log=lambda m: None)
    yield tmp
    mp.undo()


def write(path: Path, content, binary=False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content) if binary else path.write_text(content, encoding="utf-8")
    return path


def poems_jsonl(n=3) -> str:
    return "".join(json.dumps({"text": "Строка раз\nСтрока два\nСтрока три\nСтрока четыре " + str(i)},
                              ensure_ascii=False) + "\n" for i in range(n))


def copy_adapter(ws, name):
    dst = ws / "bad_adapters" / name
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(ws / "adapters" / "alpha", dst)
    return dst


# Each case: (name, function(ws, tmp) -> argv, expected text in the error line, needs prosody)
C = "--config"
CASES = [
    ("malformed_jsonl", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                       write(t / "a.jsonl", '{"text": "a\\nb\\nc\\nd"}\n{"text": \n')], "a.jsonl:2"),
    ("malformed_csv", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                     write(t / "a.csv", 'title,text\nx,"a\nb\n')], "a.csv"),
    ("csv_without_text_column", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                               write(t / "b.csv", "title,body\nx,y\n")], "no column 'text'"),
    ("malformed_toml_config", lambda ws, t: ["train", C, write(t / "x.toml", "max_steps = = 3\n")], "not valid TOML"),
    ("unknown_config_field", lambda ws, t: ["train", C, write(t / "y.toml", "lora_rank = 4\n")], "unknown field 'lora_rank'"),
    ("missing_config_file", lambda ws, t: ["train", C, t / "nope.toml"], "config file not found"),
    ("unknown_preset", lambda ws, t: ["train", "--preset", "huge"], "unknown preset"),
    ("cp1251_file", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                   write(t / "c.jsonl", '{"text": "Привет"}\n'.encode("cp1251"), True)], "not UTF-8"),
    ("empty_file", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                  write(t / "e.jsonl", "")], "holds no poems"),
    ("empty_poem", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                  write(t / "f.jsonl", '{"text": ""}\n')], "field 'text': missing or empty"),
    ("ten_mb_poem", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                   write(t / "g.jsonl", json.dumps({"text": "Строка стиха\n" * 800_000}) + "\n")],
     "split the work into poems"),
    ("non_cyrillic_corpus", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                           write(t / "h.jsonl", json.dumps({"text": "One\nTwo\nThree\nFour"}) + "\n")],
     "no poems left"),
    ("duplicate_ids", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                     write(t / "i.jsonl", '{"id": 1, "text": "а"}\n{"id": 1, "text": "б"}\n')],
     "duplicate id 1"),
    ("record_without_text", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                           write(t / "j.jsonl", '{"id": 1, "poem": "а"}\n')], "j.jsonl:1 field 'text'"),
    ("unknown_author", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "nobody"], "unknown author 'nobody'"),
    ("author_id_with_path_characters", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "../x"],
     "invalid author id"),
    ("missing_corpus_path", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "ghost"], "no texts for 'ghost'"),
    ("too_few_poems", lambda ws, t: ["train", C, write(t / "k.toml", ws.joinpath("c.toml").read_text()
                                                        .replace("min_train_poems = 20", "min_train_poems = 900")),
                                     "--authors", "alpha"], "at least 900"),
    ("unknown_base_model", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha", "--base-model",
                                          str(t / "no-model")], "cannot load base model"),
    ("zero_max_steps", lambda ws, t: ["train", C, ws / "c.toml", "--max-steps", "0"], "must be positive"),
    ("packing_without_flash_attention", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha", "--force",
                                                       "--packing", "--attn-implementation", "sdpa"],
     "--packing needs --attn-implementation flash_attention_2"),
    ("unwritable_output_dir", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha", "--force",
                                             "--output-dir", write(t / "file-not-dir", "x")], "is a file"),
    ("unwritable_eval_output_dir", lambda ws, t: ["eval", C, ws / "c.toml", "--adapters", ws / "adapters",
                                                  "--output-dir", "/proc/poetbench-out"], "cannot write to the output folder"),
    ("missing_adapter_folder", lambda ws, t: ["eval", C, ws / "c.toml", "--models", str(t / "no-adapter")],
     "not base, lora"),
    ("adapter_folder_without_weights", lambda ws, t: ["eval", C, ws / "c.toml", "--models",
                                                      str(_strip(copy_adapter(ws, "noweights")))], "weights missing"),
    ("corrupted_safetensors", lambda ws, t: ["eval", C, ws / "c.toml", "--models",
                                             str(_corrupt(copy_adapter(ws, "corrupt")))], "cannot attach"),
    ("adapter_for_another_base", lambda ws, t: ["eval", "--preset", "seed", "--authors-file", ws / "authors.toml",
                                                "--corpus-dir", ws / "normalized", "--adapters", ws / "adapters"],
     "trained on base 'tiny'"),
    ("wrong_models_syntax", lambda ws, t: ["eval", C, ws / "c.toml", "--models", "base,,lora"], "comma-separated"),
    ("unknown_model_name", lambda ws, t: ["eval", C, ws / "c.toml", "--adapters", ws / "adapters", "--models",
                                          "lora:zed"], "no adapter for 'zed'"),
    ("missing_adapter_run", lambda ws, t: ["eval", C, ws / "c.toml", "--models", "lora", "--adapters",
                                           t / "no-run"], "no adapter run folder"),
    ("vllm_backend_not_installed", lambda ws, t: ["eval", C, ws / "c.toml", "--adapters", ws / "adapters",
                                                  "--backend", "vllm", "--output-dir", t / "v", "--no-lm"],
     "needs vLLM"),
    ("zero_samples", lambda ws, t: ["eval", C, ws / "c.toml", "--samples", "0"], "at least 1"),
    ("zero_themes", lambda ws, t: ["eval", C, ws / "c.toml", "--themes", "0"], "at least 1"),
    ("unknown_theme_file_fields", lambda ws, t: ["eval", C, ws / "c.toml", "--adapters", ws / "adapters",
                                                 "--prompts", write(t / "p.toml", 'topics = ["x"]\n')],
     "unknown field(s) topics"),
    ("bad_theme_jsonl_record", lambda ws, t: ["eval", C, ws / "c.toml", "--adapters", ws / "adapters",
                                              "--prompts", write(t / "p.jsonl", '{"theme": ""}\n')], "p.jsonl:1"),
    ("report_of_a_run_without_generations", lambda ws, t: ["report", _emptyrun(t)], "run `poetbench eval` first"),
    ("report_of_a_missing_folder", lambda ws, t: ["report", str(t / "nowhere")], "is not a folder"),
    ("classifier_from_another_corpus", lambda ws, t: ["classifier", "eval", C, ws / "c.toml", "--model",
                                                      _foreign_classifier(ws, t)], "trained on other corpora"),
    ("corrupted_classifier_file", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                                 write(t / "q.jsonl", '{"text": "а"}\n'), "--model",
                                                 _broken_classifier(ws, t)], "cannot be read as a skops file"),
    ("scan_missing_file", lambda ws, t: ["scan", str(t / "none.txt")], "file not found"),
    ("scan_malformed_jsonl", lambda ws, t: ["scan", "--jsonl", write(t / "r.jsonl", "{oops\n")], "r.jsonl:1"),
    ("malformed_authors_file", lambda ws, t: ["corpus", "stats", "--authors-file", write(t / "au.toml", "[authors\n"),
                                              "--tokenizer", "none"], "not valid TOML"),
    ("author_without_name", lambda ws, t: ["corpus", "stats", "--authors-file",
                                           write(t / "an.toml", '[authors.x]\npath = "x.jsonl"\n'), "--tokenizer",
                                           "none"], "needs a 'name'"),
    ("unknown_corpus_format", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--author", "alpha",
                                             write(t / "poems.docx", "x")], "unknown corpus format"),
    ("malformed_sources_file", lambda ws, t: ["corpus", "fetch", C, ws / "c.toml", "--sources",
                                              write(t / "s.toml", "[[sources.alpha]\n")], "not valid TOML"),
    ("source_checksum_mismatch", lambda ws, t: ["corpus", "fetch", C, ws / "c.toml", "--sources",
                                                _bad_checksum(t)], "checksum mismatch"),
]


def _strip(folder):
    (folder / "adapter_model.safetensors").unlink()
    return folder


def _corrupt(folder):
    (folder / "adapter_model.safetensors").write_bytes(b"\x00garbage" * 100)
    return folder


def _emptyrun(t):
    d = t / "emptyrun"
    d.mkdir(exist_ok=True)
    (d / "run.json").write_text("{}")
    return str(d)


def _foreign_classifier(ws, t):
    src = next((ws / "classifiers").iterdir())
    dst = t / "foreign"
    shutil.copytree(src, dst, dirs_exist_ok=True)
    meta = json.loads((dst / "meta.json").read_text())
    meta["corpora"] = {a: "0" * 64 for a in meta["corpora"]}
    (dst / "meta.json").write_text(json.dumps(meta))
    return str(dst)


def _broken_classifier(ws, t):
    dst = t / "broken"
    shutil.copytree(next((ws / "classifiers").iterdir()), dst, dirs_exist_ok=True)
    (dst / "model.skops").write_bytes(b"not a zip")
    return str(dst)


def _bad_checksum(t):
    src = write(t / "remote.jsonl", poems_jsonl())
    return write(t / "src.toml", f'[[sources.alpha]]\nurl = "{src.as_uri()}"\nsha256 = "{"0" * 64}"\n')


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and "cache" not in p.parts and "bad_adapters" not in p.parts}


def test_the_table_has_at_least_30_kinds():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.skipif(not needs_prosody, reason="needs ../shared/prosody")
@pytest.mark.parametrize("name,make,expected", CASES, ids=[f"bad_input-{c[0]}" for c in CASES])
def test_bad_input(ws, tmp_path, monkeypatch, name, make, expected):
    monkeypatch.chdir(ws)
    before = _snapshot(ws)
    argv = [str(a) for a in make(ws, tmp_path)]
    result = CliRunner().invoke(cli, argv)
    output = result.output
    assert result.exit_code not in (0, None), output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, output
    assert expected in errors[0], output
    after = _snapshot(ws)
    changed = [p for p, h in before.items() if after.get(p) != h]
    assert not changed, f"changed or lost: {changed}"
