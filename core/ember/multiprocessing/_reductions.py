"""How multiprocessing pickles tensors: shared ones by reference to their shared-memory segment."""
from __future__ import annotations

from multiprocessing.reduction import ForkingPickler

from .. import _shared_memory
from .._tensor import Tensor, _make
from ..nn.parameter import Parameter, _rebuild_parameter


def rebuild_shared_tensor(name: str, size: int, offset: int, shape, strides, dtype, requires_grad: bool) -> Tensor:
    """The receiving side: a tensor over the sender's shared memory."""
    t = _make(_shared_memory.attach(name, size, offset, shape, strides, dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


def reduce_tensor(t: Tensor):
    segment = _shared_memory.segment_of(t._data) if t.device.type == "cpu" else None
    if segment is None:
        return t.__reduce_ex__(2)
    name, offset, size = segment
    a = t._data
    return rebuild_shared_tensor, (name, size, offset, a.shape, a.strides, a.dtype, t.requires_grad)


def reduce_parameter(p: Parameter):
    return _rebuild_parameter, (reduce_tensor(p), p.requires_grad)


def init_reductions() -> None:
    ForkingPickler.register(Tensor, reduce_tensor)
    ForkingPickler.register(Parameter, reduce_parameter)
