"""Time `poetbench eval` on the tiny preset: 3 authors x 20 themes x 2 samples, on this CPU.

    .venv/bin/python bench/eval_tiny.py

Needs trained tiny adapters (`poetbench train --preset tiny`, i.e. `make demo`). Generates into a
fresh temporary folder (nothing cached), runs the same command again there (everything cached), prints
a table and updates bench/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "poetbench.cli", "eval", "--preset", "tiny", "--models", "base,lora",
                   "--samples", "2", "--themes", "20", "--output-dir", tmp, "--quiet"]
        t0 = time.time()
        subprocess.run(command, cwd=ROOT, check=True)
        wall = time.time() - t0
        run = json.loads((Path(tmp) / "run.json").read_text())
        report_mb = (Path(tmp) / "report.html").stat().st_size / 1e6
        t0 = time.time()
        subprocess.run(command, cwd=ROOT, check=True)  # the same command again: every poem and held-out row cached
        rerun = time.time() - t0
    t = run["timings"]
    md = markdown_table(["measure", "value"], [
        ["authors x themes x samples", f"{len(run['authors'])} x 20 x 2"],
        ["poems generated (base for every author + each adapter for its own)", t["poems"]],
        ["generation", (f"{t['generation_s']} s ({t['poems_per_s']} poems/s, batch {run['options']['batch_size']} "
                        f"({run['options']['batch_size_option']}), ≤{run['options']['sampling']['max_new_tokens']} new tokens)")],
        ["whole command (load, probe, generate, score, held-out matrix, statistics, report)", f"{wall:.0f} s"],
        ["the same command again (every poem and held-out row read back: score, statistics, report)",
         f"{rerun:.0f} s"],
        ["report.html size (target < 5 MB)", f"{report_mb:.2f} MB"],
    ])
    print(md)
    update_section("eval-tiny", "## `poetbench eval --preset tiny` (CPU)\n\n" + md)


if __name__ == "__main__":
    main()
