"""``DistributedDataParallel``: data-parallel training across the processes of ``ember.distributed``.

Construction broadcasts rank 0's parameters and buffers to every rank. Each forward (with gradients
enabled, outside :meth:`DistributedDataParallel.no_sync`) arms the reducer (``_reducer.py``), whose
hooks all-reduce gradient buckets while backward runs and leave averaged gradients in ``.grad`` when
backward returns, so every rank's optimizer takes the same step. With ``broadcast_buffers`` (default)
rank 0's buffers (BatchNorm statistics) are copied to the others at each forward.

As in PyTorch, the wrapped model is ``ddp.module`` and ``ddp.state_dict()`` keys carry the
``module.`` prefix; save ``ddp.module.state_dict()`` for checkpoints that load into the bare model.
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ..module import Module

__all__ = ["DistributedDataParallel"]


def _tensors_in(obj) -> list[Tensor]:
    """The tensors in a (nested) forward output."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for x in obj for t in _tensors_in(x)]
    if isinstance(obj, dict):
        return [t for x in obj.values() for t in _tensors_in(x)]
    return []


def _reached_leaves(outputs: list[Tensor]) -> set[int]:
    """The ids of the leaf tensors that ``outputs`` depend on through the autograd graph."""
    reached, seen = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    reached.update(id(t) for t in outputs if t.grad_fn is None)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next_edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                reached.add(id(target))
            else:
                stack.append(target)
    return reached


def _broadcast_coalesced(tensors: list[Tensor], group, src: int = 0) -> None:
    """Copy rank ``src``'s values of ``tensors`` to every rank: one broadcast per dtype."""
    from ...distributed import broadcast
    from ..._tensor import _make
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for dtype, group_tensors in by_dtype.items():
        flat = np.concatenate([t._data.reshape(-1) for t in group_tensors]) if group_tensors else np.empty(0, dtype)
        broadcast(_make(flat), src=group.ranks[src], group=group)
        offset = 0
        for t in group_tensors:
            n = t._data.size
            t._data[...] = flat[offset:offset + n].reshape(t._data.shape)
            offset += n


class DistributedDataParallel(Module):
    """PyTorch's ``DistributedDataParallel`` on ``ember.distributed`` (CPU tensors; see the module docstring).

    ``bucket_cap_mb`` (default 25) sizes the gradient buckets; ``find_unused_parameters=True`` lets
    forward leave some parameters out of the loss (found by walking the autograd graph from the
    outputs); ``no_sync()`` accumulates gradients locally for gradient accumulation.

    >>> import ember.distributed as dist
    >>> dist.init_process_group("gloo")                          # doctest: +SKIP
    >>> model = ember.nn.parallel.DistributedDataParallel(net)  # doctest: +SKIP
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        super().__init__()
        from ...distributed import _group
        group = _group.resolve(process_group)
        if group is None:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        if device_ids is not None or output_device is not None:
            devices = {str(p.device) for p in module.parameters()}
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        self.module = module
        self.process_group = group
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._verify_shapes(named)
        if init_sync:
            _broadcast_coalesced([p for p in module.parameters()] + self._buffers_to_sync(), group)
        from ._reducer import Reducer
        self.reducer = Reducer(named, group, self.bucket_bytes_cap, find_unused_parameters)

    def _buffers_to_sync(self) -> list[Tensor]:
        return [b for b in self.module.buffers() if b is not None]

    def _verify_shapes(self, named) -> None:
        """Every rank must wrap the same model: compare parameter names and shapes (PyTorch does too)."""
        from ...distributed import all_gather_object
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        everyone = [None] * self.process_group.size()
        all_gather_object(everyone, mine, group=self.process_group)
        for rank, theirs in enumerate(everyone):
            if theirs != mine:
                raise RuntimeError(f"DistributedDataParallel: the parameters on rank {self.process_group.ranks[rank]} "
                                   f"differ from this rank's ({self.process_group.rank()}) in names, shapes or dtypes; "
                                   f"every rank must wrap the same model")

    def forward(self, *inputs, **kwargs) -> Any:
        if (self.require_forward_param_sync and self.broadcast_buffers and self.process_group.size() > 1
                and self._buffers_to_sync()):
            _broadcast_coalesced(self._buffers_to_sync(), self.process_group)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            unused = None
            if self.find_unused_parameters:
                reached = _reached_leaves(_tensors_in(output))
                unused = [p for p in self.module.parameters() if p.requires_grad and id(p) not in reached]
            self.reducer.prepare(unused)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context, backward accumulates gradients locally without synchronising; the first
        backward after it synchronises the accumulated gradients.

        >>> with ddp.no_sync():               # doctest: +SKIP
        ...     ddp(x1).sum().backward()      # local accumulation only
        >>> ddp(x2).sum().backward()          # doctest: +SKIP
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
