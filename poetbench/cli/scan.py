"""``poetbench scan``: the prosody engine on one poem or a JSONL of poems."""

from __future__ import annotations

import json
from pathlib import Path

import click

from poetbench.cli.common import (
    console, err_console, progress_bar, read_file_or_stdin, text_or_jsonl, workspace,
)


def register(cli) -> None:
    cli.add_command(scan)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--jsonl", "jsonl_in", type=click.Path(exists=True, dir_okay=False),
              help="Batch mode: records with a 'poem_text' (or 'text') field, one JSON object per line.")
@click.option("--out", type=click.Path(dir_okay=False), help="With --jsonl: write results here [default: stdout].")
@click.option("--json", "as_json", is_flag=True, help="Print the full analysis of FILE as JSON.")
@click.option("--prosody-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with accent.dic and accent1.dic [default: $POETBENCH_PROSODY_DIR, else ../shared/prosody "
                   "beside the project].")
def scan(file, jsonl_in, out, as_json, prosody_dir):
    """Stress, meter, rhyme and stanza analysis of Russian verse.

    \b
    Examples:
      poetbench scan poem.txt
      echo "Мой дядя самых честных правил," | poetbench scan -
      poetbench scan --jsonl ../shared/prosody/rifma_dev.jsonl --out scanned.jsonl
    """
    from poetbench.eval.rundir import check_out_path
    from poetbench.io import read_text_records
    from poetbench.prosody import scan_jsonl
    from poetbench.prosody.scan import scan_poem
    from poetbench.prosody.stress import default_dictionary
    from poetbench.report.terminal import scan_panel

    text_or_jsonl(file, jsonl_in, out)
    folder = prosody_dir or str(workspace().prosody)
    if jsonl_in:
        if out:
            check_out_path(Path(out), inputs=[Path(jsonl_in)])
        records = read_text_records(Path(jsonl_in), ("poem_text", "text"))  # bad input fails before any work
        with progress_bar() as progress:
            n = scan_jsonl(Path(jsonl_in), Path(out) if out else None, default_dictionary(folder), progress=progress,
                           echo=None if out else click.echo, records=records)
        if out:
            err_console.print(f"{n} poems -> {out}")
        return
    result = scan_poem(read_file_or_stdin(file, "scan"), default_dictionary(folder))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(scan_panel(result))
