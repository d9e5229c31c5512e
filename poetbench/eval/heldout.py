"""The held-out stage of ``poetbench eval``: every model on every author's real test poems (the
registry's ``lm`` metrics: perplexity, entropy, token accuracy on completion tokens), one row per
model x author in ``lm.jsonl``.

A row is written as soon as it is computed and carries a ``key`` (what it was computed from: the
model's weights, the author's corpus, the prompt templates, the length limit, the metrics' version),
so a rerun in the same folder (after an interruption, or to add ``--also`` poems) reuses every row
whose key still matches and loads no model when all do."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from poetbench import corpus as corpus_mod
from poetbench.io import atomic_write_jsonl
from poetbench.prompts import theme_for_poem

LM = "lm.jsonl"


def heldout(plan, backend, cached: dict[str, dict], progress=None) -> list[dict]:
    """Every model on every author's test poems (completion tokens, as TRL logs them), in plan order:
    rows of ``lm.jsonl`` with a matching key (``cached``: ``read_cached`` of it, read before the run
    writes anything) are read back; the others need the transformers model (the hf backend's own, else
    one loaded for this stage, only when a row is missing); ``progress`` (rich) counts the poems of the
    rows computed."""
    from poetbench.metrics.lm import completion_stats

    path = plan.out_dir / LM
    wanted = [(author, e, lm_key(plan, e, author)) for author in plan.authors for e in plan.entries]
    rows: dict[str, dict] = {key: cached[key] for _, _, key in wanted if key in cached}
    todo = [(author, e, key) for author, e, key in wanted if key not in rows]
    tests: dict[str, tuple[list[str], list[str], int]] = {}  # each author's prompts, test poems and their count
    for author in dict.fromkeys(a for a, _, _ in todo):
        test = corpus_mod.load_records(plan.config.corpus_dir, author, "test")
        tests[author] = ([plan.prompts.train_prompt(theme_for_poem(r.get("title"), r["text"]), plan.names[author])
                          for r in test], [r["text"] for r in test], len(test))
    task = progress.add_task("held-out poems", total=sum(tests[a][2] for a, _, _ in todo)) \
        if progress is not None and todo else None
    bank = None
    for author, e, key in todo:
        prompts, completions, n = tests[author]
        bank = bank or _bank(plan, backend)
        with bank.use(e.name) as m:
            stats = completion_stats(m, bank.tokenizer, prompts, completions, batch_size=plan.opts.batch_size or 8,
                                     max_length=plan.config.max_length)
        rows[key] = {"model": e.label, "model_author": e.author, "author": author, "split": "test", "poems": n,
                     **stats, **({"weights": e.name} if e.row else {}), "key": key}
        atomic_write_jsonl(path, [rows[k] for _, _, k in wanted if k in rows])  # an interruption keeps it
        if task is not None:
            progress.advance(task, n)
    out = [rows[key] for _, _, key in wanted]
    if not todo:  # (else the last row's write above wrote these) this run's rows only, whatever the folder held
        atomic_write_jsonl(path, out)
    return out


def _bank(plan, backend):
    from poetbench.generation.hf import HFBackend

    hf = backend if isinstance(backend, HFBackend) else HFBackend(plan.entries, plan.base_path, plan.config)
    return hf.bank


def lm_key(plan, entry, author: str) -> str:
    """What a held-out row is computed from; a row is reused only while all of it is the same."""
    from poetbench.metrics.lm import LM_VERSION

    data = {"version": LM_VERSION, "base": plan.base_id, "model": entry.name, "adapter": entry.adapter_sha256,
            "author": author, "corpus": plan.metas[author]["corpus_sha256"], "name": plan.names[author],
            "prompts": plan.prompts.to_dict(), "max_length": plan.config.max_length}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def read_cached(path: Path) -> dict[str, dict]:
    """The keyed rows of an earlier run's ``lm.jsonl`` in this folder (rows written before rows had
    keys are computed again); a damaged file is an error naming its line and the fix."""
    from poetbench.errors import PoetbenchError
    from poetbench.eval.runfiles import LM_FIELDS, read_rows

    if not path.is_file():
        return {}
    try:
        rows = read_rows(path, LM_FIELDS)
    except PoetbenchError as e:
        raise type(e)(f"{e} (delete {path} to compute the held-out rows again)") from None
    return {r["key"]: r for r in rows if isinstance(r.get("key"), str)}
