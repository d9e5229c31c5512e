"""Write poetbench/data/function_words.tsv, every preposition and conjunction of the installed
pymorphy3 dictionary (``poetbench.prosody.morph.function_words`` reads it):

    .venv/bin/python -m poetbench.data.function_words
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from poetbench.io import atomic_write_text
from poetbench.prosody.morph import FUNCTION_WORDS_FILE, list_function_words


def main() -> None:
    words = list_function_words()
    version = metadata.version("pymorphy3-dicts-ru")
    path = Path(str(resources.files("poetbench.data").joinpath(FUNCTION_WORDS_FILE)))
    atomic_write_text(path, f"# prepositions and conjunctions of pymorphy3-dicts-ru {version}: word, parts\n"
                      + "".join(f"{w}\t{','.join(sorted(t))}\n" for w, t in sorted(words.items())))
    print(f"{path}: {len(words)} words")


if __name__ == "__main__":
    main()
