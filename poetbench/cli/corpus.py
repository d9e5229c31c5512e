"""``poetbench corpus authors | add | import | fetch | stats``."""

from __future__ import annotations

from pathlib import Path

import click

from poetbench.cli.common import PoetbenchGroup, config_options, console, err_console, log, progress_bar, workspace
from poetbench.cli.options import split_list


@click.group(cls=PoetbenchGroup)
def corpus():
    """Import, clean, deduplicate and split author corpora.

    \b
    Examples:
      poetbench corpus authors
      poetbench corpus import --authors pushkin,lermontov
      poetbench corpus import --author brodsky ~/poems/brodsky/
      poetbench corpus add mandelstam --name "Осип Эмильевич Мандельштам" ~/poems/mandelstam/
      poetbench corpus stats --tokenizer tiny
    """


def register(cli) -> None:
    cli.add_command(corpus)


def _report(author_id: str, meta: dict, corpus_dir: str) -> str:
    """The one line `corpus import`, `corpus add` and `corpus fetch` print for a written corpus: what
    was read, kept, and dropped for which reason."""
    r = meta["report"]
    return (f"{author_id}: read {r['read']}, kept {r['kept']} (too short {r['too_short']}, not Cyrillic "
            f"{r['not_cyrillic']}, a list not verse {r.get('not_verse', 0)}, of doubtful attribution "
            f"{r.get('doubtful', 0)}, exact dups {r['exact_duplicates']}, "
            f"near dups {r['near_duplicates']}, inside a longer work {r.get('inside_longer', 0)}, parts from "
            f"splitting {r['split_parts']}) -> {Path(corpus_dir) / (author_id + '.jsonl')}")


@corpus.command("authors")
@config_options
def corpus_authors(config):
    """List declared authors and whether their texts are present.

    \b
    Example:
      poetbench corpus authors --corpus-root ../shared/corpora
    """
    from poetbench.corpus.build import author_statuses
    from poetbench.report.terminal import authors_table

    statuses = author_statuses(config)
    console.print(authors_table(statuses))
    for a, status, _ in statuses:
        if status == "missing":
            console.print(f"[yellow]{a.id}[/]: {a.how_to_supply()}", soft_wrap=True)


@corpus.command("add")
@config_options
@click.argument("author_id")
@click.argument("path", type=click.Path(exists=True))
@click.option("--name", required=True, help="The author's full name, in Russian (prompts name the poet with it).")
@click.option("--force", is_flag=True, help="Rebuild the normalised corpus even when it is up to date.")
def corpus_add(config, author_id, path, name, force):
    """Declare a new author and import their poems in one step: the author goes into
    authors.user.toml beside the authors file (which every later command reads, with the shipped
    authors and their corpus root as they are).

    \b
    Example:
      poetbench corpus add mandelstam --name "Осип Эмильевич Мандельштам" ~/poems/mandelstam/
    """
    from poetbench.corpus.build import add_author

    user, meta = add_author(config, author_id, name, Path(path), force)
    console.print(_report(author_id, meta, config.corpus_dir))
    console.print(f"declared {author_id} in {user}; train it with `poetbench train --authors {author_id}`")


@corpus.command("import")
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: every author whose texts are present].")
@click.option("--author", "one_author", default=None, help="Import PATH as this (declared) author's corpus.")
@click.argument("path", required=False, type=click.Path(exists=True))
@click.option("--force", is_flag=True, help="Rebuild even when the normalised file is up to date.")
def corpus_import(config, authors, one_author, path, force):
    """Normalise corpora into one JSONL per author (with stable ids, sha256 and split).

    Reads JSONL (title, text[, year, source]), CSV with the same columns, or a folder of .txt files
    (one poem per file; title = first line when a blank line follows it, else the file name).

    \b
    Examples:
      poetbench corpus import
      poetbench corpus import --author brodsky ./my_brodsky.jsonl
    """
    from poetbench.corpus.build import import_selected

    if path is not None and one_author is None:
        raise click.UsageError("PATH needs --author ID")
    for author_id, meta in import_selected(config, split_list(authors) if authors else None, one_author,
                                           Path(path) if path else None, force,
                                           skipped=lambda a: err_console.print(f"[yellow]skipped {a.id}[/]: "
                                                                               f"{a.how_to_supply()}", soft_wrap=True)):
        console.print(_report(author_id, meta, config.corpus_dir))


@corpus.command("fetch")
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: every author with a declared source].")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False), default=None,
              help="Source declarations [default: sources.toml beside the authors file].")
@click.option("--force", is_flag=True, help="Rebuild the normalised corpus even when it is up to date.")
def corpus_fetch(config, authors, sources_file, force):
    """Download declared sources (URLs pinned by sha256, hub files, datasets), then clean,
    deduplicate and split them like `corpus import`.

    Downloads are cached and resumable; a checksum mismatch, HTTP error or missing column is one
    error line and leaves no half-written corpus behind.

    \b
    Examples:
      poetbench corpus fetch
      poetbench corpus fetch --authors pushkin,lermontov
      poetbench corpus fetch --sources my_sources.toml --corpus-dir corpora/normalized
    """
    from poetbench.corpus.sources import fetch_selected

    with progress_bar() as progress:
        for author_id, meta in fetch_selected(config, split_list(authors) if authors else None,
                                              Path(sources_file) if sources_file else None, workspace().cache,
                                              progress=progress, force=force):
            console.print(_report(author_id, meta, config.corpus_dir))


@corpus.command("stats")
@config_options
@click.option("--authors", default=None, help="Comma-separated author ids [default: all present].")
@click.option("--tokenizer", default="auto", show_default=True,
              help="Count tokens with this tokenizer: a hub id or local path, 'tiny' (the offline "
                   "preset's), 'auto' (the preset's base model, when it is local) or 'none'.")
def corpus_stats(config, authors, tokenizer):
    """Per-author table: poems, lines, words, tokens, split sizes, duplicates dropped.

    \b
    Examples:
      poetbench corpus stats
      poetbench corpus stats --preset tiny --tokenizer tiny
      poetbench corpus stats --tokenizer Qwen/Qwen2.5-3B-Instruct
    """
    from poetbench.corpus.build import select_for_stats, stats_rows
    from poetbench.models.tiny import resolve_tokenizer_for_stats
    from poetbench.report.terminal import stats_table

    ids, metas = select_for_stats(config, split_list(authors) if authors else None, log=log)
    tok, tok_name = resolve_tokenizer_for_stats(config, tokenizer, metas, log=log)
    console.print(stats_table(stats_rows(config, ids, tok), tok_name))
