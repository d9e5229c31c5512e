"""What training runs share: library versions, the cache folder, rich progress from Trainer
callbacks, and checkpoint look-up."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def versions() -> dict[str, str]:
    import peft
    import torch
    import transformers
    import trl

    from poetbench import __version__

    return {
        "poetbench": __version__, "python": platform.python_version(), "torch": torch.__version__,
        "transformers": transformers.__version__, "peft": peft.__version__, "trl": trl.__version__,
    }


def progress_callback(progress, description: str):
    from transformers import TrainerCallback

    class _Cb(TrainerCallback):
        task = None

        def on_train_begin(self, args, state, control, **kw):
            if progress is not None and state.is_world_process_zero:
                self.task = progress.add_task(description, total=state.max_steps, completed=state.global_step)

        def on_step_end(self, args, state, control, **kw):
            if self.task is not None:
                progress.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if self.task is not None and logs and "loss" in logs:
                progress.update(self.task, description=f"{description} loss {logs['loss']:.3f}")

    return _Cb()


def quiet_trainer(trainer) -> None:
    """Progress goes through rich; drop the callback that prints every log dict to stdout."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def last_checkpoint(folder: Path) -> str | None:
    """The newest complete checkpoint in ``folder``: one a kill interrupted while it was being
    written (no ``trainer_state.json`` yet, which the Trainer writes after the weights) is skipped."""
    if not Path(folder).is_dir():
        return None
    done = [p for p in Path(folder).glob("checkpoint-*") if (p / "trainer_state.json").exists()
            and p.name.split("-")[-1].isdigit()]
    return str(max(done, key=lambda p: int(p.name.split("-")[-1]))) if done else None


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def device_name() -> str:
    """This process's GPU: ``cuda:<LOCAL_RANK>`` in a distributed run, else ``cuda``."""
    return f"cuda:{os.environ['LOCAL_RANK']}" if world_size() > 1 and "LOCAL_RANK" in os.environ else "cuda"


def is_main_process() -> bool:
    """True unless this is a non-zero rank of a distributed run (`accelerate launch`, torchrun)."""
    return int(os.environ.get("RANK", "0")) == 0


def wait_for_everyone() -> None:
    """A barrier across the ranks of a distributed run; nothing in a single process."""
    if world_size() > 1:
        import torch.distributed as dist
        from accelerate import PartialState

        state = PartialState()  # the process group (gloo on CPUs, nccl on GPUs)
        if dist.is_available() and dist.is_initialized():
            dist.barrier()
        else:
            state.wait_for_everyone()


def broadcast(value):
    """Rank 0's ``value`` on every rank of a distributed run (``value`` itself in one process)."""
    if world_size() <= 1:
        return value
    import torch.distributed as dist
    from accelerate import PartialState

    PartialState()  # the process group (gloo on CPUs, nccl on GPUs)
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
