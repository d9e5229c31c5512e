"""The command line: help texts, a real run, and bad input as one line with exit code 2."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.config import save_config
from tests.conftest import micro_config


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_tables_sent_to_a_file_keep_their_cells_whole(monkeypatch):
    """Output to a file or a pipe (a CI log, `| tee`) prints a wide table at its natural width; a terminal,
    or COLUMNS, sets the width as usual."""
    import io

    from rich.table import Table

    from poetbench.cli.common import StdoutConsole

    table = Table()
    for i in range(8):
        table.add_column(f"column {i} with a long header")
    table.add_row(*(f"0.{i}0 [0.0{i}, 0.9{i}]" for i in range(8)))
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    StdoutConsole(file=out).print(table)
    lines = out.getvalue().splitlines()
    assert "…" not in out.getvalue() and len(lines) == 5 and len(lines[0]) > 200
    assert "column 7 with a long header" in lines[1] and "0.70 [0.07, 0.97]" in lines[3]
    monkeypatch.setenv("COLUMNS", "80")
    out = io.StringIO()
    StdoutConsole(file=out).print(table)
    assert max(len(line) for line in out.getvalue().splitlines()) <= 80


def test_help_lists_commands_with_examples():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("corpus", "train", "config", "scan", "classifier"):
        assert command in result.output
    for sub in (["train"], ["corpus"], ["corpus", "import"], ["corpus", "stats"], ["corpus", "authors"], ["config"],
                ["corpus", "fetch"], ["scan"], ["classifier"], ["classifier", "train"], ["classifier", "eval"],
                ["classifier", "predict"], ["score"], ["eval"], ["report"]):
        out = run(*sub, "--help").output
        assert "Example" in out, sub


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "poetbench.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "version" in out.stdout


def test_corpus_import_and_stats(corpus_env):
    common = ["--authors-file", str(corpus_env["authors_file"]), "--corpus-dir", str(corpus_env["corpus_dir"])]
    result = run("corpus", "import", *common)
    assert result.exit_code == 0, result.output
    assert "alpha: read 60, kept" in result.output
    result = run("corpus", "stats", *common, "--tokenizer", "none")
    assert result.exit_code == 0 and "alpha" in result.output and "gamma" in result.output
    assert (corpus_env["corpus_dir"] / "beta.jsonl").exists()


def test_corpus_import_one_file_for_a_declared_author(corpus_env, tmp_path):
    from tests.conftest import write_corpus

    src = write_corpus(tmp_path / "mine.jsonl", "gamma", 30)
    result = run("corpus", "import", "--authors-file", str(corpus_env["authors_file"]), "--corpus-dir",
                 str(corpus_env["corpus_dir"]), "--author", "missing", str(src))
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in (corpus_env["corpus_dir"] / "missing.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and rows[0]["author"] == "missing"


def test_train_command_prints_the_table(corpus_env):
    cfg_path = corpus_env["tmp"] / "micro.toml"
    save_config(micro_config(corpus_env, authors=["alpha"]), cfg_path)
    out = corpus_env["tmp"] / "adapters"
    result = CliRunner(env={"POETBENCH_CACHE": str(corpus_env["tmp"] / "cache")}).invoke(
        cli, ["train", "--config", str(cfg_path), "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert "Mean Token Accuracy" in result.output or "Mean" in result.output
    assert (out / "alpha" / "poetbench.json").exists() and (out / "training.csv").exists()


@pytest.mark.parametrize("args,message", [
    (["train", "--authors", "nobody"], "unknown author 'nobody'"),
    (["train", "--authors", "missing"], "no texts for 'missing'"),
    (["train", "--authors", "../x"], "invalid author id"),
    (["train", "--authors", "alpha", "--base-model", "/no/such/model"], "cannot load base model"),
    (["train", "--max-steps", "0"], "'max_steps': must be at least 1"),
    (["train", "--authors", ","], "at least one"),
    (["corpus", "import", "--author", "alpha", "BADFILE"], ":2: malformed JSON"),
    (["corpus", "import", "--author", "alpha", "CP1251"], "not UTF-8"),
])
def test_bad_input_gives_one_line_and_exit_2(corpus_env, args, message):
    bad = corpus_env["tmp"] / "bad.jsonl"
    bad.write_text('{"text": "а\\nб\\nв\\nг"}\n{oops\n', encoding="utf-8")
    cp = corpus_env["tmp"] / "cp.jsonl"
    cp.write_bytes('{"text": "Привет"}\n'.encode("cp1251"))
    args = [str(bad) if a == "BADFILE" else str(cp) if a == "CP1251" else a for a in args]
    cfg_path = corpus_env["tmp"] / "micro.toml"
    save_config(micro_config(corpus_env), cfg_path)
    result = CliRunner(env={"POETBENCH_CACHE": str(corpus_env["tmp"] / "cache")}).invoke(
        cli, [*args[:2], "--config", str(cfg_path), *args[2:]] if args[0] == "corpus" else
        [args[0], "--config", str(cfg_path), *args[1:]])
    assert result.exit_code == 2, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([l for l in lines if l.startswith("Error")]) == 1


def test_subprocess_error_has_no_traceback(corpus_env):
    proc = subprocess.run(
        [sys.executable, "-m", "poetbench.cli", "train", "--authors-file", str(corpus_env["authors_file"]),
         "--authors", "nobody"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert "unknown author 'nobody'" in proc.stderr


def test_project_option_places_the_stress_dictionaries_beside_that_project(tmp_path, monkeypatch):
    """``--project`` names the folder whose ``../shared/prosody`` is read wherever the command runs from:
    by ``poetbench scan`` and by every scan inside a command (the judge's features among them)."""
    import click

    from poetbench.cli.common import workspace
    from tests.conftest import write_stress_dictionary

    monkeypatch.delenv("POETBENCH_PROSODY_DIR", raising=False)
    project = tmp_path / "work" / "project"
    project.mkdir(parents=True)
    prosody = write_stress_dictionary(tmp_path / "work" / "shared" / "prosody")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (elsewhere / "poem.txt").write_text("Мой дядя самых честных правил,\n", encoding="utf-8")
    result = run("--project", str(project), "scan", "poem.txt")
    assert result.exit_code == 0, result.output
    assert "iamb" in result.output
    with click.Context(cli) as ctx:  # what the judge's features and their worker processes read
        ctx.params["project"] = str(project)
        workspace()
        assert os.environ["POETBENCH_PROSODY_DIR"] == str(prosody)
    assert "POETBENCH_PROSODY_DIR" not in os.environ  # restored when the command ends
