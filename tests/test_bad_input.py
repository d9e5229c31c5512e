"""Bad input of every kind: one clear `Error:` line, a non-zero exit code, no traceback, and nothing
already written lost or changed. Each case's test id contains `bad_input`."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.config import save_config
from tests.conftest import trained_workspace



@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace with a corpus, a config, trained micro adapters and a finished eval run."""
    from poetbench.eval import EvalOptions, run_eval
    from poetbench.config import SamplingParams
    tmp = tmp_path_factory.mktemp("bad")
    env, mp, cfg = trained_workspace(tmp, '[authors.ghost]\nname = "Нет"\npath = "ghost.jsonl"\n')
    save_config(cfg, tmp / "c.toml")
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
    ("zero_max_steps", lambda ws, t: ["train", C, ws / "c.toml", "--max-steps", "0"], "'max_steps': must be at least 1"),
    ("packing_without_flash_attention", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha", "--force",
                                                       "--packing", "--attn-implementation", "sdpa"],
     "--packing needs --attn-implementation flash_attention_2"),
    ("unwritable_output_dir", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha", "--force",
                                             "--output-dir", write(t / "file-not-dir", "x")], "is a file"),
    ("unwritable_eval_output_dir", lambda ws, t: ["eval", C, ws / "c.toml", "--adapters", ws / "adapters",
                                                  "--output-dir", "/proc/poetbench-out"], "cannot create the output folder"),
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


# ---- round two: each class of hostile input, fixed where it enters -------------------------------

TOML = 'preset = "tiny"\n'


def cfg_file(t, body, name="v.toml"):
    return write(t / name, TOML + body)


def evil_classifier(ws, t, marker):
    """A saved classifier whose pipeline runs every poem through builtins.exec (sorted(X, key=exec)):
    loaded with its types trusted, predicting on a poem that is Python code writes ``marker``."""
    import builtins
    import functools

    import numpy as np
    import skops.io as sio
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    dst = t / "evil"
    shutil.copytree(next((ws / "classifiers").iterdir()), dst, dirs_exist_ok=True)
    clf = DummyClassifier().fit(np.zeros((3, 1)), ["alpha", "beta", "gamma"])
    pipe = Pipeline([("run", FunctionTransformer(functools.partial(builtins.sorted, key=builtins.exec))),
                     ("zero", FunctionTransformer(functools.partial(np.zeros_like, dtype=float))), ("clf", clf)])
    sio.dump(pipe, dst / "model.skops")
    write(t / "code.jsonl", json.dumps({"text": f"open({str(marker)!r}, 'w').close()"}) + "\n")
    return dst


def _evil_case(ws, t):
    return ["classifier", "predict", C, ws / "c.toml", "--jsonl", t / "code.jsonl", "--model",
            evil_classifier(ws, t, t / "MARKER")]


def _foreign_type_classifier(ws, t):
    import fractions

    import skops.io as sio

    dst = t / "foreign_type"
    shutil.copytree(next((ws / "classifiers").iterdir()), dst, dirs_exist_ok=True)
    sio.dump({"x": fractions.Fraction(1, 3)}, dst / "model.skops")
    return dst


def _classifier_with(ws, t, name, change):
    dst = t / name
    shutil.copytree(next((ws / "classifiers").iterdir()), dst, dirs_exist_ok=True)
    change(dst)
    return dst


def _run_copy(ws, t, change=None, name="run2"):
    dst = t / name
    shutil.copytree(ws / "run", dst, dirs_exist_ok=True)
    (dst / ".poetbench.lock").unlink(missing_ok=True)
    if change:
        change(dst)
    return dst


def _corrupt_middle(path: Path, line: str):
    rows = path.read_text(encoding="utf-8").splitlines()
    rows.insert(1, line)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _eval_into(ws, t, *extra, out=None):
    return ["eval", C, ws / "c.toml", "--adapters", ws / "adapters", "--samples", "1", "--themes", "1",
            "--max-new-tokens", "16", "--output-dir", out or _run_copy(ws, t), "--no-lm", *extra]


def _adapter_with(ws, name, change):
    folder = copy_adapter(ws, name)
    change(folder)
    return folder


def _weights_fifo(folder):
    (folder / "adapter_model.safetensors").unlink()
    os.mkfifo(folder / "adapter_model.safetensors")


def _weights_folder(folder):
    (folder / "adapter_model.safetensors").unlink()
    (folder / "adapter_model.safetensors").mkdir()


def _manifest(folder, data):
    (folder / "poetbench.json").write_text(json.dumps(data))


def _manifest_field(folder, key, value):
    m = json.loads((folder / "poetbench.json").read_text())
    m[key] = value
    _manifest(folder, m)


def _fifo(t):
    path = t / "fifo.jsonl"
    os.mkfifo(path)
    return path


def _loop_folder(t):
    d = t / "loopy"
    write(d / "ok.txt", "Строка раз\nСтрока два\nСтрока три\nСтрока четыре\n")
    os.symlink("loop.txt", d / "loop.txt")
    return d


def _dangling_folder(t):
    d = t / "dangling"
    write(d / "ok.txt", "Строка раз\nСтрока два\nСтрока три\nСтрока четыре\n")
    os.symlink(t / "nowhere.txt", d / "gone.txt")
    return d


def _locked_run(ws, t):
    """An eval output folder whose lock another process holds."""
    import fcntl

    out = _run_copy(ws, t, name="locked")
    fd = os.open(out / ".poetbench.lock", os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242")
    fcntl.flock(fd, fcntl.LOCK_EX)
    _HELD.append(fd)  # released when the test ends (the fd stays open until then)
    return out


_HELD: list[int] = []


def _drop_field(path: Path, field: str):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows[0].pop(field)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _drop_summary_mean(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    data["summary"][0].pop("mean")
    path.write_text(json.dumps(data), encoding="utf-8")


def _locked_folder(t):
    """A training output folder whose lock another process holds."""
    import fcntl

    out = t / "locked-train"
    out.mkdir()
    fd = os.open(out / ".poetbench.lock", os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242")
    fcntl.flock(fd, fcntl.LOCK_EX)
    _HELD.append(fd)
    return out
NESTED_JSON = "[" * 100_000 + "]" * 100_000
NESTED_TOML = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"
POEM4 = "Строка раз\nСтрока два\nСтрока три\nСтрока четыре"
IMPORT = ["corpus", "import", C, "CFG", "--author", "alpha"]


def _import(ws, path):
    return ["corpus", "import", C, ws / "c.toml", "--author", "alpha", path]


CASES += [
    # 1. no code from a model file; configs TOML only; adapters safetensors only
    ("classifier_that_runs_exec", _evil_case, "untrusted types: builtins.exec"),
    ("classifier_with_a_foreign_type", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                                      write(t / "q.jsonl", '{"text": "а"}\n'), "--model",
                                                      _foreign_type_classifier(ws, t)], "untrusted types: fractions.Fraction"),
    ("classifier_model_is_a_folder", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                                    write(t / "q.jsonl", '{"text": "а"}\n'), "--model", _classifier_with(
        ws, t, "dirmodel", lambda d: ((d / "model.skops").unlink(), (d / "model.skops").mkdir()))], "is a folder"),
    ("config_that_is_json", lambda ws, t: ["train", C, write(t / "c.json", '{"lora_r": 4}')], "not valid TOML"),
    ("adapter_with_pickled_weights_only", lambda ws, t: ["eval", C, ws / "c.toml", "--models", str(_adapter_with(
        ws, "pickled", lambda f: (f / "adapter_model.safetensors").rename(f / "adapter_model.bin")))], "weights missing"),
    # 2. only a torn last line may be cut
    ("generations_bad_line_in_the_middle", lambda ws, t: _eval_into(ws, t, out=_run_copy(
        ws, t, lambda d: _corrupt_middle(d / "generations.jsonl", '{"key": "x", "te'))), "generations.jsonl:2"),
    ("generations_row_without_text", lambda ws, t: _eval_into(ws, t, out=_run_copy(
        ws, t, lambda d: _corrupt_middle(d / "generations.jsonl", json.dumps(
            {"key": "k", "model": "base", "author": "alpha", "theme": "x", "sample": 0})))), "field 'text'"),
    ("generations_row_not_an_object", lambda ws, t: _eval_into(ws, t, out=_run_copy(
        ws, t, lambda d: _corrupt_middle(d / "generations.jsonl", "[1, 2]"))), "not a JSON object"),
    ("report_of_malformed_scores", lambda ws, t: ["report", _run_copy(
        ws, t, lambda d: _corrupt_middle(d / "scores.jsonl", "{oops"))], "scores.jsonl:2"),
    # 3. one folder, one run
    ("eval_into_a_run_of_other_models", lambda ws, t: _eval_into(ws, t, "--models", "base"), "holds another run"),
    ("eval_into_a_run_of_other_sampling", lambda ws, t: _eval_into(ws, t, "--temperature", "0.5"),
     "sampling parameters"),
    ("eval_into_a_run_of_other_prompts", lambda ws, t: _eval_into(ws, t, "--prompts", write(
        t / "th.toml", 'themes = ["море"]\n')), "themes"),
    ("eval_into_a_run_of_another_seed", lambda ws, t: _eval_into(ws, t, "--seed", "7"), "seed"),
    ("eval_into_a_locked_folder", lambda ws, t: _eval_into(ws, t, out=_locked_run(ws, t)),
     "another poetbench process (pid 4242)"),
    ("report_out_is_an_input", lambda ws, t: ["report", (d := _run_copy(ws, t)), "--out", d / "scores.jsonl"],
     "input"),
    ("report_out_is_another_runs_file", lambda ws, t: ["report", _run_copy(ws, t), "--out",
                                                       _run_copy(ws, t, name="other") / "summary.json"], "own file"),
    ("report_out_over_a_non_html_file", lambda ws, t: ["report", _run_copy(ws, t), "--out", write(t / "notes.txt", "x")],
     "refusing to overwrite"),
    ("predict_out_is_its_input", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                                (f := write(t / "in.jsonl", '{"text": "а"}\n')), "--out", f],
     "is this command's input"),
    ("predict_out_into_the_corpus", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                                   write(t / "in.jsonl", '{"text": "а"}\n'), "--out",
                                                   ws / "normalized" / "alpha.jsonl"], "inside"),
    ("scan_out_is_its_input", lambda ws, t: ["scan", "--jsonl", (f := write(t / "s.jsonl", '{"text": "а"}\n')),
                                             "--out", f], "is this command's input"),
    ("train_into_a_locked_run_folder", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha", "--force",
                                                      "--output-dir", _locked_folder(t)],
     "another poetbench process (pid 4242)"),
    # 4. values are checked where they enter
    ("config_string_for_a_number", lambda ws, t: ["train", C, cfg_file(t, 'lora_r = "8"\n')], "must be an integer"),
    ("config_negative_learning_rate", lambda ws, t: ["train", C, cfg_file(t, "learning_rate = -0.1\n")],
     "'learning_rate': must be above 0"),
    ("config_lora_r_zero", lambda ws, t: ["train", C, cfg_file(t, "lora_r = 0\n")], "'lora_r': must be at least 1"),
    ("config_lora_r_absurd", lambda ws, t: ["train", C, cfg_file(t, "lora_r = 1000000\n")], "at most 1024"),
    ("config_batch_size_zero", lambda ws, t: ["train", C, cfg_file(t, "per_device_train_batch_size = 0\n")],
     "'per_device_train_batch_size': must be at least 1"),
    ("config_max_length_zero", lambda ws, t: ["train", C, cfg_file(t, "max_length = 0\n")], "'max_length'"),
    ("config_unknown_dtype", lambda ws, t: ["train", C, cfg_file(t, 'dtype = "int4"\n')], "choose one of: auto"),
    ("config_authors_as_a_string", lambda ws, t: ["train", C, cfg_file(t, 'authors = "pushkin"\n')],
     "'authors': must be a list"),
    ("config_tiny_not_a_table", lambda ws, t: ["train", C, cfg_file(t, "tiny = 3\n")], "'tiny' must be a table"),
    ("config_boolean_for_a_number", lambda ws, t: ["train", C, cfg_file(t, "max_steps = true\n")], "must be an integer"),
    ("temperature_zero", lambda ws, t: _eval_into(ws, t, "--temperature", "0"), "'temperature': must be above 0"),
    ("top_p_above_one", lambda ws, t: _eval_into(ws, t, "--top-p", "1.5"), "'top_p': must be at most 1"),
    ("top_p_zero", lambda ws, t: _eval_into(ws, t, "--top-p", "0"), "'top_p': must be above 0"),
    ("max_new_tokens_zero", lambda ws, t: _eval_into(ws, t, "--max-new-tokens", "0"), "'max_new_tokens'"),
    ("batch_size_zero", lambda ws, t: _eval_into(ws, t, "--batch-size", "0"), "'batch_size': must be at least 1"),
    ("template_with_a_lone_brace", lambda ws, t: _eval_into(ws, t, "--prompts", write(
        t / "tb.toml", 'eval_template = "Стих {theme} {author_name} {"\n')), "Single '{'"),
    ("template_with_a_format_spec", lambda ws, t: _eval_into(ws, t, "--prompts", write(
        t / "ts.toml", 'eval_template = "{theme!r} {author_name}"\n')), "format spec or conversion"),
    ("template_with_another_field", lambda ws, t: _eval_into(ws, t, "--prompts", write(
        t / "tf.toml", 'eval_template = "{theme} {author_name} {__class__}"\n')), "unknown placeholder"),
    ("themes_as_a_string", lambda ws, t: _eval_into(ws, t, "--prompts", write(t / "tt.toml", 'themes = "море"\n')),
     "'themes': must be a list"),
    ("cache_path_is_a_file", lambda ws, t: (["corpus", "authors", C, ws / "c.toml"],
                                            {"POETBENCH_CACHE": str(write(t / "cachefile", "x"))}), "is a file"),
    ("classifier_dir_is_a_file", lambda ws, t: (["classifier", "train", C, ws / "c.toml"],
                                                {"POETBENCH_CLASSIFIER_DIR": str(write(t / "clffile", "x"))}),
     "is a file"),
    ("classifier_dir_inside_a_file", lambda ws, t: (["classifier", "train", C, ws / "c.toml"],
                                                    {"POETBENCH_CLASSIFIER_DIR": str(write(t / "clf2", "x") / "sub")}),
     "cannot write here"),
    ("eval_output_dir_is_a_file", lambda ws, t: _eval_into(ws, t, out=write(t / "outfile", "x")), "is a file"),
    ("corpus_dir_is_a_file", lambda ws, t: ["corpus", "import", C, ws / "c.toml", "--corpus-dir",
                                            write(t / "cdfile", "x")], "is a file"),
    # 5. input that is not text
    ("deeply_nested_json", lambda ws, t: _import(ws, write(t / "deep.jsonl", NESTED_JSON + "\n")), "nested too deeply"),
    ("deeply_nested_toml", lambda ws, t: ["train", C, write(t / "deep.toml", NESTED_TOML)], "nested too deeply"),
    ("lone_surrogate", lambda ws, t: _import(ws, write(t / "sur.jsonl", '{"text": "Строка \\ud800 раз"}\n')),
     "surrogate"),
    ("nul_bytes", lambda ws, t: _import(ws, write(t / "nul.jsonl", b'{"text": "a"}\n\x00\x00\n', True)), "NUL"),
    ("binary_on_stdin", lambda ws, t: (["scan", "-"], None, b"\xff\xfe\x00binary"), "not UTF-8"),
    ("blank_poem_on_stdin", lambda ws, t: (["classifier", "predict", C, ws / "c.toml", "-"], None, b"  \n...\n"),
     "standard input: no text to attribute"),
    ("blank_poem_file_to_scan", lambda ws, t: ["scan", write(t / "blank.txt", "\n \n")], "blank.txt: no text to scan"),
    ("blank_record_to_predict", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                               write(t / "k.jsonl", '{"text": "а"}\n{"text": " — "}\n')],
     "k.jsonl:2 field 'text': no text"),
    ("dev_zero_as_a_corpus", lambda ws, t: _import(ws, "/dev/zero"), "a device"),
    ("fifo_as_a_corpus", lambda ws, t: _import(ws, _fifo(t)), "a FIFO"),
    ("dev_zero_as_prompts", lambda ws, t: _eval_into(ws, t, "--prompts", "/dev/zero"), "a device"),
    ("dev_zero_as_a_config", lambda ws, t: ["train", C, "/dev/zero"], "a device"),
    ("symlink_loop_in_a_corpus_folder", lambda ws, t: _import(ws, _loop_folder(t)), "symbolic links"),
    ("dangling_symlink_in_a_corpus_folder", lambda ws, t: _import(ws, _dangling_folder(t)), "dangling symlink"),
    ("adapter_weights_a_fifo", lambda ws, t: ["eval", C, ws / "c.toml", "--models",
                                              str(_adapter_with(ws, "fifo", _weights_fifo))], "a FIFO"),
    ("adapter_weights_a_folder", lambda ws, t: ["eval", C, ws / "c.toml", "--models",
                                                str(_adapter_with(ws, "dirw", _weights_folder))], "is a folder"),
    # 6. manifests and model folders that lie
    ("manifest_not_an_object", lambda ws, t: ["eval", C, ws / "c.toml", "--models", str(_adapter_with(
        ws, "list", lambda f: (f / "poetbench.json").write_text("[]")))], "must hold a JSON object"),
    ("manifest_author_id_a_path", lambda ws, t: ["eval", C, ws / "c.toml", "--models", str(_adapter_with(
        ws, "pathid", lambda f: _manifest_field(f, "author", {"id": "../../etc", "name": "x"})))], "valid author id"),
    ("manifest_base_not_an_object", lambda ws, t: ["eval", C, ws / "c.toml", "--models", str(_adapter_with(
        ws, "nobase", lambda f: _manifest_field(f, "base_model", "tiny")))], "'base_model'"),
    ("adapter_config_malformed", lambda ws, t: ["eval", C, ws / "c.toml", "--models", str(_adapter_with(
        ws, "badcfg", lambda f: (f / "adapter_config.json").write_text("{")))], "malformed JSON"),
    ("classifier_meta_malformed", lambda ws, t: ["classifier", "predict", C, ws / "c.toml", "--jsonl",
                                                 write(t / "q.jsonl", '{"text": "а"}\n'), "--model", _classifier_with(
        ws, t, "badmeta", lambda d: (d / "meta.json").write_text("{oops"))], "meta.json:1: malformed JSON"),
    ("run_json_not_an_object", lambda ws, t: ["report", _run_copy(ws, t, lambda d: (d / "run.json").write_text('"x"'))],
     "must hold a JSON object"),
    ("summary_json_malformed", lambda ws, t: ["report", _run_copy(ws, t, lambda d: (d / "summary.json").write_text(
        "{"))], "summary.json"),
    ("huge_integer_in_json", lambda ws, t: _import(ws, write(t / "int.jsonl", '{"text": "a", "year": ' + "9" * 5000
                                                             + "}\n")), "malformed JSON"),
    ("huge_integer_in_toml", lambda ws, t: ["train", C, cfg_file(t, "seed = " + "9" * 5000 + "\n")], "not valid TOML"),
    ("source_file_url_to_dev_zero", lambda ws, t: ["corpus", "fetch", C, ws / "c.toml", "--sources", write(
        t / "z.toml", '[[sources.alpha]]\nurl = "file:///dev/zero"\n')], "a device"),
    ("source_fields_not_a_table", lambda ws, t: ["corpus", "fetch", C, ws / "c.toml", "--sources", write(
        t / "f.toml", '[[sources.alpha]]\npath = "x.jsonl"\nfields = "text"\n')], "must be a table"),
    ("import_the_normalised_corpus_itself", lambda ws, t: _import(ws, ws / "normalized" / "alpha.jsonl"),
     "normalised corpus itself"),
    ("eval_output_dir_of_adapters", lambda ws, t: _eval_into(ws, t, out=ws / "adapters"), "holds trained adapters"),
    ("classifier_eval_csv_into_the_corpus", lambda ws, t: ["classifier", "eval", C, ws / "c.toml", "--csv",
                                                          ws / "normalized" / "x.csv"], "inside"),
    ("report_of_scores_without_a_field", lambda ws, t: ["report", _run_copy(ws, t, lambda d: _drop_field(
        d / "scores.jsonl", "meter"))], "field 'meter'"),
    ("report_of_a_summary_entry_without_mean", lambda ws, t: ["report", _run_copy(ws, t, lambda d: _drop_summary_mean(
        d / "summary.json"))], "has no 'mean'"),
    ("report_of_lm_rows_without_perplexity", lambda ws, t: ["report", _run_copy(ws, t, lambda d: (
        d / "lm.jsonl").write_text('{"model": "base", "author": "alpha"}\n'))], "field 'perplexity'"),
    # 7. anywhere you stand
    ("run_outside_the_project", lambda ws, t: (["corpus", "authors"], {"POETBENCH_PROJECT": str(t)}),
     "set POETBENCH_PROJECT=DIR"),
    ("project_that_is_not_a_folder", lambda ws, t: (["corpus", "authors"],
                                                    {"POETBENCH_PROJECT": str(write(t / "proj", "x"))}), "is a file"),
    # an absolute scale: the open-set class, the pinned judge and base
    ("authors_fields_not_a_table", lambda ws, t: ["corpus", "authors", "--authors-file", write(
        t / "authors.toml", '[authors.other]\nname = "Другие"\npath = "o.jsonl"\nfields = "poem_text"\n')],
     "authors.other.fields"),
    ("other_as_an_author_to_imitate", lambda ws, t: ["train", C, ws / "c.toml", "--authors", "alpha,other"],
     "not an author to imitate"),
    ("pretraining_author_without_texts", lambda ws, t: ["train", C, _config_with(ws, t, "tiny", pretrain_authors=[
        "alpha", "ghost"]), "--authors", "alpha", "--output-dir", t / "new"], "ghost has no texts"),
    ("score_with_an_unknown_judge", lambda ws, t: ["score", ws / "run", C, ws / "c.toml", "--judge", "0123456789abcdef"],
     "no judge '0123456789abcdef'"),
    ("score_a_run_and_poems_at_once", lambda ws, t: ["score", ws / "run", "--poems", write(t / "p.jsonl", "{}\n"),
                                                     "--name", "x"], "not both"),
    ("score_poems_imitating_other", lambda ws, t: ["score", C, ws / "c.toml", "--name", "x", "--output-dir",
                                                   t / "out", "--poems", write(t / "p.jsonl", '{"author": "other", '
                                                                               '"text": "Строка"}\n')],
     "p.jsonl:1 field 'author': 'other' is the style classifier's class"),
    ("score_a_folder_that_is_no_run", lambda ws, t: ["score", (t / "empty").mkdir() or t / "empty", C, ws / "c.toml"],
     "not an eval run's folder"),
    # comparisons and ratings
    ("compare_a_run_twice", lambda ws, t: ["compare", ws / "run", ws / "run", C, ws / "c.toml"], "given twice"),
    ("compare_by_a_metric_without_direction", lambda ws, t: ["compare", ws / "run", "--by", "words", C, ws / "c.toml"],
     "--by 'words'"),
    ("rate_a_folder_that_is_no_run", lambda ws, t: ["rate", (t / "e").mkdir() or t / "e", C, ws / "c.toml"],
     "not an eval run"),
    ("rate_into_a_database_that_is_not_sqlite", lambda ws, t: ["rate", ws / "run", C, ws / "c.toml", "--db",
                                                                write(t / "x.sqlite", "not a database\n" * 100)],
     "not a ratings database"),
]


def _config_with(ws, t, table, **values) -> Path:
    import tomllib

    import tomli_w

    data = tomllib.loads((ws / "c.toml").read_text(encoding="utf-8"))
    data[table].update(values)
    return write(t / "changed.toml", tomli_w.dumps(data))


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*")
            if p.is_file() and "cache" not in p.parts and "bad_adapters" not in p.parts}


def test_the_table_has_at_least_30_kinds():
    assert len(CASES) >= 30 + 40 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name,make,expected", CASES, ids=[f"bad_input-{c[0]}" for c in CASES])
def test_bad_input(ws, tmp_path, monkeypatch, name, make, expected):
    monkeypatch.chdir(ws)
    before = _snapshot(ws)
    made = make(ws, tmp_path)
    argv, env, stdin = (list(made) + [None, None])[:3] if isinstance(made, tuple) else (made, None, None)
    try:
        result = CliRunner().invoke(cli, [str(a) for a in argv], env=env, input=stdin)
    finally:
        while _HELD:
            os.close(_HELD.pop())
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


# ---- one test per class, beyond the one-line error ---------------------------------------------


def test_a_classifier_that_would_run_code_is_refused_before_any_of_it_runs(ws, tmp_path, monkeypatch):
    import skops.io as sio

    monkeypatch.chdir(ws)
    marker = tmp_path / "MARKER"
    evil = evil_classifier(ws, tmp_path, marker)
    result = CliRunner().invoke(cli, ["classifier", "predict", C, str(ws / "c.toml"), "--jsonl",
                                      str(tmp_path / "code.jsonl"), "--model", str(evil)])
    assert result.exit_code == 2 and "builtins.exec" in result.output and "functools.partial" in result.output
    assert not marker.exists()
    # the planted file is live: trusting its types and predicting writes the marker
    pipe = sio.load(evil / "model.skops", trusted=sio.get_untrusted_types(file=evil / "model.skops"))
    pipe.predict_proba([json.loads((tmp_path / "code.jsonl").read_text())["text"]])
    assert marker.exists()


def test_the_trusted_list_names_exact_types():
    from poetbench.style.store import TRUSTED_TYPES

    assert all(t.count(".") >= 2 and not t.endswith(".") and "*" not in t for t in TRUSTED_TYPES)
    assert not any(t.startswith(("builtins.", "functools.", "os.", "subprocess.")) for t in TRUSTED_TYPES)


def test_a_damaged_middle_line_is_an_error_and_nothing_after_it_is_deleted(ws, tmp_path, monkeypatch):
    from poetbench.generation import read_done

    monkeypatch.chdir(ws)
    out = _run_copy(ws, tmp_path, lambda d: _corrupt_middle(d / "generations.jsonl", '{"key": "x", "te'))
    before = (out / "generations.jsonl").read_bytes()
    result = CliRunner().invoke(cli, [str(a) for a in _eval_into(ws, tmp_path, out=out)])
    assert result.exit_code == 2 and "generations.jsonl:2" in result.output
    assert (out / "generations.jsonl").read_bytes() == before
    # a torn last line is cut; a complete last row whose newline was lost is kept (and ended)
    path = tmp_path / "g.jsonl"
    row = {"key": "a", "model": "base", "author": "alpha", "theme": "t", "sample": 0, "text": "x"}
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "key": "b"}) + "\n" + '{"key": "c", "te')
    assert list(read_done(path)) == ["a", "b"] and path.read_text().endswith("}\n")
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "key": "b"}))
    assert list(read_done(path)) == ["a", "b"] and path.read_text().endswith("}\n")


def test_force_moves_another_runs_files_aside_and_never_mixes_them(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(ws)
    out = _run_copy(ws, tmp_path)
    old = (out / "generations.jsonl").read_text()
    result = CliRunner().invoke(cli, [str(a) for a in _eval_into(ws, tmp_path, "--models", "base", "--force", out=out)])
    assert result.exit_code == 0, result.output
    aside = [p for p in out.iterdir() if p.name.startswith("replaced-")]
    assert len(aside) == 1 and (aside[0] / "generations.jsonl").read_text() == old
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert {r["model"] for r in rows} == {"base"}
    assert json.loads((out / "run.json").read_text())["identity"]["models"] == [["base", None]]


def test_a_refused_run_leaves_nothing_behind(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(ws)
    cfg = cfg_file(tmp_path, f'authors_file = "{ws / "authors.toml"}"\ncorpus_dir = "{ws / "normalized"}"\n'
                             'max_length = 16\nmax_steps = 2\n[tiny]\nvocab_size = 400\nhidden_size = 32\n'
                             'intermediate_size = 64\nnum_hidden_layers = 1\nnum_attention_heads = 2\n'
                             'num_key_value_heads = 1\nmax_position_embeddings = 256\npretrain_steps = 12\n'
                             'pretrain_batch_size = 8\npretrain_seq_len = 64\npretrain_authors = ["alpha", "beta"]\n')
    out = tmp_path / "new-run"
    result = CliRunner().invoke(cli, ["train", C, str(cfg), "--authors", "alpha", "--output-dir", str(out)])
    assert result.exit_code == 2 and "truncation" in result.output, result.output
    assert not out.exists()
    refused = tmp_path / "new-eval"
    result = CliRunner().invoke(cli, [str(a) for a in _eval_into(ws, tmp_path, "--top-p", "2", out=refused)])
    assert result.exit_code == 2 and not refused.exists()


def test_cr_only_line_ends_are_line_ends(tmp_path):
    from poetbench.corpus import readers as R

    (tmp_path / "mac.txt").write_bytes("Заглавие\r\rСтрока раз\rСтрока два\rСтрока три\rСтрока четыре\r".encode())
    (poem,) = R.read_raw(tmp_path)
    assert poem.title == "Заглавие" and poem.text.split("\n") == ["Строка раз", "Строка два", "Строка три",
                                                                  "Строка четыре"]
    (tmp_path / "p.jsonl").write_bytes(b'{"text": "a\\nb"}\r{"text": "c\\u2028d"}\r')
    assert [p.text for p in R.read_raw(tmp_path / "p.jsonl")] == ["a\nb", "c\u2028d"]


def test_commands_find_the_project_from_any_folder(ws, tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "corpora").mkdir(parents=True)
    shutil.copy(ws / "authors.toml", project / "corpora" / "authors.toml")
    (project / "corpora" / "authors.toml").write_text(
        (ws / "authors.toml").read_text().replace('corpus_root = "texts"', f'corpus_root = "{ws / "texts"}"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for how in (["--project", str(project), "corpus", "authors"], ["corpus", "authors"]):
        result = CliRunner().invoke(cli, how, env={"POETBENCH_PROJECT": str(project)})
        assert result.exit_code == 0 and "alpha" in result.output and "present" in result.output, result.output
    result = CliRunner().invoke(cli, ["corpus", "authors"], env={"POETBENCH_PROJECT": None})
    assert result.exit_code == 2 and str(elsewhere / "corpora" / "authors.toml") in result.output


def test_a_report_of_a_run_json_without_some_fields_still_renders(ws, tmp_path):
    from poetbench.report.html import write_report

    run = _run_copy(ws, tmp_path, lambda d: (d / "run.json").write_text('{"format": "poetbench-eval/1"}'))
    assert "<section id=\"gallery\">" in write_report(run).read_text(encoding="utf-8")
