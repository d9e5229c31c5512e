"""``poetbench eval``: generate, score and compare, then write the HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import config_options, console, log, progress_bar, workspace
from poetbench.cli.options import given, options
from poetbench.config import SamplingParams
from poetbench.eval.plan import EvalOptions

EVAL_FIELDS = ("models", "adapters", "samples", "themes", "prompts_file", "output_dir", "batch_size", "seed",
               "backend", "tensor_parallel_size", "merge_adapters", "lm", "force", "controls", "also",
               "report_to")
SAMPLING_FIELDS = ("max_new_tokens", "temperature", "top_p", "repetition_penalty")


def register(cli) -> None:
    cli.add_command(eval_cmd)


@click.command("eval")
@config_options
@options(EvalOptions, *EVAL_FIELDS)
@options(SamplingParams, *SAMPLING_FIELDS)
@click.option("--quiet", is_flag=True, help="Print only where the outputs are.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
def eval_cmd(config, quiet, as_json, **fields):
    """Generate poems with the base model and each adapter, score them, and compare with 95% CIs.

    Every poem is appended to generations.jsonl as its batch finishes; rerunning the same command
    skips what is done. Scores, summaries and run.json go beside it, and report.html.

    \b
    Examples:
      poetbench eval --preset tiny --models base,lora --samples 2 --themes 20
      poetbench eval --models base,lora:pushkin --adapters adapters/seed-1a2b3c4d --samples 8
    """
    from poetbench.eval import run_eval
    from poetbench.eval.plan import config_for_adapters, sampling_for
    from poetbench.report.html import write_report
    from poetbench.report.terminal import eval_tables
    from poetbench.trackers import log_summary

    chosen = given(fields)
    adapters = chosen.get("adapters")
    notes: list[str] = []  # said once the options are valid: bad input gets its Error line alone
    config = config_for_adapters(config, chosen.get("models", EvalOptions.models), Path(adapters) if adapters else None,
                                 workspace(), click.get_current_context().meta.get("poetbench.base_chosen", False),
                                 notes.append)
    params = sampling_for(config, **{k: chosen.pop(k) for k in SAMPLING_FIELDS if k in chosen})
    opts = EvalOptions(**chosen, params=params)
    for note in notes:
        log(note)
    with progress_bar() as progress:
        result = run_eval(config, opts, progress=progress, log=log, ws=workspace())
    if result is None:  # a rank other than 0 of `accelerate launch`: rank 0 reports
        return
    report = write_report(result.output_dir)
    log_summary(opts.report_to, result.output_dir, result.output_dir.name, result.summary,
                [report, result.output_dir / "summary.csv"], log=log)
    if as_json:
        click.echo((result.output_dir / "summary.json").read_text(encoding="utf-8"))
        return
    if not quiet:
        for table in eval_tables(result.summary, result.comparisons, result.lm):
            console.print(table)
    console.print(f"outputs: {result.output_dir} (generations.jsonl, scores.jsonl, summary.csv, summary.json, "
                  f"run.json) and {report}")
