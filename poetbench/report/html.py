"""One self-contained HTML report of an eval run: inline CSS and SVG (matplotlib), no network.

Rendering only: ``build_context`` turns the run's files into plain data, the jinja2 template (with
autoescape, so poems and corpus text are always escaped) lays it out.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from poetbench.errors import ReportError
from poetbench.io import atomic_write_text, iter_jsonl, read_json_object

SCORE_FIELDS = ("key", "model", "author", "theme", "sample")


def _rows(path: Path, fields: tuple[str, ...]) -> list[dict]:
    """A run's JSONL file, every row with ``fields`` (a row without one is an error naming it)."""
    rows = []
    for line, row in iter_jsonl(path, ReportError):
        missing = [f for f in fields if f not in row]
        if missing:
            raise ReportError("row without this field (was the file written by `poetbench eval`?)", path, line,
                              missing[0])
        rows.append(row)
    return rows

HEADLINE = [("p_target", "P(author)"), ("is_target", "reads as author"), ("regularity", "meter regularity"),
            ("rhyme_rate", "rhymed lines"), ("exact_rhyme_share", "exact rhymes"), ("four_quatrains", "4 quatrains"),
            ("copied_line_share", "copied lines")]
MEMO_THRESHOLD = 8  # words in a row shared with a training poem


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})  # reproducible bytes
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9})
    return plt


def heatmap(matrix: list[list[float]], rows: list[str], cols: list[str], title: str, fmt: str = "{:.1f}",
            cmap: str = "viridis_r") -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(cols), 0.9 + 0.45 * len(rows)))
    im = ax.imshow(matrix, cmap=cmap, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            ax.text(j, i, fmt.format(v), ha="center", va="center", color="white" if im.norm(v) > 0.5 else "black")
    ax.set_title(title)
    return _svg(fig)


def bars(groups: dict[str, dict[str, float]], title: str, ylabel: str) -> str:
    """Grouped bars: ``groups[series][category] = value``."""
    plt = _plt()
    cats = sorted({c for g in groups.values() for c in g})
    fig, ax = plt.subplots(figsize=(min(9.0, max(4.0, 0.3 * len(cats) * max(1, len(groups)) + 1.5)), 3.2))
    width = 0.8 / max(1, len(groups))
    for k, (name, values) in enumerate(groups.items()):
        ax.bar([i + k * width for i in range(len(cats))], [values.get(c, 0.0) for c in cats], width, label=name)
    ax.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(cats))], cats, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    return _svg(fig)


def _top_categories(series: dict[str, dict[str, float]], k: int) -> dict[str, dict[str, float]]:
    """Keep the ``k`` categories with the largest total share; fold the rest into "other"."""
    totals = Counter()
    for values in series.values():
        totals.update(values)
    keep = {c for c, _ in totals.most_common(k)}
    out = {}
    for name, values in series.items():
        folded = {c: v for c, v in values.items() if c in keep}
        rest = sum(v for c, v in values.items() if c not in keep)
        if rest:
            folded["other"] = rest
        out[name] = folded
    return out


def _share(counter: Counter) -> dict[str, float]:
    total = sum(counter.values()) or 1
    return {k: v / total for k, v in counter.items()}


def build_context(run_dir: Path) -> dict:
    from poetbench.prosody.meter import meter_label
    from poetbench.prosody.scan import scan_poem

    run_dir = Path(run_dir)
    needed = ["run.json", "summary.json", "scores.jsonl", "generations.jsonl"]
    missing = [n for n in needed if not (run_dir / n).exists()]
    if missing:
        raise ReportError(f"{run_dir}: not an eval run with generations (missing {', '.join(missing)}); "
                          "run `poetbench eval` first")
    run = read_json_object(run_dir / "run.json", "run file", ReportError)
    summary = read_json_object(run_dir / "summary.json", "summary", ReportError)
    scores = _rows(run_dir / "scores.jsonl", SCORE_FIELDS)
    gens = {r["key"]: r for r in _rows(run_dir / "generations.jsonl", ("key", "text"))}
    if not scores:
        raise ReportError(f"{run_dir}: the run has no generated poems to report on")
    lm = [r for _, r in iter_jsonl(run_dir / "lm.jsonl")] if (run_dir / "lm.jsonl").exists() else []

    cells = {(r["model"], r["author"], r["metric"]): r for r in summary["summary"]}
    pairs = sorted({(s["model"], s["author"]) for s in scores}, key=lambda p: (p[1], p[0] != "base", p[0]))
    headline_rows = []
    for model, author in pairs:
        row = []
        for metric, _ in HEADLINE:
            c = cells.get((model, author, metric))
            row.append("—" if c is None else f"{c['mean']:.2f} [{c['ci_low']:.2f}, {c['ci_high']:.2f}]")
        headline_rows.append({"model": model, "author": author, "cells": row})
    comparisons = [dict(c, significant=c["p_value"] == c["p_value"] and c["p_value"] < 0.05)
                   for c in summary["comparisons"] if c["metric"] in dict(HEADLINE)]

    heldout_charts = []
    if lm:
        models = list(dict.fromkeys(r["model"] for r in lm))
        authors = list(dict.fromkeys(r["author"] for r in lm))
        value = {(r["model"], r["author"]): r for r in lm}
        for metric, fmt, cmap in (("perplexity", "{:.1f}", "viridis_r"), ("entropy", "{:.2f}", "viridis_r"),
                                  ("mean_token_accuracy", "{:.3f}", "viridis")):
            matrix = [[value[(m, a)][metric] if (m, a) in value else float("nan") for a in authors] for m in models]
            heldout_charts.append(heatmap(matrix, models, authors, f"held-out {metric} (rows: model)", fmt, cmap))

    classifier, confusion_svg = None, ""
    cpath = Path(run.get("classifier") or "") / "eval.json"
    if run.get("classifier") and cpath.exists():
        classifier = json.loads(cpath.read_text(encoding="utf-8"))
        conf = classifier["confusion"]
        confusion_svg = heatmap(conf["matrix"], conf["labels"], conf["labels"],
                                "classifier confusion, test split (rows: true)", "{:.0f}", "Blues")
    reads_as = [{"model": m, "author": a,
                 "is_target": f"{cells[(m, a, 'is_target')]['mean']:.0%}" if (m, a, "is_target") in cells else "—",
                 "p_target": f"{cells[(m, a, 'p_target')]['mean']:.2f}" if (m, a, "p_target") in cells else "—"}
                for m, a in pairs]

    prosody_charts = []
    for author in dict.fromkeys(a for _, a in pairs):
        series = {m: _share(Counter(meter_label(s["meter"], s["feet"]) for s in scores
                                    if s["model"] == m and s["author"] == author))
                  for m, a in pairs if a == author}
        real_meters = summary.get("real_author", {}).get("meters", {}).get(author)
        if real_meters:
            series[f"real {author}"] = _share(Counter(real_meters))
        series = _top_categories(series, 8)
        real = cells.get(("base", author, "js_meter"))
        title = f"meters of generated poems, {author}" + (f" (JS to the real author, base: {real['mean']:.2f})" if real else "")
        prosody_charts.append(bars(series, title, "share of poems"))
    per_model = {m: {metric: cells[(m, a, metric)]["mean"] for metric in ("regularity", "rhyme_rate", "four_quatrains")
                     if (m, a, metric) in cells} for m, a in pairs}
    prosody_charts.append(bars({f"{m}": v for m, v in per_model.items()}, "regularity, rhyme rate, 4-quatrain form", "mean"))

    memorised = sorted((s for s in scores if s["longest_copied_run"] >= MEMO_THRESHOLD or s["copied_line_share"] > 0),
                       key=lambda s: -s["longest_copied_run"])[:50]

    gallery = []
    themes = list(dict.fromkeys(s["theme"] for s in scores))
    for author in dict.fromkeys(a for _, a in pairs):
        for theme in themes:
            poems = []
            for s in scores:
                if s["author"] != author or s["theme"] != theme or s["sample"] != 0:
                    continue
                scan = scan_poem(gens[s["key"]]["text"])
                letters = {c: i for i, c in enumerate(dict.fromkeys(ln.rhyme for ln in scan.lines if ln.rhyme not in ("", "-")))}
                lines = [{"text": ln.text, "accented": ln.accented, "meter": ln.meter, "rhyme": ln.rhyme,
                          "css": f"r{letters[ln.rhyme] % 6}" if ln.rhyme in letters else "rnone"} for ln in scan.lines]
                poems.append({"model": s["model"], "p_target": s["p_target"], "regularity": s["regularity"],
                              "rhyme_scheme": s["rhyme_scheme"], "meter_label": meter_label(s["meter"], s["feet"]),
                              "lines": lines})
            if poems:
                poems.sort(key=lambda p: (p["model"] != "base", p["model"]))
                gallery.append({"theme": theme, "author": author, "poems": poems})

    training = None
    tcsv = run_dir / "training.csv"
    if tcsv.exists():
        rows = list(csv.reader(io.StringIO(tcsv.read_text(encoding="utf-8"))))
        training = {"header": rows[0], "rows": [[_fmt_cell(c) for c in r] for r in rows[1:]]}

    return {
        "run_name": run_dir.name, "run": run, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "headline": HEADLINE, "headline_rows": headline_rows, "comparisons": comparisons,
        "heldout_charts": heldout_charts, "classifier": classifier, "confusion_svg": confusion_svg,
        "reads_as": reads_as, "prosody_charts": prosody_charts, "memorised": memorised,
        "memo_threshold": MEMO_THRESHOLD, "gallery": gallery, "training": training,
    }


def _fmt_cell(c: str) -> str:
    try:
        v = float(c)
    except ValueError:
        return c
    return f"{v:.4f}" if not v.is_integer() else str(int(v))


def render(context: dict) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("poetbench.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True))
    return env.get_template("report.html.j2").render(**context)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Build ``<run_dir>/report.html`` (or ``out``) atomically."""
    run_dir = Path(run_dir)
    html = render(build_context(run_dir))
    path = Path(out) if out else run_dir / "report.html"
    atomic_write_text(path, html)
    return path
