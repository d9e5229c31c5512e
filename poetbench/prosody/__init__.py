"""Russian prosody: word stress, meter, rhyme and stanza analysis (pure functions of the text).

``scan_poem(text)`` returns a :class:`PoemScan`; ``scan_record`` gives the flat dict that
``poetbench scan --jsonl`` writes per input line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from poetbench.prosody.scan import PoemScan, paused_gc, scan_poem, scan_poems
from poetbench.prosody.stress import StressDictionary, default_dictionary

__all__ = ["PoemScan", "scan_poem", "scan_poems", "scan_record", "scan_jsonl", "default_dictionary"]


def scan_record(record: dict, dic: StressDictionary | None = None) -> dict:
    """One output row of batch mode: id, accented_text, rhyme_scheme, meter, feet, regularity, ..."""
    text = record.get("poem_text", record.get("text"))
    if not isinstance(text, str):
        text = ""
    result = scan_poem(text, dic)
    row = {"id": record["id"]} if "id" in record else {}
    row.update({
        "accented_text": result.accented_text, "rhyme_scheme": result.rhyme_scheme, "meter": result.meter,
        "feet": result.feet, "meter_label": result.meter_label, "regularity": result.regularity,
        "rhyme_rate": result.rhyme_rate, "exact_rhyme_share": result.exact_rhyme_share,
        "clausulas": result.clausulas, "stanza_sizes": result.stanza_sizes, "four_quatrains": result.four_quatrains,
    })
    return row


def scan_jsonl(path: Path, out: Path | None, dic: StressDictionary | None = None, progress=None,
               echo: Callable[[str], None] | None = None, records: list[dict] | None = None) -> int:
    """Scan every record of a JSONL file (``records``: its records, already read and checked); write rows to
    ``out`` (atomically) or pass them to ``echo``."""
    from poetbench.io import atomic_write_text, read_text_records

    records = read_text_records(path, ("poem_text", "text")) if records is None else records
    task = progress.add_task("scan", total=len(records)) if progress is not None else None
    rows = []
    with paused_gc():
        for rec in records:
            line = json.dumps(scan_record(rec, dic), ensure_ascii=False)
            if echo is not None:
                echo(line)
            rows.append(line)
            if task is not None:
                progress.advance(task)
    if out is not None:
        atomic_write_text(out, "".join(r + "\n" for r in rows))
    return len(rows)
