"""Rich renderables built from plain data. Functions return tables (a scan: its table and a summary line);
the CLI prints them."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text


STATUS_STYLE = {"present": "[green]present[/]", "imported": "[green]imported[/]", "missing": "[red]missing[/]"}


def authors_table(statuses) -> Table:
    """``corpus.build.author_statuses`` as a table."""
    table = Table(title="Declared authors")
    for col in ("id", "name", "texts", "from"):
        table.add_column(col)
    for a, status, where in statuses:
        table.add_row(a.id, a.name, STATUS_STYLE[status], where)
    return table


STATS_COLUMNS = [
    ("author", "Author"), ("poems", "Poems"), ("lines", "Lines"), ("words", "Words"), ("tokens", "Tokens"),
    ("split", "Split"), ("dups", "Dups"), ("dropped", "Dropped"),
]


def stats_table(rows: list[dict], tokenizer_name: str | None = None) -> Table:
    title = "Corpus statistics" + (f" (tokens: {tokenizer_name})" if tokenizer_name else "")
    table = Table(title=title, caption="Split: train/val/test poems. Dups: exact/near duplicates removed (near: also a work "
                                       "found inside a longer one). "
                                       "Dropped: too short, not Cyrillic, or a numbered list (not verse).")
    for key, header in STATS_COLUMNS:
        table.add_column(header, justify="left" if key == "author" else "right", no_wrap=True)
    for row in rows:
        row = {**row, "split": f"{row['train']}/{row['val']}/{row['test']}",
               "dups": f"{row['exact_dups']}/{row['near_dups']}"}
        table.add_row(*(str(row[k]) if row.get(k) is not None else "—" for k, _ in STATS_COLUMNS))
    return table


def training_table(rows: list[dict], headers: dict[str, str], run: str) -> Table:
    """The seed lab's training table (TRL's logged values) plus validation rows; metrics are rows and
    authors columns, so it stays readable in an 80-column terminal."""
    table = Table(title=f"Training — run {run}")
    table.add_column("Metric", no_wrap=True)
    for row in rows:
        table.add_column(row["author"] + (" (skipped)" if row.get("skipped") else ""), justify="right")
    for key, header in [*headers.items(), ("wall_time_s", "Time (s)")]:
        digits = 1 if key == "wall_time_s" else 4
        table.add_row(header, *(_metric(row.get(key), digits) for row in rows))
    return table


def _metric(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}"
    return str(int(value))


def scan_panel(scan) -> Group:
    """A scanned poem: each line with stress marks, its meter and rhyme letter, then a summary line
    (``scan_summary``; a line of its own, which a caption would wrap to the table's width)."""
    table = Table(title=f"{scan.meter_label} · regularity {scan.regularity:.0%} · rhyme {scan.rhyme_scheme or '—'}")
    table.add_column("Line")
    table.add_column("Syl", justify="right")
    table.add_column("Meter")
    table.add_column("Rhyme", justify="center")
    verse = [i for i, line in enumerate(scan.lines) if line.text.strip()]
    for line in scan.lines[verse[0]:verse[-1] + 1] if verse else []:
        if not line.text.strip():  # a stanza break (a text's leading and trailing blank lines are none)
            table.add_row("", "", "", "")
            continue
        table.add_row(line.accented, str(line.syllables), line.meter, line.rhyme)
    return Group(table, Text(scan_summary(scan), style="dim"))


def scan_summary(scan) -> str:
    """A scanned poem's clausulas, stanza sizes and rhymed lines in words (``clausulas: feminine 2,
    masculine 2 · stanzas: 4+4 · rhymed lines 100% (exact 50%)``)."""
    clausulas = ", ".join(f"{kind} {n}" for kind, n in sorted(scan.clausulas.items(), key=lambda kv: -kv[1]))
    stanzas = "+".join(map(str, scan.stanza_sizes))
    return (f"clausulas: {clausulas or '—'} · stanzas: {stanzas or '—'} · rhymed lines {scan.rhyme_rate:.0%} "
            f"(exact {scan.exact_rhyme_share:.0%})")


def attribution_table(row: dict) -> Table:
    """One poem's attribution (``classifier predict FILE``): each class's probability, most probable first."""
    table = Table(title=f"reads as {row['author']}")
    table.add_column("Author")
    table.add_column("P", justify="right")
    for author, p in sorted(row["proba"].items(), key=lambda kv: -kv[1]):
        table.add_row(author, f"{p:.3f}")
    return table


def classifier_tables(report: dict, title: str = "Style classifier, held-out test split") -> list[Table]:
    """Summary, per-author precision/recall and the confusion matrix of a classifier evaluation."""
    summary = Table(title=title)
    for col in ("poems", "accuracy", "macro-F1", "pools of 10: accuracy", "pools: macro-F1"):
        summary.add_column(col, justify="right")
    pooled = report.get("pooled", {})
    summary.add_row(str(report["poems"]), f"{report['accuracy']:.3f}", f"{report['macro_f1']:.3f}",
                    _metric(pooled.get("accuracy"), 3), _metric(pooled.get("macro_f1"), 3))
    per = Table(title="Per author")
    for col in ("author", "precision", "recall", "F1", "poems"):
        per.add_column(col, justify="left" if col == "author" else "right")
    for author, m in report["per_author"].items():
        per.add_row(author, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    labels = report["confusion"]["labels"]
    conf = Table(title="Confusion (rows: true author, columns: predicted)")
    conf.add_column("")
    for label in labels:
        conf.add_column(label[:9], justify="right")
    for label, row in zip(labels, report["confusion"]["matrix"]):
        conf.add_row(label, *(f"[bold]{v}[/]" if i == j else str(v) for j, v in enumerate(row)
                             for i in [labels.index(label)]))
    return [summary, per, conf]


def _cells(summary: list[dict]) -> tuple[dict, list[tuple[str, str]]]:
    """Summary rows by (model, author, metric), and the model x author pairs (base first per author)."""
    cells = {(r["model"], r["author"], r["metric"]): r for r in summary}
    pairs = sorted({(r["model"], r["author"]) for r in summary}, key=lambda p: (p[1], p[0] != "base", p[0]))
    return cells, pairs


def eval_summary_table(summary: list[dict], lm: list[dict] | None = None) -> Table:
    """One row per model x author: the registry's headline metrics, means with 95% CIs; the best
    value of each column (by the metric's direction) for each author in bold."""
    from poetbench.metrics.registry import fmt_summary, headline

    cells, pairs = _cells(summary)
    table = Table(title="poetbench eval: summary (mean [95% CI])",
                  caption="reference: the author's own held-out poems, scored the same way (bold: best model)")
    table.add_column("model")
    table.add_column("author")
    for m in headline():
        table.add_column(m.label + {True: " ↑", False: " ↓"}.get(m.higher_is_better, ""), justify="right")
    best = {(a, m.name): m.better([cells[(x, a2, m.name)]["mean"] for x, a2 in pairs
                                   if a2 == a and x != "reference" and (x, a2, m.name) in cells])
            for _, a in pairs for m in headline()}  # the real poems are the target, not a competitor
    for model, author in pairs:
        row = [f"[cyan]{model}[/]" if model == "reference" else model, author]
        for m in headline():
            c = cells.get((model, author, m.name))
            text = fmt_summary(m, c)
            row.append(f"[bold]{text}[/]" if c is not None and c["mean"] == best[(author, m.name)] else text)
        table.add_row(*row)
    return table


def all_metrics_table(summary: list[dict]) -> Table:
    """Every registered metric (rows) for every model x author (columns)."""
    from poetbench.metrics.registry import METRICS, fmt

    cells, pairs = _cells(summary)
    table = Table(title="All metrics (mean; ↑ higher is better, ↓ lower is better)")
    table.add_column("metric", no_wrap=True)
    for model, author in pairs:
        table.add_column(f"{model}\n{author}", justify="right")
    for m in METRICS:
        values = [cells.get((model, author, m.name)) for model, author in pairs]
        if not any(values):
            continue
        arrow = {True: " ↑", False: " ↓"}.get(m.higher_is_better, "")
        table.add_row(m.label + arrow, *(fmt(m, c["mean"]) if c else "—" for c in values))
    return table


def comparison_label(c: dict) -> str:
    """``lora:pushkin``; a control: ``base:anon − base (pushkin)``, ``lora:pushkin@lermontov − lora:pushkin``."""
    if "against" not in c:
        return c["model"]
    return f"{c['model']} − {c['against']}" + (f" ({c['author']})" if c["against"] == "base" else "")


def comparison_table(comparisons: list[dict]) -> Table:
    """Every adapter minus the base for every poem metric; significant differences (the one rule of
    ``eval.stats.is_significant``) in bold, green when better by the metric's direction."""
    from poetbench.eval.stats import disagrees, is_significant
    from poetbench.metrics.registry import REGISTRY

    table = Table(title="Adapter minus base on the same prompts and seeds (paired; a control row minus the row it varies)",
                  caption="bold: q < 0.05 (Benjamini–Hochberg over every adapter x metric test of the run); "
                          "†: the bootstrap CI and the test disagree, and the highlight follows the test")
    for col in ("model", "metric", "difference [95% CI]", "effect size", "p (Wilcoxon)", "q (BH)"):
        table.add_column(col, justify="left" if col in ("model", "metric") else "right")
    for c in comparisons:
        m = REGISTRY[c["metric"]]
        style = ""
        if is_significant(c):
            good = m.higher_is_better is not None and (c["diff"] > 0) == m.higher_is_better
            style = "[bold green]" if good else "[bold red]" if m.higher_is_better is not None else "[bold]"
        mark = " †" if disagrees(c) else ""
        table.add_row(comparison_label(c), m.label,
                      f"{style}{c['diff']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]{mark}",
                      f"{c['effect_size']:+.2f}", f"{c['p_value']:.3g}",
                      f"{c['q_value']:.3g}" if c.get("q_value") is not None else "—")
    return table


def eval_tables(summary: list[dict], comparisons: list[dict], lm: list[dict]) -> list[Table]:
    """What ``poetbench eval`` prints: the headline summary, every metric, the paired comparisons
    and the held-out cross matrix."""
    tables = [eval_summary_table(summary, lm), all_metrics_table(summary)]
    if comparisons:
        tables.append(comparison_table(comparisons))
    if lm:
        tables.append(lm_matrix_table(lm))
    return tables


def lm_matrix_table(lm: list[dict], metric: str = "perplexity") -> Table:
    """Held-out cross matrix: rows are models, columns are the authors whose test poems are scored."""
    authors = list(dict.fromkeys(r["author"] for r in lm))
    models = list(dict.fromkeys(r["model"] for r in lm))
    table = Table(title=f"Held-out {metric} (rows: model, columns: author's test poems)")
    table.add_column("model")
    for a in authors:
        table.add_column(a, justify="right")
    from poetbench.metrics.registry import get

    values = {(r["model"], r["author"]): r[metric] for r in lm}
    col_best = {a: get(f"heldout_{metric}").better([values[(x, a)] for x in models if (x, a) in values])
                for a in authors}
    for m in models:
        table.add_row(m, *(("[bold]" if values.get((m, a)) == col_best[a] else "") + f"{values[(m, a)]:.3f}"
                           if (m, a) in values else "—" for a in authors))
    return table
