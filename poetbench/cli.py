"""Command line: parse, call the library, print with rich. No logic lives here."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.text import Text

from poetbench.errors import PoetbenchError

console = Console()
err_console = Console(stderr=True)


class UserError(click.ClickException):
    """Bad input: one line, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class PoetbenchGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PoetbenchError as e:
            raise UserError(str(e)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted. Finished work is kept; rerun the same command (with --resume for training) to continue.", err=True)
            ctx.exit(130)


class RateColumn(ProgressColumn):
    """Items per second (poems/s while generating, steps/s while training)."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.2f}/s" if task.speed else "", style="cyan")


def progress_bar() -> Progress:
    """A rich progress display on stderr that stays silent when stderr is not a terminal."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=err_console, disable=not err_console.is_terminal, transient=False,
    )


def _split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise click.BadParameter("give at least one comma-separated value")
    return items


def config_options(f):
    """Options every command that reads corpora or models shares; they fill a RunConfig."""

    @click.option("--preset", default=None, help="Named preset: seed (Qwen2.5-3B-Instruct) or tiny (offline, CPU).")
    @click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                  help="TOML file with RunConfig fields (unset fields come from its preset).")
    @click.option("--authors-file", type=click.Path(dir_okay=False), default=None,
                  help="Author declarations [default: corpora/authors.toml].")
    @click.option("--corpus-root", type=click.Path(file_okay=False), default=None,
                  help="Folder that relative author paths resolve against [default: from the authors file].")
    @click.option("--corpus-dir", type=click.Path(file_okay=False), default=None,
                  help="Where normalised corpora are written [default: corpora/normalized].")
    @functools.wraps(f)
    def wrapper(*args, preset, config_file, authors_file, corpus_root, corpus_dir, **kwargs):
        from poetbench.config import load_config
        from poetbench.config import preset as get_preset

        if config_file and preset:
            raise click.UsageError("give --config or --preset, not both (a config file names its preset)")
        cfg = load_config(config_file) if config_file else get_preset(preset or "seed")
        changes = {k: str(Path(v).absolute()) for k, v in {"authors_file": authors_file, "corpus_root": corpus_root,
                                                           "corpus_dir": corpus_dir}.items() if v is not None}
        return f(*args, config=workspace().resolve(cfg.replace(**changes)), **kwargs)

    return wrapper


def workspace():
    """The workspace of this invocation (resolved once, from --project, the environment, the cwd)."""
    ctx = click.get_current_context().find_root()
    if ctx.obj is None:
        from poetbench.workspace import Workspace

        ctx.obj = Workspace.from_env(ctx.params.get("project"))
    return ctx.obj


@click.group(cls=PoetbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="poetbench")
@click.option("--project", type=click.Path(file_okay=False), default=None, envvar="POETBENCH_PROJECT",
              help="The project folder (corpora/authors.toml, adapters/, reports/) [default: $POETBENCH_PROJECT, "
                   "else the current folder].")
def cli(project):
    """poetbench: how well does a language model imitate a poet?

    \b
    Typical session:
      poetbench corpus import --preset tiny        # normalise the declared corpora
      poetbench corpus stats --preset tiny         # poems, lines, tokens, splits
      poetbench train --preset tiny --authors pushkin,lermontov
    """


# --------------------------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------------------------


@cli.group(cls=PoetbenchGroup)
def corpus():
    """Import, clean, deduplicate and split author corpora.

    \b
    Examples:
      poetbench corpus authors
      poetbench corpus import --authors pushkin,lermontov
      poetbench corpus import --author brodsky ~/poems/brodsky/
      poetbench corpus stats --tokenizer tiny
    """


@corpus.command("authors")
@config_options
def corpus_authors(config):
    """List declared authors and whether their texts are present.

    \b
    Example:
      poetbench corpus authors --corpus-root ../shared/corpora
    """
    from poetbench.corpus import load_authors
    from poetbench.report.terminal import authors_table

    authors = load_authors(config.authors_file, config.corpus_root)
    console.print(authors_table(authors.values()))
    for a in authors.values():
        if not a.present:
            console.print(f"[yellow]{a.id}[/]: {a.how_to_supply()}", soft_wrap=True)


@corpus.command("import")
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: every author whose texts are present].")
@click.option("--author", "one_author", default=None, help="Import PATH as this (declared) author's corpus.")
@click.argument("path", required=False, type=click.Path(exists=True))
@click.option("--force", is_flag=True, help="Rebuild even when the normalised file is up to date.")
def corpus_import(config, authors, one_author, path, force):
    """Normalise corpora into one JSONL per author (with stable ids, sha256 and split).

    Reads JSONL (title, text[, year, source]), CSV with the same columns, or a folder of .txt files
    (one poem per file; title = first line when a blank line follows it, else the file name).

    \b
    Examples:
      poetbench corpus import
      poetbench corpus import --author brodsky ./my_brodsky.jsonl
    """
    from poetbench.corpus import CorpusSettings, import_author, load_authors, select_authors

    declared = load_authors(config.authors_file, config.corpus_root)
    settings = CorpusSettings.from_config(config)
    if path is not None and one_author is None:
        raise click.UsageError("PATH needs --author ID")
    if one_author is not None:
        targets, source = select_authors(declared, [one_author]), (Path(path) if path else None)
    elif authors:
        targets, source = select_authors(declared, _split_list(authors)), None
    else:
        targets, source = [a for a in declared.values() if a.present], None
        for a in declared.values():
            if not a.present:
                err_console.print(f"[yellow]skipped {a.id}[/]: {a.how_to_supply()}", soft_wrap=True)
    for author in targets:
        meta = import_author(author, config.corpus_dir, settings, source=source, force=force)
        r = meta["report"]
        console.print(
            f"{author.id}: read {r['read']}, kept {r['kept']} "
            f"(too short {r['too_short']}, not Cyrillic {r['not_cyrillic']}, exact dups {r['exact_duplicates']}, "
            f"near dups {r['near_duplicates']}, parts from splitting {r['split_parts']}) -> "
            f"{Path(config.corpus_dir) / (author.id + '.jsonl')}"
        )


@corpus.command("fetch")
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: every author with a declared source].")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False), default=None,
              help="Source declarations [default: sources.toml beside the authors file].")
@click.option("--force", is_flag=True, help="Rebuild the normalised corpus even when it is up to date.")
def corpus_fetch(config, authors, sources_file, force):
    """Download declared sources (URLs pinned by sha256, hub files, datasets), then clean,
    deduplicate and split them like `corpus import`.

    Downloads are cached and resumable; a checksum mismatch, HTTP error or missing column is one
    error line and leaves no half-written corpus behind.

    \b
    Examples:
      poetbench corpus fetch
      poetbench corpus fetch --authors pushkin,lermontov
      poetbench corpus fetch --sources my_sources.toml --corpus-dir corpora/normalized
    """
    from poetbench.corpus import CorpusSettings, load_authors, select_authors
    from poetbench.runtime import default_cache_dir
    from poetbench.sources import Lock, fetch_author, load_sources

    declared = load_authors(config.authors_file, config.corpus_root)
    sources_path = Path(sources_file) if sources_file else Path(config.authors_file).with_name("sources.toml")
    sources = load_sources(sources_path)
    wanted = select_authors(declared, _split_list(authors) if authors else [a for a in sources if a in declared])
    missing = [a.id for a in wanted if a.id not in sources]
    if missing:
        raise click.UsageError(f"no source declared for {', '.join(missing)} in {sources_path}")
    lock = Lock(sources_path.with_name("sources.lock.json"))
    settings = CorpusSettings.from_config(config)
    with progress_bar() as progress:
        for author in wanted:
            meta = fetch_author(author, sources[author.id], config.corpus_dir, settings, default_cache_dir(), lock,
                                progress=progress, force=force)
            r = meta["report"]
            console.print(f"{author.id}: read {r['read']}, kept {r['kept']} (exact dups {r['exact_duplicates']}, "
                          f"near dups {r['near_duplicates']}) -> {Path(config.corpus_dir) / (author.id + '.jsonl')}")


@corpus.command("stats")
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: all present].")
@click.option("--tokenizer", default="auto", show_default=True,
              help="Count tokens with this tokenizer: a hub id or local path, 'tiny' (the offline "
                   "preset's), 'auto' (the preset's base model, when it is local) or 'none'.")
def corpus_stats(config, authors, tokenizer):
    """Per-author table: poems, lines, words, tokens, split sizes, duplicates dropped.

    \b
    Examples:
      poetbench corpus stats
      poetbench corpus stats --preset tiny --tokenizer tiny
      poetbench corpus stats --tokenizer Qwen/Qwen2.5-3B-Instruct
    """
    from poetbench.corpus import author_stats, load_meta, load_records
    from poetbench.report.terminal import stats_table
    from poetbench.tiny import resolve_tokenizer_for_stats
    from poetbench.train import prepare_corpora

    wanted, metas = prepare_corpora(config, _split_list(authors) or [], log=_log, only_selected=authors is not None)
    ids = [a.id for a in wanted] if authors else sorted(metas)
    tok, tok_name = resolve_tokenizer_for_stats(config, tokenizer, metas, log=_log)
    rows = [author_stats(load_records(config.corpus_dir, a), load_meta(config.corpus_dir, a), tok) for a in ids]
    console.print(stats_table(rows, tok_name))


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------


def _log(msg: str) -> None:
    err_console.print(msg, soft_wrap=True, highlight=False)


@cli.command()
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: the preset's: pushkin,lermontov,tyutchev].")
@click.option("--base-model", default=None, help="Hub id or local path (e.g. Qwen/Qwen2.5-3B-Instruct), or 'tiny'.")
@click.option("--revision", default=None, help="Hub revision of the base model.")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None,
              help="Where adapters go [default: adapters/<run>/]; training.csv goes beside them.")
@click.option("--max-steps", type=int, default=None, help="Optimizer steps per author (overrides epochs).")
@click.option("--seed", type=int, default=None, help="Random seed.")
@click.option("--resume", is_flag=True, help="Continue an interrupted author from its last checkpoint.")
@click.option("--force", is_flag=True, help="Retrain authors whose adapter is already complete.")
@click.option("--trust-remote-code", is_flag=True, help="Allow the model repository to run its own code.")
@click.option("--bf16/--no-bf16", default=None, help="bf16 mixed precision (used only on a GPU that has it).")
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=None,
              help="Trade compute for memory (GPU).")
@click.option("--packing/--no-packing", default=None,
              help="Pack examples into full sequences (padding-free batches; needs flash_attention_2).")
@click.option("--attn-implementation", type=click.Choice(["sdpa", "eager", "flash_attention_2"]), default=None,
              help="Attention kernel; flash_attention_2 needs the flash-attn extra.")
@click.option("--save-config", type=click.Path(dir_okay=False), default=None, help="Also write the effective config as TOML.")
def train(config, authors, base_model, revision, output_dir, max_steps, seed, resume, force, trust_remote_code,
          bf16, gradient_checkpointing, packing, attn_implementation, save_config):
    """Fine-tune one LoRA adapter per author (peft + TRL SFTTrainer).

    Each adapter is a standard peft folder plus poetbench.json (base model, corpus hash, prompts,
    hyperparameters, versions, metrics). The training table (TRL's logged Loss, Grad Norm, Entropy,
    Num Tokens, Mean Token Accuracy, and the validation split's) is printed and saved as CSV.

    \b
    Examples:
      poetbench train --preset tiny --authors pushkin,lermontov
      poetbench train --base-model Qwen/Qwen2.5-3B-Instruct --authors pushkin --max-steps 200
      poetbench train --preset tiny --resume          # after an interruption
    """
    from poetbench.config import save_config as write_config
    from poetbench.report.terminal import training_table
    from poetbench.train import TABLE_HEADERS, train as run_train, training_rows

    changes = {}
    if authors is not None:
        changes["authors"] = _split_list(authors)
    if base_model is not None:
        changes["base_model"] = base_model
    if revision is not None:
        changes["base_revision"] = revision
    if max_steps is not None:
        if max_steps <= 0:
            raise click.BadParameter("must be positive", param_hint="--max-steps")
        changes["max_steps"] = max_steps
    if seed is not None:
        changes["seed"] = seed
    if trust_remote_code:
        changes["trust_remote_code"] = True
    for name, value in (("bf16", bf16), ("gradient_checkpointing", gradient_checkpointing), ("packing", packing),
                        ("attn_implementation", attn_implementation)):
        if value is not None:
            changes[name] = value
    config = config.replace(**changes)
    if save_config:
        write_config(config, save_config)
    from poetbench.runtime import is_main_process

    with progress_bar() as progress:
        result = run_train(config, output_dir=output_dir, resume=resume, force=force, progress=progress, log=_log)
    if not is_main_process():  # `accelerate launch`: rank 0 reports
        return
    console.print(training_table(training_rows(result), TABLE_HEADERS, result.run))
    console.print(f"adapters: {result.run_dir}   table: {result.training_csv}")


# --------------------------------------------------------------------------------------------
# eval
# --------------------------------------------------------------------------------------------


@cli.command("eval")
@config_options
@click.option("--models", default="base,lora", show_default=True,
              help="base, lora (every adapter of the run), lora:<author>, or adapter folders; comma-separated.")
@click.option("--adapters", type=click.Path(file_okay=False), default=None,
              help="The training run's adapter folder [default: the newest run under adapters/].")
@click.option("--samples", type=int, default=2, show_default=True, help="Poems per (model, author, theme).")
@click.option("--themes", "n_themes", type=int, default=None, help="Use the first N themes [default: all].")
@click.option("--prompts", "prompts_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Replace themes/templates: a TOML file (keys of poetbench/data/prompts.toml) or JSONL of {theme}.")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None, help="[default: reports/<run>/]")
@click.option("--batch-size", type=int, default=8, show_default=True, help="Prompts generated together.")
@click.option("--max-new-tokens", type=int, default=None, help="[default: 160 for the tiny preset, 512 otherwise]")
@click.option("--temperature", type=float, default=0.8, show_default=True)
@click.option("--top-p", type=float, default=0.95, show_default=True)
@click.option("--seed", type=int, default=None, help="[default: the config's seed]")
@click.option("--backend", type=click.Choice(["hf", "vllm"]), default="hf", show_default=True,
              help="Generation engine: transformers, or one vLLM engine with LoRA (pip install 'poetbench[vllm]').")
@click.option("--no-lm", is_flag=True, help="Skip the held-out perplexity/entropy/accuracy matrix.")
@click.option("--quiet", is_flag=True, help="Print only where the outputs are.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@click.option("--force", is_flag=True, help="The output folder holds another run: move its files aside and start afresh.")
def eval_cmd(config, models, adapters, samples, n_themes, prompts_file, output_dir, batch_size, max_new_tokens,
             temperature, top_p, seed, backend, no_lm, quiet, as_json, force):
    """Generate poems with the base model and each adapter, score them, and compare with 95% CIs.

    Every poem is appended to generations.jsonl as its batch finishes; rerunning the same command
    skips what is done. Scores, summaries and run.json go beside it.

    \b
    Examples:
      poetbench eval --preset tiny --models base,lora --samples 2 --themes 20
      poetbench eval --models base,lora:pushkin --adapters adapters/seed-1a2b3c4d --samples 8
    """
    from poetbench.benchmark import EvalOptions, run_eval
    from poetbench.generate import SamplingParams
    from poetbench.report.terminal import comparison_table, eval_summary_table, lm_matrix_table

    if max_new_tokens is None:
        max_new_tokens = 160 if config.is_tiny else 512
    params = SamplingParams(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens)
    opts = EvalOptions(models=models, adapters=Path(adapters) if adapters else None, samples=samples,
                       themes=n_themes, output_dir=Path(output_dir) if output_dir else None,
                       prompts_file=Path(prompts_file) if prompts_file else None, batch_size=batch_size,
                       seed=config.seed if seed is None else seed, params=params, lm=not no_lm, backend=backend,
                       force=force)
    from poetbench.report.html import write_report

    with progress_bar() as progress:
        result = run_eval(config, opts, progress=progress, log=_log)
    report = write_report(result.output_dir)
    if as_json:
        click.echo((result.output_dir / "summary.json").read_text(encoding="utf-8"))
        return
    if not quiet:
        console.print(eval_summary_table(result.summary, result.lm))
        if result.comparisons:
            console.print(comparison_table(result.comparisons))
        if result.lm:
            console.print(lm_matrix_table(result.lm))
    console.print(f"outputs: {result.output_dir} (generations.jsonl, scores.jsonl, summary.csv, summary.json, "
                  f"run.json) and {report}")


@cli.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="[default: RUN_DIR/report.html]")
def report_cmd(run_dir, out):
    """Write the self-contained HTML report of an eval run (inline CSS and SVG, works offline).

    \b
    Example:
      poetbench report reports/tiny-d0464e6c/
    """
    from poetbench.report.html import write_report

    from poetbench.rundir import RUN_FILES, check_out_path

    if not Path(run_dir).is_dir():
        raise click.BadParameter(f"{run_dir} is not a folder", param_hint="RUN_DIR")
    if out is not None:
        check_out_path(Path(out), inputs=[Path(run_dir) / n for n in RUN_FILES if n != "report.html"],
                       own=Path(run_dir) / "report.html", suffixes=(".html", ".htm"))
    console.print(f"report: {write_report(Path(run_dir), out)}")


# --------------------------------------------------------------------------------------------
# classifier
# --------------------------------------------------------------------------------------------


@cli.group(cls=PoetbenchGroup)
def classifier():
    """The author-style classifier: train, evaluate on held-out poems, attribute new poems.

    \b
    Examples:
      poetbench classifier train
      poetbench classifier eval
      poetbench classifier predict --jsonl poems.jsonl --out attributed.jsonl
    """


def _model_option(f):
    return click.option("--model", "model_dir", type=click.Path(file_okay=False), default=None,
                        help="A saved classifier folder [default: the one for the configured corpora, "
                             "trained first when missing].")(f)


def _get_model(config, model_dir):
    from poetbench.classifier import corpora_for_classifier, ensure_classifier, load

    if model_dir is None:
        return ensure_classifier(config, log=_log)
    metas = corpora_for_classifier(config, log=_log)
    return load(model_dir, {a: m["corpus_sha256"] for a, m in metas.items()},
                warn=lambda m: err_console.print(f"[yellow]warning[/]: {m}", soft_wrap=True))


@classifier.command("train")
@config_options
@click.option("--force", is_flag=True, help="Retrain even when a classifier for these corpora exists.")
def classifier_train(config, force):
    """Train on the train and val splits of every author with texts (at least 3), evaluate on
    their held-out test splits, and save under reports/classifier/<key>/.

    \b
    Example:
      poetbench classifier train --force
    """
    from poetbench.classifier import evaluation_of, train_classifier
    from poetbench.report.terminal import classifier_tables

    model = train_classifier(config, log=_log, force=force)
    for table in classifier_tables(evaluation_of(model)):
        console.print(table)
    console.print(f"classifier: {model.path}")


@classifier.command("eval")
@config_options
@_model_option
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False), default=None, help="Also write the confusion matrix here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def classifier_eval(config, model_dir, csv_out, as_json):
    """Held-out report: accuracy, macro-F1, per-author precision/recall, confusion matrix, pools of 10.

    \b
    Example:
      poetbench classifier eval --csv confusion.csv
    """
    import json

    from poetbench.classifier import _split_texts, confusion_csv, evaluate
    from poetbench.io import atomic_write_text
    from poetbench.report.terminal import classifier_tables

    from poetbench.classifier import ClassifierError, corpora_for_classifier

    if csv_out:
        from poetbench.rundir import check_out_path

        check_out_path(Path(csv_out), forbidden_dirs=[Path(config.corpus_dir)] + ([Path(model_dir)] if model_dir else []),
                       suffixes=(".csv",))
    model = _get_model(config, model_dir)
    current = {a: m["corpus_sha256"] for a, m in corpora_for_classifier(config, log=_log).items()}
    if model.meta.get("corpora") != current:
        raise ClassifierError(f"{model.path} was trained on other corpora than the configured ones, so their "
                              "test splits are not held out from it; evaluate it on its own corpora or retrain "
                              "(`poetbench classifier train`)")
    texts, labels, _ = _split_texts(config, model.authors, "test")
    report = evaluate(model, texts, labels)
    if csv_out:
        atomic_write_text(Path(csv_out), confusion_csv(report))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for table in classifier_tables(report):
        console.print(table)


@classifier.command("predict")
@config_options
@_model_option
@click.option("--jsonl", "jsonl_in", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Records with a 'text' field, one JSON object per line.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write results here [default: stdout].")
def classifier_predict(config, model_dir, jsonl_in, out):
    """Attribute poems: one JSON object per input line with id, author and proba (author -> P).

    \b
    Example:
      poetbench classifier predict --jsonl generations.jsonl --out attributed.jsonl
    """
    import json

    from poetbench.classifier import predict_records
    from poetbench.io import atomic_write_text, read_text_records

    from poetbench.rundir import check_out_path

    if out:
        check_out_path(Path(out), inputs=[Path(jsonl_in)], forbidden_dirs=[Path(config.corpus_dir)] +
                       ([Path(model_dir)] if model_dir else []))
    records = read_text_records(Path(jsonl_in))
    model = _get_model(config, model_dir)
    rows = [json.dumps(r, ensure_ascii=False) for r in predict_records(model, records)]
    if out:
        atomic_write_text(Path(out), "".join(r + "\n" for r in rows))
        err_console.print(f"{len(rows)} poems -> {out}")
    else:
        for r in rows:
            click.echo(r)


# --------------------------------------------------------------------------------------------
# scan
# --------------------------------------------------------------------------------------------


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--jsonl", "jsonl_in", type=click.Path(exists=True, dir_okay=False),
              help="Batch mode: records with a 'poem_text' (or 'text') field, one JSON object per line.")
@click.option("--out", type=click.Path(dir_okay=False), help="With --jsonl: write results here [default: stdout].")
@click.option("--json", "as_json", is_flag=True, help="Print the full analysis of FILE as JSON.")
@click.option("--prosody-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with accent.dic and accent1.dic [default: ../shared/prosody or $POETBENCH_PROSODY_DIR].")
def scan(file, jsonl_in, out, as_json, prosody_dir):
    """Stress, meter, rhyme and stanza analysis of Russian verse.

    \b
    Examples:
      poetbench scan poem.txt
      echo "Мой дядя самых честных правил," | poetbench scan -
      poetbench scan --jsonl ../shared/prosody/rifma_dev.jsonl --out scanned.jsonl
    """
    import json

    from poetbench.prosody import scan_jsonl
    from poetbench.prosody.scan import scan_poem
    from poetbench.prosody.stress import default_dictionary
    from poetbench.report.terminal import scan_panel

    if (file is None) == (jsonl_in is None):
        raise click.UsageError("give a FILE (or - for standard input), or --jsonl IN.jsonl")
    if out is not None and jsonl_in is None:
        raise click.UsageError("--out goes with --jsonl")
    if jsonl_in:
        from poetbench.io import read_text_records
        from poetbench.rundir import check_out_path

        if out:
            check_out_path(Path(out), inputs=[Path(jsonl_in)])

        read_text_records(Path(jsonl_in), ("poem_text", "text"))  # bad input fails before any work
        dic = default_dictionary(prosody_dir)
        with progress_bar() as progress:
            n = scan_jsonl(Path(jsonl_in), Path(out) if out else None, dic, progress=progress,
                           echo=None if out else click.echo)
        if out:
            err_console.print(f"{n} poems -> {out}")
        return
    if file == "-":
        from poetbench.io import read_stream_text

        text = read_stream_text(sys.stdin.buffer)
    else:
        text = _read_poem(file)
    result = scan_poem(text, default_dictionary(prosody_dir))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(scan_panel(result))


def _read_poem(path: str) -> str:
    from poetbench.io import read_text

    return read_text(Path(path))


# --------------------------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------------------------


@cli.command("config")
@config_options
def show_config(config):
    """Print the effective configuration as TOML (save it, edit it, pass it back with --config).

    \b
    Example:
      poetbench config --preset tiny > my.toml && poetbench train --config my.toml
    """
    import tomli_w

    click.echo(tomli_w.dumps({k: v for k, v in config.to_dict().items() if v is not None}), nl=False)


def main() -> None:
    cli(prog_name="poetbench")


if __name__ == "__main__":
    main()
