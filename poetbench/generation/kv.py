"""A KV cache layer that reserves its room once: ``generate``'s default layer concatenates every
step's keys and values onto all it holds (``torch.cat``: a copy of the whole cache per step, a
cost that grows with the square of the poem's length); this one writes each step in place into a
buffer sized for the prompt and the new tokens, and hands attention the filled part, so the poems
are the same (tests/test_generation.py). Measured on a 2-core CPU: 1.05x at eval's defaults (160
new tokens), 0.98x at 48 (bench/generation_speed.py)."""

from __future__ import annotations

from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class ReservedLayer(DynamicLayer):
    """``DynamicLayer`` with its keys and values kept in a buffer of ``capacity`` positions (grown
    to twice what it holds if a step would overflow it). Whatever replaces ``keys`` from outside
    (``reset``, beam reordering, ``batch_select_indices``) is taken in again on the next update."""

    def __init__(self, capacity: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.capacity = capacity
        self._buffers = None
        self._held = None

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n, m = self.get_seq_length(), key_states.shape[-2]
        if self._buffers is None or self.keys is not self._held or self._buffers[0].shape[-2] < n + m:
            size = self.capacity if n + m <= self.capacity else 2 * (n + m)
            keys = key_states.new_empty(*key_states.shape[:2], size, key_states.shape[-1])
            values = value_states.new_empty(*value_states.shape[:2], size, value_states.shape[-1])
            if n:
                keys[..., :n, :], values[..., :n, :] = self.keys, self.values
            self._buffers = keys, values
        keys, values = self._buffers
        keys[..., n:n + m, :], values[..., n:n + m, :] = key_states, value_states
        self.keys, self.values = keys[..., :n + m, :], values[..., :n + m, :]
        self._held = self.keys
        return self.keys, self.values


def reserved_cache(config, capacity: int, reserve: bool = True) -> DynamicCache | None:
    """A ``DynamicCache`` for a model of ``config`` whose layers reserve ``capacity`` positions
    (``reserve=False``: ``generate``'s own growing layers, to measure the difference); ``None``
    when the model's layers are not all plain (sliding-window, recurrent: left to ``generate``)."""
    cache = DynamicCache(config=config)
    if not cache.layers or any(type(layer) is not DynamicLayer for layer in cache.layers):
        return None
    if reserve:
        cache.layers = [ReservedLayer(capacity) for _ in cache.layers]
    return cache
