"""Time `poetbench train --preset tiny` on the shared corpora from a cold cache (tiny base included).

    .venv/bin/python bench/train_tiny.py [--authors pushkin,lermontov]

Prints a table and updates the `train-tiny` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import markdown_table, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--authors", default="pushkin,lermontov")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="poetbench-bench-"))
    env = {**__import__("os").environ, "POETBENCH_CACHE": str(work / "cache")}
    t0 = time.time()
    subprocess.run([sys.executable, "-m", "poetbench.cli", "train", "--preset", "tiny", "--authors", args.authors,
                    "--output-dir", str(work / "adapters")], cwd=ROOT, env=env, check=True)
    total = time.time() - t0
    base = next((work / "cache" / "tiny-base").iterdir())
    import json

    base_info = json.loads((base / "poetbench_base.json").read_text())
    rows = list(csv.DictReader(open(work / "adapters" / "training.csv", encoding="utf-8")))
    table = [["tiny base pretraining", f"{base_info['wall_time_s']:.0f}",
              f"loss {base_info['pretrain_loss_first']:.2f} → {base_info['pretrain_loss_last']:.2f}"]]
    for r in rows:
        table.append([f"LoRA {r['author']}", f"{float(r['Wall Time (s)']):.0f}",
                      f"train loss {float(r['Loss']):.3f}, val loss {float(r['Val Loss']):.3f}, "
                      f"val token accuracy {float(r['Val Mean Token Accuracy']):.3f}"])
    table.append([f"whole command ({args.authors})", f"{total:.0f}", "cold cache, includes imports and corpus import"])
    md = markdown_table(["step", "seconds", "result"], table)
    print(md)
    update_section("train-tiny", "## `poetbench train --preset tiny` on the shared corpora (CPU)\n\n" + md)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
