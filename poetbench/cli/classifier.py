"""``poetbench classifier train | eval | predict``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from poetbench.cli.common import (
    PoetbenchGroup, config_options, console, err_console, log, read_file_or_stdin, text_or_jsonl, warn, workspace,
)


@click.group(cls=PoetbenchGroup)
def classifier():
    """The author-style classifier: train, evaluate on held-out poems, attribute new poems.

    \b
    Examples:
      poetbench classifier train
      poetbench classifier eval
      poetbench classifier predict poem.txt
      poetbench classifier predict --jsonl poems.jsonl --out attributed.jsonl
    """


def register(cli) -> None:
    cli.add_command(classifier)


def _model_option(f):
    return click.option("--model", "model_dir", type=click.Path(file_okay=False), default=None,
                        help="A saved classifier folder [default: the one for the configured corpora, "
                             "trained first when missing].")(f)


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
    from poetbench.report.terminal import classifier_tables
    from poetbench.style.classifier import evaluation_of, train_classifier

    model = train_classifier(config, log=log, force=force, ws=workspace())
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
    from poetbench.eval.rundir import check_out_path
    from poetbench.io import atomic_write_text
    from poetbench.report.terminal import classifier_tables
    from poetbench.style.classifier import held_out_report, model_for
    from poetbench.style.store import confusion_csv

    if csv_out:
        check_out_path(Path(csv_out), forbidden_dirs=[Path(config.corpus_dir)] + ([Path(model_dir)] if model_dir else []),
                       suffixes=(".csv",))
    model = model_for(config, Path(model_dir) if model_dir else None, log=log, warn=warn, ws=workspace())
    report = held_out_report(config, model, log=log)
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
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--jsonl", "jsonl_in", type=click.Path(exists=True, dir_okay=False),
              help="Batch mode: records with a 'text' field, one JSON object per line.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="With --jsonl: write results here [default: stdout].")
@click.option("--json", "as_json", is_flag=True, help="Print FILE's attribution as one JSON object.")
def classifier_predict(config, model_dir, file, jsonl_in, out, as_json):
    """Attribute poems: FILE (one poem; - for standard input) as a table of the authors' probabilities,
    or --jsonl: one JSON object per input line with id, author and proba (author -> P).

    \b
    Examples:
      poetbench classifier predict poem.txt
      poetbench classifier predict --jsonl generations.jsonl --out attributed.jsonl
    """
    from poetbench.eval.rundir import check_out_path
    from poetbench.io import atomic_write_jsonl, read_text_records
    from poetbench.report.terminal import attribution_table
    from poetbench.style.classifier import model_for, predict_records

    text_or_jsonl(file, jsonl_in, out)
    if as_json and file is None:
        raise click.UsageError("--json goes with FILE (--jsonl writes JSON already)")
    if out:
        check_out_path(Path(out), inputs=[Path(jsonl_in)], forbidden_dirs=[Path(config.corpus_dir)] +
                       ([Path(model_dir)] if model_dir else []))
    if jsonl_in:
        records = read_text_records(Path(jsonl_in))
    else:  # bad input fails before the judge loads
        records = [{"text": read_file_or_stdin(file, "attribute")}]
    model = model_for(config, Path(model_dir) if model_dir else None, log=log, warn=warn, ws=workspace())
    rows = predict_records(model, records)
    if file is not None:
        if as_json:
            click.echo(json.dumps(rows[0], ensure_ascii=False))
        else:
            console.print(attribution_table(rows[0]))
    elif out:
        atomic_write_jsonl(Path(out), rows)
        err_console.print(f"{len(rows)} poems -> {out}")
    else:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
