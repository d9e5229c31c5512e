"""Reading an eval run's files back, checked: every row and entry with the fields the readers use
(the report, ``poetbench compare``), one error naming file, line and field otherwise."""

from __future__ import annotations

from pathlib import Path

from poetbench.errors import ReportError
from poetbench.io import iter_jsonl

SCORE_FIELDS = ("key", "model", "author", "theme", "sample", "meter", "feet", "rhyme_scheme", "p_target", "regularity")
SUMMARY_FIELDS = ("model", "author", "metric", "mean")
COMPARISON_FIELDS = ("model", "metric", "diff", "ci_low", "ci_high", "effect_size", "p_value")
LM_FIELDS = ("model", "author", "perplexity", "entropy", "mean_token_accuracy")


def check_records(rows, path: Path, key: str, fields: tuple[str, ...]) -> list[dict]:
    """``summary.json``'s list ``key``: objects with ``fields`` (one error naming the first that lacks one)."""
    if not isinstance(rows, list):
        raise ReportError("must be a list of objects", path, field=key)
    for i, r in enumerate(rows):
        missing = [f for f in fields if not isinstance(r, dict) or f not in r]
        if missing:
            raise ReportError(f"entry {i} has no {missing[0]!r} (was the file written by `poetbench eval`?)", path,
                              field=key)
    return rows


def read_rows(path: Path, fields: tuple[str, ...], error=ReportError) -> list[dict]:
    """A run's JSONL file, every row with ``fields`` (a row without one is an error naming it)."""
    rows = []
    for line, row in iter_jsonl(path, error):
        missing = [f for f in fields if f not in row]
        if missing:
            raise error("row without this field (was the file written by `poetbench eval`?)", path, line,
                        missing[0])
        rows.append(row)
    return rows


RUN_NEEDS = ("run.json", "summary.json", "scores.jsonl", "generations.jsonl")


def read_run(run_dir: Path) -> dict:
    """A run's run.json, summary.json (summary, comparisons), scores.jsonl and lm.jsonl, checked."""
    from poetbench.io import read_json_object

    run_dir = Path(run_dir)
    missing = [n for n in RUN_NEEDS if not (run_dir / n).exists()]
    if missing:
        raise ReportError(f"{run_dir}: not an eval run with generations (missing {', '.join(missing)}); "
                          "run `poetbench eval` first")
    run = read_json_object(run_dir / "run.json", "run file", ReportError)
    summary = read_json_object(run_dir / "summary.json", "summary", ReportError)
    scores = read_rows(run_dir / "scores.jsonl", SCORE_FIELDS)
    if not scores:
        raise ReportError(f"{run_dir}: the run has no generated poems to report on")
    check_records(summary.get("summary"), run_dir / "summary.json", "summary", SUMMARY_FIELDS)
    check_records(summary.get("comparisons"), run_dir / "summary.json", "comparisons", COMPARISON_FIELDS)
    return {"run": run, "summary": summary, "scores": scores, "lm": held_out_rows(run_dir, run)}


def held_out_rows(run_dir: Path, run: dict, error=ReportError) -> list[dict]:
    """The run's rows of ``lm.jsonl``: none for a run made with ``--no-lm``, whose folder may still hold
    an earlier run's file (kept for a later run to reuse, but not this run's figures)."""
    options = run.get("options") if isinstance(run.get("options"), dict) else {}
    path = Path(run_dir) / "lm.jsonl"
    if options.get("lm") is False or not path.exists():
        return []
    return read_rows(path, LM_FIELDS, error)
