"""End-to-end time of `make demo`'s commands from a cold cache on this machine (target: < 10 min).

    .venv/bin/python bench/demo.py

Runs corpus import, corpus stats, train and eval exactly as the Makefile does, but with a fresh
cache, corpus, adapter and report folder (so nothing is reused), prints a table and updates
bench/RESULTS.md and bench/results.json (demo_s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_json, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "POETBENCH_CACHE": str(tmp / "cache"), "POETBENCH_CLASSIFIER_DIR": str(tmp / "clf")}
        common = ["--preset", "tiny", "--corpus-dir", str(tmp / "normalized")]
        steps = [
            ("corpus import", ["corpus", "import", *common]),
            ("corpus stats", ["corpus", "stats", *common]),
            ("train (tiny base + 3 adapters)", ["train", *common, "--output-dir", str(tmp / "adapters")]),
            ("eval (3 authors x 20 themes x 2 samples, classifier, report)",
             ["eval", *common, "--adapters", str(tmp / "adapters"), "--models", "base,lora", "--samples", "2",
              "--themes", "20", "--output-dir", str(tmp / "report"), "--quiet"]),
        ]
        rows, total = [], 0.0
        for name, args in steps:
            t0 = time.time()
            subprocess.run([sys.executable, "-m", "poetbench", *args], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            took = time.time() - t0
            total += took
            rows.append([name, f"{took:.0f} s"])
    rows.append(["whole demo (cold cache)", f"{total:.0f} s ({total / 60:.1f} min; target < 10 min)"])
    md = markdown_table(["step", "time"], rows)
    print(md)
    update_section("demo", "## `make demo` from a cold cache (CPU)\n\n" + md)
    update_json({"demo_s": round(total)})


if __name__ == "__main__":
    main()
