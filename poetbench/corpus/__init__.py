"""Author corpora: declarations, readers of raw sources, cleaning, remote sources, and the build of
one normalised JSONL per author (``prepare_corpora`` is what every later stage calls)."""

from poetbench.config import validate_author_id
from poetbench.corpus.authors import Author, load_authors, select_authors
from poetbench.corpus.build import (
    CorpusSettings, author_stats, build_records, corpus_paths, existing_meta, file_sha256, import_author,
    load_meta, load_records, prepare_corpora, write_corpus,
)

__all__ = ["Author", "CorpusSettings", "author_stats", "build_records", "corpus_paths", "existing_meta",
           "file_sha256", "import_author", "load_authors", "load_meta", "load_records", "prepare_corpora",
           "select_authors", "validate_author_id", "write_corpus"]
