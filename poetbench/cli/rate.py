"""``poetbench rate RUN_DIR``: blind pairwise ratings in a local web page."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import config_options, console, log


def register(cli) -> None:
    cli.add_command(rate_cmd)


@click.command("rate")
@config_options
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="The ratings database (SQLite) [default: RUN_DIR/ratings.sqlite, which the report reads].")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0: any free port.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (127.0.0.1: this machine only; 0.0.0.0 opens it to the network).")
@click.option("--export", "export", type=click.Path(dir_okay=False), default=None,
              help="Write the ratings as CSV to this file instead of serving the page.")
def rate_cmd(config, run_dir, db, port, host, export):
    """Serve blind pairs of a run's poems (two rows, no model names, for one author and theme; one of
    them may be a real poem) for raters to judge in a browser; keyboard shortcuts, resumable per
    rater. The report then adds a "human judgement" section.

    \b
    Examples:
      poetbench rate reports/tiny-366f654e
      poetbench rate reports/tiny-366f654e --export ratings.csv
    """
    from poetbench.rate.service import DB_NAME, export_csv, prepare, serve

    if export:  # reads the ratings only: nothing is written beside the run
        n = export_csv(Path(db) if db else Path(run_dir) / DB_NAME, Path(export))
        console.print(f"{n} ratings written to {export}")
        return
    path, pairs = prepare(config, Path(run_dir), Path(db) if db else None)
    log(f"{pairs} pairs in {path}")
    serve(path, host, port, log=log)
