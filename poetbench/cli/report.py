"""``poetbench report``: the self-contained HTML report of an eval run."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import console


def register(cli) -> None:
    cli.add_command(report_cmd)


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="[default: RUN_DIR/report.html]")
def report_cmd(run_dir, out):
    """Write the self-contained HTML report of an eval run (inline CSS and SVG, works offline).

    \b
    Example:
      poetbench report reports/tiny-d0464e6c/
    """
    from poetbench.report.html import write_report

    if not Path(run_dir).is_dir():
        raise click.BadParameter(f"{run_dir} is not a folder", param_hint="RUN_DIR")
    console.print(f"report: {write_report(Path(run_dir), Path(out) if out else None)}")
