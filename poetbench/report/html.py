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
from poetbench.report.terminal import comparison_label
from poetbench.io import atomic_write_text, read_json_object, read_text

from poetbench.eval.runfiles import COMPARISON_FIELDS, LM_FIELDS, SCORE_FIELDS, SUMMARY_FIELDS, check_records, read_rows

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
    """The report's data, read from the run's files only (nothing is recomputed): every metric of
    the registry from summary.json, the gallery's stresses, meters and rhyme letters from
    scores.jsonl, the classifier's evaluation and the training table from what run.json records."""
    from poetbench.eval.stats import disagrees, is_significant
    from poetbench.metrics.registry import METRICS, REGISTRY, fmt, fmt_summary, headline
    from poetbench.prosody.meter import meter_label

    from poetbench.eval.runfiles import read_run

    files = read_run(Path(run_dir))
    run_dir = Path(run_dir)
    run, summary, scores, lm = _with_defaults(files["run"]), files["summary"], files["scores"], files["lm"]

    cells = {(r["model"], r["author"], r["metric"]): r for r in summary["summary"]}
    pairs = sorted({(s["model"], s["author"]) for s in scores}, key=lambda p: (p[1], p[0] != "base", p[0]))

    def cell(model, author, metric) -> str:
        return fmt_summary(metric, cells.get((model, author, metric.name)))

    shown = headline()
    headline_rows = [{"model": m, "author": a, "cells": [cell(m, a, metric) for metric in shown]} for m, a in pairs]
    all_rows = [{"label": m.label, "description": m.description, "name": m.name, "level": m.level,
                 "direction": {True: "↑", False: "↓"}.get(m.higher_is_better, ""),
                 "cells": [fmt(m, cells[(x, a, m.name)]["mean"]) if (x, a, m.name) in cells else "—" for x, a in pairs]}
                for m in METRICS if any((x, a, m.name) in cells for x, a in pairs)]
    comparisons = []
    for c in summary["comparisons"]:
        m = REGISTRY.get(c.get("metric"))
        if m is None:
            continue
        good = m.higher_is_better is not None and (c["diff"] > 0) == m.higher_is_better
        comparisons.append(dict(c, label=m.label, row=comparison_label(c), significant=is_significant(c), better=good,
                                disagrees=disagrees(c)))

    heldout_charts = []
    if lm:
        models = list(dict.fromkeys(r["model"] for r in lm))
        authors = list(dict.fromkeys(r["author"] for r in lm))
        value = {(r["model"], r["author"]): r for r in lm}
        for metric, fmt_, cmap in (("perplexity", "{:.1f}", "viridis_r"), ("entropy", "{:.2f}", "viridis_r"),
                                   ("mean_token_accuracy", "{:.3f}", "viridis")):
            matrix = [[value[(m, a)][metric] if (m, a) in value else float("nan") for a in authors] for m in models]
            heldout_charts.append(heatmap(matrix, models, authors, f"held-out {metric} (rows: model)", fmt_, cmap))

    recorded = run.get("classifier") if isinstance(run.get("classifier"), dict) else {}
    classifier = recorded.get("evaluation")
    if not (isinstance(classifier, dict) and all(isinstance(classifier.get(k), (int, float))
                                                 for k in ("accuracy", "macro_f1"))):
        classifier = None  # not recorded (or not as eval writes it): the section says less
    confusion_svg = ""
    conf = classifier.get("confusion") if classifier else None
    if isinstance(conf, dict) and isinstance(conf.get("matrix"), list) and isinstance(conf.get("labels"), list):
        confusion_svg = heatmap(conf["matrix"], conf["labels"], conf["labels"],
                                "classifier confusion, test split (rows: true)", "{:.0f}", "Blues")
    judge = judge_summary(recorded)
    reads_as = [{"model": m, "author": a, "is_target": cell(m, a, REGISTRY["is_target"]).split(" [")[0],
                 "p_target": cell(m, a, REGISTRY["p_target"]).split(" [")[0]} for m, a in pairs]

    prosody_charts = []
    for author in dict.fromkeys(a for _, a in pairs):
        series = {m: _share(Counter(meter_label(s["meter"], s["feet"]) for s in scores
                                    if s["model"] == m and s["author"] == author))
                  for m, a in pairs if a == author and m != "reference"}
        real_meters = summary.get("real_author", {}).get("meters", {}).get(author)
        if real_meters:
            series[f"real {author}"] = _share(Counter(real_meters))
        series = _top_categories(series, 8)
        real = cells.get(("base", author, "js_meter"))
        title = f"meters of generated poems, {author}" + (f" (JS to the held-out poems, base: {real['mean']:.2f})"
                                                          if real else "")
        prosody_charts.append(bars(series, title, "share of poems"))
    per_model = {m: {metric: cells[(m, a, metric)]["mean"] for metric in ("regularity", "rhyme_rate", "four_quatrains")
                     if (m, a, metric) in cells} for m, a in pairs}
    prosody_charts.append(bars({f"{m}": v for m, v in per_model.items()}, "regularity, rhyme rate, 4-quatrain form", "mean"))

    memorised = sorted((s for s in scores if s.get("longest_copied_run", 0) >= MEMO_THRESHOLD
                        or s.get("copied_line_share", 0) > 0), key=lambda s: -s.get("longest_copied_run", 0))[:50]

    gallery = []
    generated = [s for s in scores if s["model"] != "reference"]
    themes = list(dict.fromkeys(s["theme"] for s in generated))
    for author in dict.fromkeys(a for _, a in pairs):
        real = next((s for s in scores if s["model"] == "reference" and s["author"] == author), None)
        if real is not None:  # one of the author's own held-out poems, to read the others against
            gallery.append({"theme": f"a real poem ({real['theme']}, held out)", "author": author,
                            "poems": [_gallery_poem(real, meter_label)]})
        for theme in themes:
            poems = [_gallery_poem(s, meter_label) for s in generated
                     if s["author"] == author and s["theme"] == theme and s["sample"] == 0]
            if poems:
                poems.sort(key=lambda p: (p["model"] != "base", p["model"]))
                gallery.append({"theme": theme, "author": author, "poems": poems})

    training = None
    tcsv = run_dir / Path(run["training_csv"]).name if isinstance(run.get("training_csv"), str) else None
    if tcsv is not None and tcsv.is_file():
        rows = list(csv.reader(io.StringIO(read_text(tcsv, "training table", ReportError))))
        if rows:
            training = {"header": rows[0], "rows": [[_fmt_cell(c) for c in r] for r in rows[1:]]}

    return {
        "run_name": run_dir.name, "run": run, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "headline": [(m.name, m.label) for m in shown], "headline_rows": headline_rows, "all_rows": all_rows,
        "pairs": pairs, "comparisons": comparisons, "heldout_charts": heldout_charts, "classifier": classifier,
        "classifier_key": recorded.get("key"), "judge": judge, "confusion_svg": confusion_svg, "reads_as": reads_as,
        "prosody_charts": prosody_charts, "memorised": memorised, "memo_threshold": MEMO_THRESHOLD,
        "gallery": gallery, "training": training,
        "human": _human(run_dir, scores),
        "n_seeds": max([r.get("n_seeds") or 1 for r in summary["summary"] if isinstance(r.get("n_seeds"), int)] or [1]),
    }


def _human(run_dir: Path, scores: list[dict]) -> dict | None:
    """The ratings' summary (``poetbench rate``), also written to ``human.json`` beside them."""
    from poetbench.io import atomic_write_json
    from poetbench.rate.service import human_of_run

    human = human_of_run(run_dir, scores)
    if human is not None:
        atomic_write_json(run_dir / "human.json", human)
    return human


def judge_summary(recorded: dict) -> dict:
    """What the report says of the judge a run recorded (each part only when recorded as eval writes it)."""
    def strings(value):
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else []

    corpora = recorded.get("corpora") if isinstance(recorded.get("corpora"), dict) else {}
    features = recorded.get("features") if isinstance(recorded.get("features"), dict) else {}
    other = recorded.get("other") if isinstance(recorded.get("other"), dict) else None
    return {"classes": strings(recorded.get("classes") or recorded.get("authors")),
            "corpora": {str(a): str(h)[:12] for a, h in corpora.items()},
            "features_version": features.get("version"), "other": other}


RUN_DEFAULTS = {"base": {}, "models": [], "authors": [], "corpora": {}, "versions": {}, "timings": {}, "options": {}}
OPTION_DEFAULTS = {"themes": [], "sampling": {}}


def _with_defaults(run: dict) -> dict:
    """run.json with an empty value for each field the report shows that it lacks (or holds as
    another type), so a hand-edited or older run file still renders."""
    out = dict(run)
    for key, empty in RUN_DEFAULTS.items():
        if not isinstance(out.get(key), type(empty)):
            out[key] = type(empty)()
    out["options"] = {**OPTION_DEFAULTS, **{k: v for k, v in out["options"].items()
                                            if k not in OPTION_DEFAULTS or isinstance(v, type(OPTION_DEFAULTS[k]))}}
    return out


def _gallery_poem(s: dict, meter_label) -> dict:
    """A scored poem as the gallery shows it: stresses, per-line meter, rhyme letters in colours."""
    lines = s.get("line_scans") or []
    letters = {c: i for i, c in enumerate(dict.fromkeys(ln["rhyme"] for ln in lines if ln["rhyme"] not in ("", "-")))}
    return {"model": s["model"], "p_target": s.get("p_target"), "regularity": s.get("regularity"),
            "rhyme_scheme": s.get("rhyme_scheme"), "meter_label": meter_label(s["meter"], s["feet"]),
            "lines": [dict(ln, css=f"r{letters[ln['rhyme']] % 6}" if ln["rhyme"] in letters else "rnone")
                      for ln in lines]}


def _fmt_cell(c: str) -> str:
    try:
        v = float(c)
    except ValueError:
        return c
    return f"{v:.4f}" if not v.is_integer() else str(int(v))


def render(context: dict) -> str:
    from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

    # a run.json without a field the template shows renders it empty instead of failing
    env = Environment(loader=PackageLoader("poetbench.report", "templates"), undefined=ChainableUndefined,
                      autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True))
    return env.get_template("report.html.j2").render(**context)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Build ``<run_dir>/report.html`` (or ``out``) atomically."""
    from poetbench.eval.rundir import RUN_FILES, check_out_path

    run_dir = Path(run_dir)
    if out is not None:  # never one of the run's own files, nor another run's
        check_out_path(Path(out), inputs=[run_dir / n for n in RUN_FILES if n != "report.html"],
                       own=run_dir / "report.html", suffixes=(".html", ".htm"))
    html = render(build_context(run_dir))
    path = Path(out) if out else run_dir / "report.html"
    atomic_write_text(path, html)
    return path
