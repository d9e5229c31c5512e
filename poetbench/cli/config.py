"""``poetbench config``: the effective configuration as TOML."""

from __future__ import annotations

import click

from poetbench.cli.common import config_options


def register(cli) -> None:
    cli.add_command(show_config)


@click.command("config")
@config_options
def show_config(config):
    """Print the effective configuration as TOML (save it, edit it, pass it back with --config).

    \b
    Example:
      poetbench config --preset tiny > my.toml && poetbench train --config my.toml
    """
    from poetbench.config import config_toml

    click.echo(config_toml(config), nl=False)
