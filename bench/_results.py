"""Helpers for bench scripts: print a table and replace one marked section of bench/RESULTS.md."""

from __future__ import annotations

import json
import platform
import re
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("RESULTS.md")
RESULTS_JSON = Path(__file__).with_name("results.json")


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def update_section(name: str, body: str) -> None:
    """Replace the text between <!-- name --> and <!-- /name --> (appending the section if new)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    block = f"<!-- {name} -->\n{body.strip()}\n\n_Measured {date.today().isoformat()} on {machine()}._\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def update_json(values: dict) -> None:
    data = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    data.update(values)
    RESULTS_JSON.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


# The one rule every bench/ script chooses by: a candidate replaces what ships when its gain, paired fold
# by fold on the same folds, is positive on average and larger than the sd of those per-fold gains.
CHOICE_RULE = "its mean paired gain per fold is above zero and above the sd of the per-fold gains"
SECOND_DRAW = 1  # the seed of the folds a candidate that passes must pass on too (bench/classifier_confirm.py)


def real_gain(gains) -> bool:
    """``CHOICE_RULE`` for per-fold paired gains (candidate minus shipped, fold by fold)."""
    import numpy as np

    g = np.asarray(gains, dtype=float)
    return bool(g.mean() > 0 and g.mean() > g.std())


def verdict(gains) -> str:
    """Per-fold gains (a second draw of the folds: bench/classifier_confirm.py), their mean and sd, and whether
    they pass ``CHOICE_RULE`` ("confirmed")."""
    import numpy as np

    g = np.asarray(gains)
    return (", ".join(f"{d:+.3f}" for d in g) + f" (mean {g.mean():+.4f}, sd {g.std():.4f}: "
            + ("confirmed" if real_gain(g) else "not confirmed") + ")")


def run_judge_bench(run) -> None:
    """``run()`` of a bench that fits the style judge: from the project root, with joblib's warning of a
    restarted worker silenced for the whole run (a pool may warn of one after a fit has returned)."""
    import os

    from poetbench.style.classifier import quiet_worker_restarts

    os.chdir(ROOT)
    with quiet_worker_restarts():
        run()
