"""The gradient reducer behind ``DistributedDataParallel``: buckets, hooks, overlapped all-reduce.

Parameters are grouped, in reverse registration order (roughly the order backward produces their
gradients), into buckets of one dtype and at most ``bucket_cap_mb``. A post-accumulate-grad hook on
each parameter marks it ready; when every parameter of a bucket is ready, its gradients are copied
into the bucket's flat buffer and a non-blocking all-reduce starts on it, while backward goes on
computing the next gradients. Buckets start strictly in index order (MPI needs every rank to issue
collectives in one order). When the last bucket has started, the reducer waits for all of them and
writes the averaged gradients back into ``.grad`` — still inside backward, so the optimizer step
that follows sees synchronised gradients.
"""
from __future__ import annotations

import numpy as np

from ..._tensor import Tensor, _make

_FIRST_BUCKET_BYTES = 1 << 20   # as PyTorch: a small first bucket, so communication starts early

UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
              "indicates that your module has parameters that were not used in producing loss. You can enable "
              "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
              "`ember.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
              "participate in calculating loss. Parameters which did not receive grad for rank {rank}: {names}")


class _Bucket:
    """Parameters of one dtype whose gradients are all-reduced together in one flat buffer."""

    def __init__(self, params: list[tuple[str, Tensor]]) -> None:
        self.names = [n for n, _ in params]
        self.params = [p for _, p in params]
        sizes = [p.numel() for p in self.params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.flat = np.zeros(self.offsets[-1], dtype=self.params[0]._data.dtype)
        self.pending = len(self.params)
        self.work = None

    def fill(self) -> None:
        """Copy the gradients into the flat buffer (zeros for a parameter without one)."""
        for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            if p.grad is None:
                self.flat[lo:hi] = 0
            else:
                self.flat[lo:hi] = p.grad._data.reshape(-1)

    def write_back(self, scale: float, globally_used) -> None:
        """Store the reduced, scaled gradients in ``.grad`` (in place when a gradient exists)."""
        self.flat *= scale
        for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            if not globally_used(p):
                continue
            part = self.flat[lo:hi].reshape(p._data.shape)
            if p.grad is None:
                p.grad = _make(part.copy(), p.device)
            else:
                p.grad._data[...] = part


def build_buckets(named_params: list[tuple[str, Tensor]], cap_bytes: int) -> list[_Bucket]:
    """Split ``named_params`` (in reverse order) into buckets of one dtype and about ``cap_bytes``."""
    buckets, open_by_dtype = [], {}
    limit = min(_FIRST_BUCKET_BYTES, cap_bytes)
    for name, p in reversed(named_params):
        key = p._data.dtype
        cur = open_by_dtype.setdefault(key, [[], 0])
        cur[0].append((name, p))
        cur[1] += p._data.nbytes
        if cur[1] >= limit:
            buckets.append(_Bucket(cur[0]))
            del open_by_dtype[key]
            limit = cap_bytes
    buckets += [_Bucket(params) for params, _ in open_by_dtype.values()]
    return buckets


class Reducer:
    """Averages gradients across the group during backward (see the module docstring)."""

    def __init__(self, named_params: list[tuple[str, Tensor]], group, cap_bytes: int,
                 find_unused_parameters: bool) -> None:
        from ...distributed import _collectives
        self._all_reduce = _collectives.all_reduce
        self.group = group
        self.world = group.size()
        self.find_unused = find_unused_parameters
        self.buckets = build_buckets(named_params, cap_bytes)
        self._where = {id(p): b for b in self.buckets for p in b.params}
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad) for _, p in named_params]
        self._active = False      # a backward pass is expected to synchronise
        self._ready: set[int] = set()
        self._used: set[int] = set()
        self._next = 0

    # ---- one iteration -------------------------------------------------------------------------------
    def prepare(self, unused: list[Tensor] | None) -> None:
        """Called by forward when this iteration's backward must synchronise gradients."""
        if self._active and self._ready:
            missing = [n for b in self.buckets for n, p in zip(b.names, b.params) if id(p) not in self._ready]
            raise RuntimeError(UNFINISHED.format(rank=self.group.rank(), names=", ".join(missing)))
        self._reset()
        self._active = True
        for p in unused or ():
            self._mark_ready(p)

    def _reset(self) -> None:
        self._active = False
        self._ready.clear()
        self._used.clear()
        self._next = 0
        for b in self.buckets:
            b.pending = len(b.params)
            b.work = None

    def _on_grad(self, p: Tensor) -> None:
        if not self._active:
            return
        if id(p) in self._ready:
            raise RuntimeError(f"Expected to mark a variable ready only once (a parameter of shape {tuple(p.shape)} "
                               f"got a second gradient in one DistributedDataParallel iteration). Call forward "
                               f"again before each backward.")
        self._used.add(id(p))
        self._mark_ready(p)

    def _mark_ready(self, p: Tensor) -> None:
        self._ready.add(id(p))
        self._where[id(p)].pending -= 1
        self._progress()
        self._launch_ready()

    def _launch_ready(self) -> None:
        while self._next < len(self.buckets) and self.buckets[self._next].pending == 0:
            b = self.buckets[self._next]
            b.fill()
            b.work = self._all_reduce(_make(b.flat), group=self.group, async_op=True)
            self._next += 1
        if self._next == len(self.buckets):
            self._finish()

    def _progress(self) -> None:
        """Let MPI advance the started all-reduces (it progresses only inside MPI calls)."""
        for b in self.buckets[:self._next]:
            b.work.is_completed()

    def _finish(self) -> None:
        globally_used = self._globally_used()
        for b in self.buckets:
            b.work.wait()
            b.write_back(1.0 / self.world, globally_used)
        self._reset()

    def _globally_used(self):
        """Which parameters got a gradient on some rank (only tracked with ``find_unused_parameters``;
        a parameter no rank used keeps its ``.grad`` untouched, as in PyTorch)."""
        if not self.find_unused:
            return lambda p: True
        params = [p for b in self.buckets for p in b.params]
        used = _make(np.array([id(p) in self._used for p in params], dtype=np.uint8))
        from ...distributed import ReduceOp
        self._all_reduce(used, op=ReduceOp.MAX, group=self.group)
        flags = {id(p): bool(u) for p, u in zip(params, used._data)}
        return lambda p: flags[id(p)]

    def remove_hooks(self) -> None:
        for h in self._handles:
            h.remove()
