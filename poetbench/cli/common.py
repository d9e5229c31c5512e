"""What every command shares: the error handling, the workspace, progress bars, config options."""

from __future__ import annotations

import functools
from pathlib import Path

import click
from rich.console import Console, ConsoleDimensions
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.text import Text

from poetbench.errors import PoetbenchError

PIPED_WIDTH = 1000  # what "no width" is for output that goes to a file or a pipe


class StdoutConsole(Console):
    """Standard output as rich prints it: at the terminal's width in a terminal; to a file, a pipe or a
    CI log (and no ``COLUMNS`` set) as wide as what it prints, so a wide table keeps its cells whole
    instead of being squeezed into 80 columns (``lora…``, ``[0.…``). Tables are drawn at their natural
    width, never stretched."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self._width is None and not self.is_terminal and not self._environ.get("COLUMNS"):
            return ConsoleDimensions(PIPED_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size) -> None:
        self._width, self._height = new_size


console = StdoutConsole()
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
            click.echo("Interrupted. Finished work is kept; rerun the same command (with --resume for training) "
                       "to continue.", err=True)
            ctx.exit(130)


project_option = click.option(
    "--project", type=click.Path(file_okay=False), default=None, envvar="POETBENCH_PROJECT",
    help="The project folder (corpora/authors.toml, adapters/, reports/) [default: $POETBENCH_PROJECT, else the "
         "current folder].")


def workspace(project: str | None = None):
    """The workspace of this invocation (resolved once, from --project, the environment, the cwd; a
    ``project`` given after the command replaces the group's). While the command runs, the environment
    names its prosody folder, for the code that finds the stress dictionaries on its own (``export``)."""
    ctx = click.get_current_context().find_root()
    if ctx.obj is None or project is not None:
        from poetbench.workspace import Workspace

        ctx.obj = Workspace.from_env(project if project is not None else ctx.params.get("project"))
        ctx.call_on_close(ctx.obj.export())
    return ctx.obj


def text_or_jsonl(file: str | None, jsonl_in: str | None, out: str | None) -> None:
    """A command that reads one text (FILE, or - for standard input) or a batch (--jsonl IN): exactly one
    of them, and --out only with the batch."""
    if (file is None) == (jsonl_in is None):
        raise click.UsageError("give a FILE (or - for standard input), or --jsonl IN.jsonl")
    if out is not None and jsonl_in is None:
        raise click.UsageError("--out goes with --jsonl")


def read_file_or_stdin(file: str, purpose: str) -> str:
    """FILE's text, or standard input's for ``-`` (``io``'s checks: UTF-8, no binary, a size limit); a
    text with no letter or digit in it is refused, naming what it was read for (``purpose``)."""
    import sys

    from poetbench.errors import InputError
    from poetbench.io import has_text, read_stream_text, read_text

    text = read_stream_text(sys.stdin.buffer) if file == "-" else read_text(Path(file))
    if not has_text(text):
        raise InputError(f"no text to {purpose}: give a poem, one line per verse",
                         "standard input" if file == "-" else file)
    return text


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


def log(msg: str) -> None:
    err_console.print(msg, soft_wrap=True, highlight=False)


def warn(msg: str) -> None:
    err_console.print(f"[yellow]warning[/]: {msg}", soft_wrap=True)


def config_options(f):
    """Options every command that reads corpora or models shares; they fill a RunConfig, whose
    project-relative paths the workspace then resolves."""
    from poetbench.cli.options import options
    from poetbench.config import RunConfig

    @project_option
    @click.option("--preset", default=None, help="Named preset: seed (Qwen2.5-3B-Instruct) or tiny (offline, CPU).")
    @click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                  help="TOML file with RunConfig fields (unset fields come from its preset).")
    @options(RunConfig, "authors_file", "corpus_root", "corpus_dir")
    @functools.wraps(f)
    def wrapper(*args, project, preset, config_file, authors_file, corpus_root, corpus_dir, **kwargs):
        from poetbench.config import load_config
        from poetbench.config import preset as get_preset

        if project is not None:  # given after the command: it wins over the group's
            workspace(project)

        if config_file and preset:
            raise click.UsageError("give --config or --preset, not both (a config file names its preset)")
        click.get_current_context().meta["poetbench.base_chosen"] = bool(config_file or preset)
        cfg = load_config(config_file) if config_file else get_preset(preset or "seed")
        changes = {k: str(Path(v).absolute()) for k, v in {"authors_file": authors_file, "corpus_root": corpus_root,
                                                           "corpus_dir": corpus_dir}.items() if v is not None}
        return f(*args, config=workspace().resolve(cfg.replace(**changes)), **kwargs)

    return wrapper
