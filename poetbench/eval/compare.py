"""``poetbench compare RUN_DIR...``: one leaderboard per author over every model row of several runs
(eval runs and ``poetbench score`` folders).

- One judge: when the runs were scored by different style classifiers, the runs whose judge is not
  the chosen one (``--judge KEY``, else the first run's) are scored again with it, into
  ``<out>/rescored/<run>/`` (the runs themselves are not touched), and the result says so.
- One common part: poem metrics are recomputed (mean, 95% BCa CI) on the themes and sample indices
  every run has; group and held-out metrics are the runs' own (their whole run), marked so.
- Tests between every two rows of an author, for each headline poem metric: paired (Wilcoxon on the
  same theme and sample) when the two rows share prompts and seeds (same templates, sampling and
  seed), else unpaired (Mann–Whitney); Benjamini–Hochberg q-values over all of them.
- Ranks that tie: a row's rank on a metric is 1 + the number of rows significantly better than it
  (q < 0.05), so rows that cannot be separated share a rank, and ``tied_with`` names them.

Outputs: ``compare.csv`` (one row per author x row x metric), ``compare.json`` (runs, judge, what was
re-scored, the common part, notes, every test) and ``compare.html`` (self-contained).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from poetbench.config import RunConfig
from poetbench.errors import ReportError
from poetbench.eval.runfiles import read_run
from poetbench.eval.summary import REFERENCE
from poetbench.workspace import Workspace

CSV_FIELDS = ["author", "row", "run", "model", "metric", "level", "mean", "ci_low", "ci_high", "n", "n_seeds", "rank",
              "tied_with"]


@dataclass
class RunFiles:
    name: str
    path: Path
    run: dict
    summary: list[dict]
    scores: list[dict]

    @property
    def judge(self) -> str | None:
        return (self.run.get("classifier") or {}).get("key") if isinstance(self.run.get("classifier"), dict) else None

    @property
    def identity(self) -> dict:
        return self.run.get("identity") if isinstance(self.run.get("identity"), dict) else {}


@dataclass
class Comparison:
    out_dir: Path
    authors: list[str]
    rows: list[dict]  # the CSV rows
    tests: list[dict]
    info: dict = field(default_factory=dict)


def load(run_dir: Path, name: str) -> RunFiles:
    files = read_run(run_dir)
    return RunFiles(name, Path(run_dir), files["run"], files["summary"]["summary"], files["scores"])


def run_names(dirs: list[Path]) -> list[str]:
    """Each run's folder name; the parent too where two names collide."""
    names = [d.name for d in dirs]
    return [f"{d.parent.name}/{d.name}" if names.count(d.name) > 1 else d.name for d in dirs]


def default_out(ws: Workspace, dirs: list[Path]) -> Path:
    digest = hashlib.sha256("\n".join(sorted(str(d.resolve()) for d in dirs)).encode()).hexdigest()[:8]
    return ws.reports / f"compare-{digest}"


def pairable(a: RunFiles, b: RunFiles) -> bool:
    """Two runs' rows share prompts and seeds: the same templates, sampling and seed."""
    keys = ("templates", "sampling", "seed")
    return all(k in a.identity and a.identity.get(k) == b.identity.get(k) for k in keys)


def compare_runs(config: RunConfig, run_dirs: list[Path], out_dir: Path | None = None, judge: str | None = None,
                 log: Callable[[str], None] = print, ws: Workspace | None = None) -> Comparison:
    from poetbench.eval.rescore import rescore_run
    from poetbench.metrics import registry

    ws = ws or Workspace.from_env()
    run_dirs = [Path(d) for d in run_dirs]
    if len(run_dirs) < 1:
        raise ReportError("give at least one run folder")
    if len({d.resolve() for d in run_dirs}) < len(run_dirs):
        raise ReportError("a run folder is given twice")
    out_dir = out_dir or default_out(ws, run_dirs)
    runs = [load(d, n) for d, n in zip(run_dirs, run_names(run_dirs))]
    notes, rescored = [], []
    target = judge or runs[0].judge
    if judge is not None or len({r.judge for r in runs}) > 1:
        for i, r in enumerate(runs):
            if r.judge != target:
                dest = out_dir / "rescored" / r.name.replace("/", "-")
                rescore_run(config, r.path, target, log=log, ws=ws, out_dir=dest)
                runs[i] = load(dest, r.name)
                rescored.append(r.name)
        if rescored:
            notes.append(f"the runs were scored by different judges: {', '.join(rescored)} scored again with "
                         f"{target} (into {out_dir / 'rescored'}) so that every row has one judge")
            log(notes[-1])
    # the common part: the themes and sample indices every run has
    themes = [set(s["theme"] for s in r.scores if s["model"] != REFERENCE) for r in runs]
    samples = [1 + max((s["sample"] for s in r.scores if s["model"] != REFERENCE), default=-1) for r in runs]
    common = set.intersection(*themes) if themes else set()
    n_samples = min(samples) if samples else 0
    if any(t != common for t in themes) or len(set(samples)) > 1:
        notes.append(f"the runs differ in themes or samples: compared on their common part ({len(common)} themes, "
                     f"{n_samples} samples each; the runs have {', '.join(str(len(t)) for t in themes)} themes)")
    if len(runs) > 1 and not all(pairable(runs[0], r) for r in runs[1:]):
        notes.append("the runs differ in prompts, sampling or seed: rows of different runs are compared unpaired "
                     "(Mann–Whitney)")
    # the rows: every model of every run, and the reference (the held-out poems) once
    rows: dict[tuple[str, str], dict] = {}  # (author, row) -> {"run", "model", "scores", "summary"}
    for r in runs:
        for s in r.scores:
            if s["model"] == REFERENCE:
                row, poem_ok = REFERENCE, True
            else:
                row, poem_ok = f"{r.name}/{s['model']}" if len(runs) > 1 else s["model"], \
                    s["theme"] in common and s["sample"] < n_samples
            slot = rows.setdefault((s["author"], row), {"run": r, "model": s["model"], "scores": []})
            if slot["run"] is r and poem_ok:
                slot["scores"].append(s)
    authors = sorted({a for a, _ in rows})
    shown = [m for m in registry.headline() if m.level == "poem"]
    csv_rows, tests = [], []
    for author in authors:
        names = sorted(n for a, n in rows if a == author)
        for name in names:
            slot = rows[(author, name)]
            for m in registry.metrics():
                csv_rows.append(_cell(author, name, slot, m, config.seed))
        competitors = [n for n in names if n != REFERENCE]
        for m in shown:
            for x, y in itertools.combinations(competitors, 2):
                tests.append(_test(author, x, rows[(author, x)], y, rows[(author, y)], m, config.seed))
    from poetbench.eval.stats import add_q_values

    add_q_values(tests)
    _rank(csv_rows, tests)
    info = {"format": "poetbench-compare/1", "runs": [{"name": r.name, "path": str(r.path), "judge": r.judge}
                                                      for r in runs],
            "judge": target, "rescored": rescored, "common": {"themes": sorted(common), "samples": n_samples},
            "notes": notes, "paired_rule": "paired when two rows share templates, sampling and seed"}
    return Comparison(out_dir, authors, csv_rows, tests, info)


def _cell(author: str, name: str, slot: dict, m, seed: int) -> dict:
    from poetbench.eval.summary import seed_groups
    from poetbench.eval.stats import two_level_ci

    r = slot["run"]
    base = {"author": author, "row": name, "run": r.name, "model": slot["model"], "metric": m.name, "level": m.level,
            "rank": None, "tied_with": ""}
    if m.level == "poem":
        groups = seed_groups(slot["scores"])  # several training seeds: a two-level CI
        mean, low, high = two_level_ci([[s[m.name] for s in g] for g in groups], seed=seed)
        return base | {"mean": mean, "ci_low": low, "ci_high": high, "n": len(slot["scores"]), "n_seeds": len(groups)}
    found = next((s for s in r.summary if s["model"] == slot["model"] and s["author"] == author
                  and s["metric"] == m.name), None)
    if found is None:
        return base | {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    return base | {"mean": found["mean"], "ci_low": found.get("ci_low"), "ci_high": found.get("ci_high"),
                   "n": found.get("n")}


def _test(author: str, x: str, sx: dict, y: str, sy: dict, m, seed: int) -> dict:
    import numpy as np
    from scipy.stats import mannwhitneyu

    from poetbench.eval.summary import paired_over_seeds

    out = {"author": author, "a": x, "b": y, "metric": m.name}
    if (sx["run"] is sy["run"] or pairable(sx["run"], sy["run"])) and len({s.get("weights") for s in sy["scores"]}) <= 1:
        c = paired_over_seeds(sx["scores"], sy["scores"], m.name, seed)
        if c is not None:
            return out | {"paired": True, **c}
    a = np.array([s[m.name] for s in sx["scores"]], float)
    b = np.array([s[m.name] for s in sy["scores"]], float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return out | {"paired": False, "n": 0, "diff": float("nan"), "ci_low": None, "ci_high": None, "p_value": 1.0}
    p = float(mannwhitneyu(a, b).pvalue) if np.any(a != a[0]) or np.any(b != b[0]) or a[0] != b[0] else 1.0
    return out | {"paired": False, "n": int(len(a) + len(b)), "diff": float(a.mean() - b.mean()), "ci_low": None,
                  "ci_high": None, "p_value": p}


def _rank(csv_rows: list[dict], tests: list[dict]) -> None:
    """Rank = 1 + the rows significantly better (q < 0.05, by the metric's direction); rows with the
    same rank that no test separates are ``tied_with`` each other."""
    from poetbench.eval.stats import is_significant
    from poetbench.metrics.registry import REGISTRY

    by_key = {}
    for t in tests:
        by_key[(t["author"], t["metric"], t["a"], t["b"])] = t
        by_key[(t["author"], t["metric"], t["b"], t["a"])] = t | {"diff": -t["diff"]}
    tested = {(t["author"], t["metric"]) for t in tests}
    cells = [c for c in csv_rows if (c["author"], c["metric"]) in tested and c["row"] != REFERENCE]
    for c in cells:
        m = REGISTRY[c["metric"]]
        if m.higher_is_better is None:
            continue
        others = [o for o in cells if o["author"] == c["author"] and o["metric"] == c["metric"] and o is not c]
        better, ties = 0, []
        for o in others:
            t = by_key.get((c["author"], c["metric"], o["row"], c["row"]))
            if t is None:
                continue
            if is_significant(t) and (t["diff"] > 0) == m.higher_is_better:
                better += 1
            elif not is_significant(t):
                ties.append(o["row"])
        c["rank"] = 1 + better
        c["_ties"] = ties
    for c in cells:
        if "_ties" in c:
            same = {o["row"]: o["rank"] for o in cells if o["author"] == c["author"] and o["metric"] == c["metric"]}
            c["tied_with"] = ", ".join(sorted(r for r in c.pop("_ties") if same.get(r) == c["rank"]))


def write(result: Comparison) -> list[Path]:
    """compare.csv, compare.json (atomic), the HTML beside them is the report's."""
    import csv
    import io

    from poetbench.io import atomic_write_json, atomic_write_text

    result.out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(result.rows)
    atomic_write_text(result.out_dir / "compare.csv", buf.getvalue())
    atomic_write_json(result.out_dir / "compare.json", result.info | {"tests": result.tests, "rows": result.rows})
    return [result.out_dir / "compare.csv", result.out_dir / "compare.json"]
