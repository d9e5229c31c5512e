"""Generation: which models (``adapters``), the backend interface and its cache (``backend``), and
the backends (``hf``, ``vllm``), chosen by name here."""

from poetbench.errors import GenerateError

from poetbench.generation.adapters import ModelEntry, adapter_manifest, newest_run, parse_models
from poetbench.generation.backend import (
    GENERATIONS, Backend, Completion, Job, job_key, read_done, run_jobs,
)

__all__ = ["GENERATIONS", "Backend", "Completion", "Job", "ModelEntry", "adapter_manifest", "job_key",
           "make_backend", "newest_run", "parse_models", "read_done", "run_jobs"]


def make_backend(name: str, entries: list[ModelEntry], base_path: str, config, tensor_parallel_size: int = 1,
                 merge: bool = True) -> Backend:
    """The backend named ``name`` (``hf`` or ``vllm``), not yet loaded."""
    if name == "hf":
        from poetbench.generation.hf import HFBackend

        return HFBackend(entries, base_path, config, merge=merge)
    if name == "vllm":
        from poetbench.generation.vllm import VLLMBackend

        return VLLMBackend(entries, base_path, config, tensor_parallel_size)
    raise GenerateError(f"unknown backend {name!r}: use hf or vllm")
