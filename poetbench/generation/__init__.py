"""Generation: which models (``adapters``), the backend interface and its cache (``backend``), and
the backends (``hf``, ``vllm``)."""

from poetbench.generation.adapters import ModelEntry, adapter_manifest, newest_run, parse_models
from poetbench.generation.backend import (
    GENERATIONS, Backend, Completion, Job, job_key, make_backend, read_done, run_jobs,
)

__all__ = ["GENERATIONS", "Backend", "Completion", "Job", "ModelEntry", "adapter_manifest", "job_key",
           "make_backend", "newest_run", "parse_models", "read_done", "run_jobs"]
