"""Generation behind one interface, with one cache around it (lm-evaluation-harness's ``LM`` and
``CachingLM``).

A backend (``hf``: transformers with peft adapters switched on one base; ``vllm``: one engine with a
``LoRARequest`` per adapter) turns a batch of jobs into completions and checks, in itself, that each
adapter changes its output (the probe). ``run_jobs`` is the cache and resume layer every backend
shares: it reads what ``generations.jsonl`` already holds, asks the backend for the rest in fixed
batches (in a fixed order, per model), and appends each finished batch as rows of one schema, so a
run killed at any point resumes to the same rows with none lost or doubled, and a run can be resumed
with either backend.

Row schema (``generations.jsonl``): ``key`` (hash of base, adapter, prompt, sampling and seed),
``model``, ``author``, ``theme``, ``sample``, ``prompt``, ``text``, ``tokens`` (generated),
``params``, ``seed`` and ``seed_scope`` (``batch``: the seed of the fixed batch the poem was sampled
in; ``request``: the poem's own seed), ``backend``, ``base``, ``adapter_sha256``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from poetbench.config import SamplingParams
from poetbench.errors import GenerateError
from poetbench.generation.adapters import ModelEntry

GENERATIONS = "generations.jsonl"
ROW_FIELDS = ("key", "model", "author", "theme", "sample", "text")


@dataclass
class Job:
    model: str
    author: str
    theme: str
    sample: int
    prompt: str
    key: str = ""
    weights: str = ""  # the entry whose weights generate, when not ``model`` (a control row: base:anon, lora:a@b)

    @property
    def entry(self) -> str:
        return self.weights or self.model


@dataclass
class Completion:
    text: str
    tokens: int
    seed: int


class Backend(ABC):
    """What generates poems. Subclasses load only what they need, when first asked."""

    name: str = ""
    seed_scope: str = "batch"  # "batch": one seed per fixed batch; "request": a seed per job

    def __init__(self, entries: list[ModelEntry]):
        self.entries = {e.name: e for e in entries}

    @abstractmethod
    def probe(self, prompt: str) -> dict[str, float]:
        """How much each adapter changes the next-token distribution of ``prompt`` against the base
        (an adapter that changes nothing is an error): {model name: change}."""

    @abstractmethod
    def generate(self, batch: list[Job], params: SamplingParams, seed: int) -> list[Completion]:
        """Completions of ``batch`` (all jobs of one model), in order."""

    def auto_batch_size(self, jobs: list[Job], params: SamplingParams) -> int:
        """The batch size ``--batch-size auto`` means for this backend and these jobs."""
        return 64

    def close(self) -> None:
        """Free what the backend holds (GPU memory)."""


def job_key(base_id: str, entry: ModelEntry, prompt: str, params: SamplingParams, seed: int, control: str = "") -> str:
    data = {"base": base_id, "adapter": entry.adapter_sha256, "prompt": prompt, "params": params.to_dict(),
            "seed": seed}
    if control:  # a control row's poems are its own samples, even where its prompt is another row's
        data["control"] = control
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def batch_seed(batch: list[Job]) -> int:
    return int(hashlib.sha256("".join(j.key for j in batch).encode()).hexdigest()[:8], 16)


def request_seed(job: Job) -> int:
    return int(job.key[:8], 16)


def read_done(path: Path) -> dict[str, dict]:
    """Rows already generated, by key. Only a torn last line (a kill mid-write) is cut off the file;
    a damaged row before it is an error naming the line (see ``io.read_append_only``)."""
    from poetbench.io import read_append_only

    done = {}
    for row in read_append_only(path, ROW_FIELDS):
        if not isinstance(row["text"], str):
            raise GenerateError("field 'text' must be a string", path, field="text")
        done[row["key"]] = row
    return done


def batches(jobs: list[Job], size: int) -> list[list[Job]]:
    """Fixed batches of the full, ordered job list: per model (one adapter per batch, so each
    adapter is merged once), and within a model by prompt length, so a batch pads little."""
    out: list[list[Job]] = []
    for entry in dict.fromkeys(j.entry for j in jobs):
        mine = sorted((j for j in jobs if j.entry == entry), key=lambda j: len(j.prompt))
        out.extend(mine[i: i + size] for i in range(0, len(mine), size))
    return out


def pending(jobs: list[Job], done: dict, batch_size: int) -> list[list[Job]]:
    return [b for b in batches(jobs, batch_size) if not all(j.key in done for j in b)]


def generated_batch_size(jobs: list[Job], done: dict[str, dict]) -> int | None:
    """The batch size ``jobs``' rows in ``done`` were generated with, read from their batch seeds: the
    largest number of one model's rows that share a seed, checked by drawing the batches again. (Where
    no model has that many jobs, the smaller size makes the same batches.) None when a job has no row,
    a row's seed is per request, or the rows came from batches of several sizes (a resumed run)."""
    rows = [done.get(j.key) for j in jobs]
    if not jobs or any(r is None or r.get("seed_scope") != "batch" for r in rows):
        return None
    shared = Counter((j.entry, r["seed"]) for j, r in zip(jobs, rows))
    size = max(shared.values())
    if any(batch_seed(b) != done[b[0].key]["seed"] for b in batches(jobs, size)):
        return None
    return size


def rank_file(out_path: Path, rank: int) -> Path:
    """Where rank ``rank`` of a distributed eval appends its rows before they are merged."""
    return out_path.with_name(f"{out_path.stem}.rank{rank}{out_path.suffix}")


def rank_files(out_path: Path) -> list[Path]:
    """The rank files an interrupted or running distributed eval has beside ``out_path``."""
    return sorted(out_path.parent.glob(f"{out_path.stem}.rank*{out_path.suffix}"))


def merge_rank_files(out_path: Path, jobs: list[Job], batch_size: int) -> dict[str, dict]:
    """Append the rows of every rank file to ``out_path`` in the order one process would have
    written them (batch by batch; none twice), then remove the rank files; returns all rows by key.
    Safe to repeat after a kill: rows already merged are skipped, and a rank file goes only once
    its rows are in ``out_path``."""
    from poetbench.io import append_jsonl

    done = read_done(out_path)
    files = rank_files(out_path)
    extra: dict[str, dict] = {}
    for f in files:
        extra.update({k: r for k, r in read_done(f).items() if k not in done})
    order = {j.key: i for i, j in enumerate(j for b in batches(jobs, batch_size) for j in b)}
    rows = sorted(extra.values(), key=lambda r: order.get(r["key"], len(order)))
    if rows:
        append_jsonl(out_path, rows)
        done.update({r["key"]: r for r in rows})
    for f in files:
        f.unlink()
    return done


def run_jobs(backend: Backend, jobs: list[Job], out_path: Path, params: SamplingParams, batch_size: int,
             base_id: str, progress=None, after_batch: Callable[[int], None] | None = None,
             done: dict[str, dict] | None = None, shard: tuple[int, int] = (0, 1)) -> dict[str, dict]:
    """Generate every job not yet done (in ``done``, else in ``out_path``) with ``backend``,
    appending the rows to ``out_path``; returns all rows by key. ``shard`` = (rank, world size):
    this process generates every world-size-th pending batch (the batches, hence the seeds, are
    those of one process)."""
    from poetbench.io import append_jsonl

    done = read_done(out_path) if done is None else dict(done)
    todo = pending(jobs, done, batch_size)[shard[0]::shard[1]]
    task = None
    if progress is not None:
        task = progress.add_task(f"generate ({backend.name})", total=len(jobs),
                                 completed=len(jobs) - sum(len(b) for b in todo))
    for n, batch in enumerate(todo):
        if backend.seed_scope == "request":  # each job has its own seed: generate only what is missing
            batch = [j for j in batch if j.key not in done]
        seed = batch_seed(batch)
        rows = []
        for job, c in zip(batch, backend.generate(batch, params, seed)):
            if job.key in done:
                continue
            rows.append({"key": job.key, "model": job.model, "author": job.author, "theme": job.theme,
                         "sample": job.sample, "prompt": job.prompt, "text": c.text, "tokens": c.tokens,
                         "params": params.to_dict(), "seed": c.seed, "seed_scope": backend.seed_scope,
                         "backend": backend.name, "base": base_id,
                         "adapter_sha256": backend.entries[job.entry].adapter_sha256,
                         **({"weights": job.weights} if job.weights else {})})
        append_jsonl(out_path, rows)
        done.update({r["key"]: r for r in rows})
        if task is not None:
            progress.advance(task, len(batch))
        if after_batch is not None:
            after_batch(n)
    return done
