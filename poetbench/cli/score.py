"""``poetbench score --poems FILE.jsonl --name NAME``: poems made elsewhere, scored like an eval run;
``poetbench score RUN_DIR [--judge KEY]``: a run's poems scored again."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import UserError, config_options, console, log, workspace


def register(cli) -> None:
    cli.add_command(score_cmd)


@click.command("score")
@config_options
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--poems", "poems", type=click.Path(exists=True, dir_okay=False),
              help="JSONL rows with author (an author id with a corpus) and text; optional theme and id.")
@click.option("--name", help="The model row these poems appear as (e.g. gpt-4o, human).")
@click.option("--judge", help="RUN_DIR: the style classifier to score with, a key under reports/classifier/ or a "
              "folder [default: the one the run recorded].")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None, help="[default: reports/score-<name>/]")
@click.option("--quiet", is_flag=True, help="Print only where the outputs are.")
def score_cmd(config, run_dir, poems, name, judge, output_dir, quiet):
    """Score poems made elsewhere (another model, an API, a person) with every metric, beside the
    authors' held-out real poems (the reference rows), into a folder with an eval run's files and
    its HTML report; or score an eval run's poems again (RUN_DIR), with its own judge or --judge KEY,
    without generating again (the files it rewrites are copied into RUN_DIR/replaced-<time>/ first).

    \b
    Examples:
      poetbench score --poems their_poems.jsonl --name other-model
      poetbench score reports/tiny-d0464e6c --judge 6fb72d881f272a37
    """
    from poetbench.report.html import write_report
    from poetbench.report.terminal import eval_tables

    if run_dir is not None:
        if poems or name or output_dir:
            raise UserError("give either RUN_DIR (score a run again) or --poems FILE --name NAME, not both")
        from poetbench.eval.rescore import rescore_run

        result = rescore_run(config, Path(run_dir), judge, log=log, ws=workspace())
    else:
        if not poems or not name:
            raise UserError("give --poems FILE.jsonl --name NAME (poems made elsewhere), or RUN_DIR (a run to score "
                            "again)")
        if judge:
            raise UserError("--judge applies to RUN_DIR (scoring a run again)")
        from poetbench.eval.external import score_poems

        result = score_poems(config, Path(poems), name, Path(output_dir) if output_dir else None, log=log,
                             ws=workspace())
    report = write_report(result.output_dir)
    if not quiet:
        for table in eval_tables(result.summary, result.comparisons, result.lm):
            console.print(table)
    judge_key = result.run.get("classifier", {}).get("key")
    console.print(f"outputs: {result.output_dir} (scores.jsonl, summary.csv, summary.json, run.json) and {report}; "
                  f"judge {judge_key}")
