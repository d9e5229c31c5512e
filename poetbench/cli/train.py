"""``poetbench train``."""

from __future__ import annotations

import click

from poetbench.cli.common import config_options, console, log, progress_bar, workspace
from poetbench.cli.options import given, options
from poetbench.trackers import TRACKERS
from poetbench.config import RunConfig

TRAIN_FIELDS = ("authors", "base_model", "base_revision", "max_steps", "seed", "seeds", "trust_remote_code", "bf16",
                "gradient_checkpointing", "auto_micro_batch", "memory_budget_gib", "use_liger_kernel", "packing",
                "attn_implementation")


def register(cli) -> None:
    cli.add_command(train)


@click.command()
@config_options
@options(RunConfig, *TRAIN_FIELDS, show_default=False)
@click.option("--output-dir", type=click.Path(file_okay=False), default=None,
              help="Where adapters go [default: adapters/<run>/]; training.csv goes beside them.")
@click.option("--resume", is_flag=True, help="Continue an interrupted author from its last checkpoint.")
@click.option("--force", is_flag=True, help="Retrain authors whose adapter is already complete.")
@click.option("--save-config", type=click.Path(dir_okay=False), default=None, help="Also write the effective config as TOML.")
@click.option("--report-to", type=click.Choice(TRACKERS), default="none", show_default=True,
              help="Log training to an experiment tracker (TRL's report_to; its package must be installed).")
def train(config, output_dir, resume, force, save_config, report_to, **fields):
    """Fine-tune one LoRA adapter per author (peft + TRL SFTTrainer).

    Each adapter is a standard peft folder plus poetbench.json (base model, corpus hash, prompts,
    hyperparameters, versions, metrics). The training table (TRL's logged Loss, Grad Norm, Entropy,
    Num Tokens, Mean Token Accuracy, and the validation split's) is printed and saved as CSV.
    Options not given keep the preset's (or the config file's) values.

    \b
    Examples:
      poetbench train --preset tiny --authors pushkin,lermontov
      poetbench train --base-model Qwen/Qwen2.5-3B-Instruct --authors pushkin --max-steps 200
      poetbench train --preset tiny --resume          # after an interruption
    """
    from poetbench.config import save_config as write_config
    from poetbench.report.terminal import training_table
    from poetbench.runtime import is_main_process
    from poetbench.train import TABLE_HEADERS, training_rows
    from poetbench.train import train as run_train

    config = config.replace(**given(fields))
    if save_config:
        write_config(config, save_config)
    with progress_bar() as progress:
        result = run_train(config, output_dir=output_dir, resume=resume, force=force, progress=progress, log=log,
                           report_to=report_to,
                           ws=workspace())
    if not is_main_process():  # `accelerate launch`: rank 0 reports
        return
    console.print(training_table(training_rows(result), TABLE_HEADERS, result.run))
    console.print(f"adapters: {result.run_dir}   table: {result.training_csv}")
