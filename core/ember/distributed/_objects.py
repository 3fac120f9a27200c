"""Collectives on picklable Python objects (PyTorch's ``*_object`` functions).

Objects travel as pickles in uint8 buffers: the sizes first, then the bytes, both through the same
time-limited non-blocking MPI calls as tensors. Only unpickle data from ranks of your own job, as
with PyTorch (pickle runs code).
"""
from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

from ._collectives import _root
from ._group import ProcessGroup, resolve

__all__ = ["all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list"]


def _dumps(obj) -> np.ndarray:
    buf = io.BytesIO()
    pickle.Pickler(buf).dump(obj)
    return np.frombuffer(buf.getbuffer(), np.uint8)


def _loads(data: np.ndarray):
    return pickle.loads(data.tobytes())


def _allgather_bytes(g: ProcessGroup, data: np.ndarray, what: str) -> list[np.ndarray]:
    sizes = np.empty(g.size(), np.int64)
    g.wait([g.comm.Iallgather(np.array([data.size], np.int64), sizes)], what)
    recv = np.empty(int(sizes.sum()), np.uint8)
    g.wait([g.comm.Iallgatherv(data, [recv, sizes.tolist()])], what)
    return np.split(recv, np.cumsum(sizes)[:-1])


def _bcast_bytes(g: ProcessGroup, data: np.ndarray | None, root: int, what: str) -> np.ndarray:
    size = np.array([0 if data is None else data.size], np.int64)
    g.wait([g.comm.Ibcast(size, root)], what)
    buf = np.array(data) if g.rank() == root else np.empty(int(size[0]), np.uint8)
    g.wait([g.comm.Ibcast(buf, root)], what)
    return buf


def all_gather_object(object_list: list, obj: Any, group: ProcessGroup | None = None) -> None:
    """Fill ``object_list[i]`` with rank ``i``'s ``obj`` on every rank (``object_list`` has world-size entries)."""
    g = resolve(group)
    if g is None:
        return
    if len(object_list) != g.size():
        raise ValueError(f"all_gather_object: object_list must have one entry per rank ({g.size()}), "
                         f"got {len(object_list)}")
    for i, data in enumerate(_allgather_bytes(g, _dumps(obj), "all_gather_object")):
        object_list[i] = _loads(data)


def broadcast_object_list(object_list: list, src: int | None = None, group: ProcessGroup | None = None,
                          device=None, group_src: int | None = None) -> None:
    """Replace the entries of ``object_list`` by those of rank ``src`` (default 0), in place."""
    g = resolve(group)
    if g is None:
        return
    root = _root(g, src, group_src, "src", default=0)
    mine = _dumps(list(object_list)) if g.rank() == root else None
    received = _loads(_bcast_bytes(g, mine, root, "broadcast_object_list"))
    if len(received) != len(object_list):
        raise ValueError(f"broadcast_object_list: rank {g.ranks[root]} sent {len(received)} objects, this rank's "
                         f"object_list has {len(object_list)} entries")
    object_list[:] = received


def gather_object(obj: Any, object_gather_list: list | None = None, dst: int | None = None,
                  group: ProcessGroup | None = None, group_dst: int | None = None) -> None:
    """Gather every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (default 0)."""
    g = resolve(group)
    if g is None:
        return
    root = _root(g, dst, group_dst, "dst", default=0)
    is_root = g.rank() == root
    if is_root and (object_gather_list is None or len(object_gather_list) != g.size()):
        raise ValueError(f"gather_object: object_gather_list on the destination rank must have {g.size()} entries")
    parts = _allgather_bytes(g, _dumps(obj), "gather_object")
    if is_root:
        object_gather_list[:] = [_loads(p) for p in parts]


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list: list | None = None,
                        src: int | None = None, group: ProcessGroup | None = None, group_src: int | None = None) -> None:
    """Rank ``src`` (default 0) sends ``scatter_object_input_list[i]`` to rank ``i``, which stores it as
    ``scatter_object_output_list[0]``."""
    g = resolve(group)
    if g is None:
        return
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    root = _root(g, src, group_src, "src", default=0)
    mine = None
    if g.rank() == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != g.size():
            raise ValueError(f"scatter_object_list: the source rank's input list must have {g.size()} entries")
        mine = _dumps(list(scatter_object_input_list))
    scatter_object_output_list[0] = _loads(_bcast_bytes(g, mine, root, "scatter_object_list"))[g.rank()]
