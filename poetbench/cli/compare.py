"""``poetbench compare RUN_DIR...``: per author, a leaderboard of every model row of the runs."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import UserError, config_options, console, log, workspace
from poetbench.trackers import TRACKERS


def register(cli) -> None:
    cli.add_command(compare_cmd)


@click.command("compare")
@config_options
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where compare.csv, compare.json and compare.html go [default: reports/compare-<hash>/].")
@click.option("--judge", default=None, help="Score every row with this style classifier (a key under "
              "reports/classifier/ or a folder) [default: the first run's; runs scored by another are scored again].")
@click.option("--by", default="p_target", show_default=True, help="The metric the leaderboards are ordered by.")
@click.option("--report-to", type=click.Choice(TRACKERS), default="none", show_default=True,
              help="Log the leaderboards (and compare.html as an artifact) to an experiment tracker.")
@click.option("--quiet", is_flag=True, help="Print only where the outputs are.")
def compare_cmd(config, run_dirs, out_dir, judge, by, report_to, quiet):
    """Compare the model rows of several eval runs (and `poetbench score` folders): per author, each
    metric's mean with its 95% CI on the runs' common themes, paired tests where two rows share
    prompts and seeds (else unpaired), Benjamini–Hochberg q-values, and ranks that tie when rows
    cannot be separated. One judge scores every row (runs scored by another are scored again).

    \b
    Example:
      poetbench compare reports/tiny-r8 reports/tiny-r16 --out reports/r8-vs-r16
    """
    from poetbench.eval.compare import compare_runs, write
    from poetbench.metrics.registry import REGISTRY
    from poetbench.report.compare import compare_tables, write_compare_html
    from poetbench.trackers import log_summary, require

    if by not in REGISTRY or REGISTRY[by].higher_is_better is None:
        ranked = ", ".join(m for m, x in REGISTRY.items() if x.higher_is_better is not None)
        raise UserError(f"--by {by!r}: give a metric with a direction: {ranked}")
    require(report_to)
    result = compare_runs(config, [Path(d) for d in run_dirs], Path(out_dir) if out_dir else None, judge, log=log,
                          ws=workspace())
    files = write(result) + [write_compare_html(result, by)]
    log_summary(report_to, result.out_dir, result.out_dir.name, result.rows, files, log=log)
    if not quiet:
        for table in compare_tables(result, by):
            console.print(table)
        for note in result.info["notes"]:
            console.print(f"[yellow]note[/]: {note}", soft_wrap=True)
    console.print(f"outputs: {', '.join(str(f) for f in files)}")
