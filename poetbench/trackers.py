"""Experiment trackers: ``--report-to tensorboard|wandb|mlflow|none`` (none by default; each needs
its own package, never required by poetbench).

- ``train``: TRL's / transformers' own integrations log every training step (``report_to``); for
  TensorBoard the events go to ``<run>/tensorboard/<adapter>/`` beside the adapters (the trainer's
  default would put them inside the checkpoints folder, which is removed when training finishes).
- ``eval`` / ``compare``: one tracker run per output folder: every summary figure as a metric
  (``<author>/<model>/<metric>``) and the HTML (and CSV) as artifacts (TensorBoard, which has no
  artifacts: their paths as text). TensorBoard events go to ``<out>/tensorboard/``; MLflow uses
  ``MLFLOW_TRACKING_URI`` (else ``./mlruns``, a local file store); W&B its own settings
  (``WANDB_MODE=offline`` works without a network).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Callable

from poetbench.errors import ConfigError

TRACKERS = ("none", "tensorboard", "wandb", "mlflow")


def require(name: str) -> None:
    if name not in TRACKERS:
        raise ConfigError(f"--report-to {name!r}: choose one of {', '.join(TRACKERS)}")
    if name != "none" and importlib.util.find_spec(name) is None:
        raise ConfigError(f"--report-to {name} needs the {name} package: pip install {name}")


def train_setup(name: str, log_dir: Path) -> tuple[str, list]:
    """(the trainer's ``report_to``, extra callbacks) for one adapter's training."""
    require(name)
    if name == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        return "none", [TensorBoardCallback(SummaryWriter(log_dir=str(log_dir)))]
    return name, []


def metric_name(*parts: str) -> str:
    """A metric name every tracker accepts (MLflow allows letters, digits and ``_-. /``)."""
    return "/".join(re.sub(r"[^A-Za-z0-9_\-. ]", "_", p) for p in parts)


def log_summary(name: str, out_dir: Path, run_name: str, summary: list[dict], files: list[Path],
                log: Callable[[str], None] = print) -> None:
    """One tracker run for an eval or compare folder: ``summary`` rows (model, author, metric, mean)
    as metrics, ``files`` as artifacts."""
    require(name)
    if name == "none":
        return
    metrics = {metric_name(r["author"], r.get("row") or r["model"], r["metric"]): float(r["mean"])
               for r in summary if isinstance(r.get("mean"), (int, float)) and r["mean"] == r["mean"]}
    files = [Path(f) for f in files if Path(f).is_file()]
    if name == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        with SummaryWriter(log_dir=str(out_dir / "tensorboard")) as writer:
            for key, value in sorted(metrics.items()):
                writer.add_scalar(key, value, 0)
            writer.add_text("artifacts", "\n".join(f"- {f.resolve()}" for f in files), 0)
        where = out_dir / "tensorboard"
    elif name == "mlflow":
        import mlflow

        with mlflow.start_run(run_name=run_name):
            mlflow.log_metrics(metrics)
            for f in files:
                mlflow.log_artifact(str(f))
        where = mlflow.get_tracking_uri()
    else:
        import wandb

        run = wandb.init(project="poetbench", name=run_name, dir=str(out_dir), reinit=True)
        run.log(metrics)
        artifact = wandb.Artifact(re.sub(r"[^A-Za-z0-9_.-]", "-", run_name), type="poetbench-report")
        for f in files:
            artifact.add_file(str(f))
        run.log_artifact(artifact)
        run.finish()
        where = "W&B"
    log(f"{name}: {len(metrics)} metrics and {len(files)} artifacts of {run_name} logged ({where})")
