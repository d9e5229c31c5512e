"""Training: the SFT data and configs (``sft``) and the per-author runner with its manifest (``runner``)."""

from poetbench.train.runner import MANIFEST, TrainResult, run_name, train, training_rows, write_training_csv
from poetbench.train.sft import TABLE_HEADERS, TRAIN_COLUMNS, VAL_COLUMNS, lora_config, sft_records

__all__ = ["MANIFEST", "TABLE_HEADERS", "TRAIN_COLUMNS", "VAL_COLUMNS", "TrainResult", "lora_config", "run_name",
           "sft_records", "train", "training_rows", "write_training_csv"]
