"""``poetbench score --poems FILE.jsonl --name NAME``: poems made elsewhere, scored like an eval run."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import config_options, console, log, workspace


def register(cli) -> None:
    cli.add_command(score_cmd)


@click.command("score")
@config_options
@click.option("--poems", "poems", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSONL rows with author (an author id with a corpus) and text; optional theme and id.")
@click.option("--name", required=True, help="The model row these poems appear as (e.g. gpt-4o, human).")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None, help="[default: reports/score-<name>/]")
@click.option("--quiet", is_flag=True, help="Print only where the outputs are.")
def score_cmd(config, poems, name, output_dir, quiet):
    """Score poems made elsewhere (another model, an API, a person) with every metric, beside the
    authors' held-out real poems (the reference rows), into a folder with an eval run's files and
    its HTML report.

    \b
    Example:
      poetbench score --poems their_poems.jsonl --name other-model
    """
    from poetbench.eval.external import score_poems
    from poetbench.report.html import write_report
    from poetbench.report.terminal import eval_tables

    result = score_poems(config, Path(poems), name, Path(output_dir) if output_dir else None, log=log, ws=workspace())
    report = write_report(result.output_dir)
    if not quiet:
        for table in eval_tables(result.summary, result.comparisons, result.lm):
            console.print(table)
    console.print(f"outputs: {result.output_dir} (scores.jsonl, summary.csv, summary.json, run.json) and {report}")
