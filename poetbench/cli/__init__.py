"""Command line: one module per command group; each parses, calls the library, prints with rich.

Library errors (``poetbench.errors``) become one ``Error: ...`` line and exit code 2 here, and only
here; an interrupt keeps finished work and says how to continue.
"""

from __future__ import annotations

import click

from poetbench.cli.common import PoetbenchGroup, project_option


@click.group(cls=PoetbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="poetbench")
@project_option
def cli(project):
    """poetbench: how well does a language model imitate a poet?

    \b
    Typical session:
      poetbench corpus import --preset tiny        # normalise the declared corpora
      poetbench corpus stats --preset tiny         # poems, lines, tokens, splits
      poetbench train --preset tiny --authors pushkin,lermontov
      poetbench eval --preset tiny --models base,lora
    """


def _register() -> None:
    from poetbench.cli import classifier, compare, config, corpus, eval, rate, report, scan, score, train

    for module in (corpus, train, eval, score, compare, rate, report, classifier, scan, config):
        module.register(cli)


_register()


def main() -> None:
    cli(prog_name="poetbench")


if __name__ == "__main__":
    main()
