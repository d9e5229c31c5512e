"""``poetbench compare``'s tables: per author a leaderboard in the terminal (rich) and in one
self-contained ``compare.html``; both read the comparison, never recompute it."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from poetbench.metrics.registry import REGISTRY, fmt_summary, headline


def leaderboards(result, by: str, metrics: list[str] | None = None) -> list[dict]:
    """Per author: the rows ordered by rank on ``by`` (then mean), each with the cells (rank, ties)
    of ``metrics`` (default every headline poem metric, and detectability)."""
    shown = [REGISTRY[n] for n in metrics] if metrics else \
        [m for m in headline() if m.level == "poem" or m.name == "detect_auc"]
    cells = {(c["author"], c["row"], c["metric"]): c for c in result.rows}
    boards = []
    for author in result.authors:
        names = sorted({c["row"] for c in result.rows if c["author"] == author})
        key_metric = REGISTRY[by]

        def order(name):
            c = cells.get((author, name, by), {})
            mean = c.get("mean")
            sign = -1 if key_metric.higher_is_better else 1
            return (name == "reference", c.get("rank") or 999, sign * mean if mean is not None and mean == mean else 0)

        rows = []
        for name in sorted(names, key=order):
            c = cells.get((author, name, by), {})
            rows.append({"row": name, "reference": name == "reference", "rank": c.get("rank"),
                         "tied_with": c.get("tied_with", ""),
                         "cells": [_cell(m, cells.get((author, name, m.name))) for m in shown]})
        boards.append({"author": author, "metrics": [(m.name, m.label, m.higher_is_better) for m in shown],
                       "rows": rows})
    return boards


def _cell(m, c) -> dict:
    if c is None:
        return {"text": "—", "rank": None, "tied_with": ""}
    return {"text": fmt_summary(m, c), "rank": c.get("rank"), "tied_with": c.get("tied_with", "")}


def compare_tables(result, by: str) -> list[Table]:
    out = []
    terse = list(dict.fromkeys([by, "is_target", "detect_auc"]))  # the rest is in compare.html and .csv
    for board in leaderboards(result, by, terse):
        table = Table(title=f"{board['author']}: ranked by {REGISTRY[by].label} (ties: not separable, q ≥ 0.05)")
        table.add_column("rank", justify="right")
        table.add_column("row")
        for _, label, up in board["metrics"]:
            table.add_column(label + {True: " ↑", False: " ↓"}.get(up, ""), justify="right")
        table.add_column("tied with")
        for r in board["rows"]:
            rank = "" if r["reference"] else (f"{r['rank']}=" if r["tied_with"] else str(r["rank"] or ""))
            table.add_row(rank, f"[green]{r['row']}[/]" if r["reference"] else r["row"],
                          *[c["text"] for c in r["cells"]], r["tied_with"])
        out.append(table)
    return out


def write_compare_html(result, by: str) -> Path:
    from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

    from poetbench.io import atomic_write_text

    env = Environment(loader=PackageLoader("poetbench.report", "templates"), undefined=ChainableUndefined,
                      autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True))
    html = env.get_template("compare.html.j2").render(
        info=result.info, boards=leaderboards(result, by), by=REGISTRY[by].label,
        tests=[t for t in result.tests if t.get("q_value") is not None])
    path = result.out_dir / "compare.html"
    atomic_write_text(path, html)
    return path
