"""Collectives on tensors, in place, as in PyTorch; each returns a :class:`Work` with ``async_op=True``.

Every operation is started as a non-blocking MPI call on the tensor's NumPy array, handed to MPI
through the buffer interface without a copy when the array is contiguous (a non-contiguous view is
staged through a contiguous copy and written back when the operation completes). Ranks given as
``src``/``dst`` are global ranks; ``group_src``/``group_dst`` are ranks within ``group``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .._tensor import Tensor, _bump_version
from . import _mpi
from ._group import ProcessGroup, resolve
from ._reduce_op import ReduceOp, check, mpi_op

__all__ = ["Work", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "gather", "scatter", "all_to_all", "all_to_all_single", "send", "recv", "isend",
           "irecv", "barrier", "monitored_barrier", "P2POp", "batch_isend_irecv"]


class Work:
    """A started operation (PyTorch's ``Work``): ``wait()`` blocks until it completes (raising
    ``DistBackendError`` after the group's timeout) and finishes it (results written into the tensors)."""

    def __init__(self, group: ProcessGroup, requests: list, what: str, finish: Callable[[], object] | None = None,
                 statuses: list | None = None) -> None:
        self._group, self._requests, self._what = group, requests, what
        self._finish, self._statuses = finish, statuses
        self._done = False
        self._result = None

    def wait(self, timeout=None) -> bool:
        """Block until the operation completes; ``True``."""
        if not self._done:
            if timeout is None:
                self._group.wait(self._requests, self._what, self._statuses)
            else:
                _mpi.wait(self._requests, timeout.total_seconds(), self._what, self._group.rank(), self._statuses)
            self._done = True
            if self._finish is not None:
                self._result = self._finish()
        return True

    def is_completed(self) -> bool:
        """Whether the operation completed (tests the MPI requests; does not block)."""
        if not self._done and _mpi.mpi().Request.Testall(self._requests, self._statuses):
            self.wait()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self):
        """The output tensors (after :meth:`wait`)."""
        return self._result


# ---- argument checks and buffers ------------------------------------------------------------------------------

def _check_tensor(t, name: str = "tensor") -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type ember.Tensor but got "
                        f"{type(t)} instead.")
    if t.device.type != "cpu":
        raise RuntimeError(f"ember.distributed's MPI backend works on CPU tensors; `{name}` is on {t.device} "
                           f"(the NCCL backend for GPU tensors is not available yet)")
    return t._data


def _check_list(tensors, name: str, size: int, like: np.ndarray | None = None) -> list[np.ndarray]:
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"Invalid function argument: `{name}` must be a list of tensors, got {type(tensors).__name__}")
    if len(tensors) != size:
        raise ValueError(f"`{name}` must hold one tensor per rank of the group ({size}), got {len(tensors)}")
    arrays = [_check_tensor(t, name) for t in tensors]
    if like is not None:
        for a in arrays:
            if a.shape != like.shape or a.dtype != like.dtype:
                raise ValueError(f"every tensor in `{name}` must have the input's shape {tuple(like.shape)} and dtype "
                                 f"{like.dtype}; got {tuple(a.shape)} {a.dtype}")
    return arrays


def _inout(t: Tensor) -> tuple[np.ndarray, Callable[[], None]]:
    """A contiguous buffer for ``t`` and the function that makes the result ``t``'s new content."""
    a = t._data
    if a.flags.c_contiguous and a.flags.writeable:
        return a, lambda: _bump_version(t)
    buf = np.ascontiguousarray(a)

    def write_back():
        a[...] = buf
        _bump_version(t)
    return buf, write_back


def _send(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a)


def _same_dtype(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.dtype != b.dtype:
        raise ValueError(f"{what}: the input and output tensors must have the same dtype, got {b.dtype} and {a.dtype}")


def _root(g: ProcessGroup, rank, group_rank, name: str, default: int | None = None) -> int:
    """The root as a rank of ``g``, from a global ``rank`` or a ``group_rank`` (one of the two)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {name} and group_{name}")
    if group_rank is not None:
        if not 0 <= group_rank < g.size():
            raise ValueError(f"group_{name} {group_rank} is not a rank of the group of size {g.size()}")
        return int(group_rank)
    if rank is None:
        if default is None:
            raise ValueError(f"Either {name} or group_{name} must be specified")
        rank = default
    return g.group_rank(int(rank))


def _start(g: ProcessGroup, what: str, requests: list, finish, async_op: bool, statuses=None):
    work = Work(g, requests, what, finish, statuses)
    if async_op:
        return work
    work.wait()
    return None


def _reduce_finish(buf: np.ndarray, op, size: int, write_back):
    def finish():
        if op is ReduceOp.AVG:
            np.true_divide(buf, size, out=buf)
        write_back()
    return finish


# ---- collectives ---------------------------------------------------------------------------------------------

def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False):
    """Reduce ``tensor`` over all ranks of ``group`` with ``op``; every rank gets the result in place.

    >>> import ember.distributed as dist
    >>> t = ember.ones(3) * (dist.get_rank() + 1)   # doctest: +SKIP
    >>> dist.all_reduce(t)                          # doctest: +SKIP
    """
    a = _check_tensor(tensor)
    op = check(op)
    g = resolve(group)
    if g is None:
        return None
    MPI = _mpi.mpi()
    buf, write_back = _inout(tensor)
    req = g.comm.Iallreduce(MPI.IN_PLACE, buf, mpi_op(MPI, op, a.dtype.kind))
    return _start(g, "all_reduce", [req], _reduce_finish(buf, op, g.size(), write_back), async_op)


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, async_op: bool = False,
              group_src: int | None = None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank of ``group``."""
    _check_tensor(tensor)
    g = resolve(group)
    if g is None:
        return None
    root = _root(g, src, group_src, "src")
    buf, write_back = _inout(tensor)
    return _start(g, "broadcast", [g.comm.Ibcast(buf, root)], write_back, async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM, group: ProcessGroup | None = None,
           async_op: bool = False, group_dst: int | None = None):
    """Reduce ``tensor`` over ``group`` into ``tensor`` on rank ``dst`` (the others' tensors are unchanged)."""
    a = _check_tensor(tensor)
    op = check(op)
    g = resolve(group)
    if g is None:
        return None
    root = _root(g, dst, group_dst, "dst")
    MPI = _mpi.mpi()
    mop = mpi_op(MPI, op, a.dtype.kind)
    if g.rank() == root:
        buf, write_back = _inout(tensor)
        req = g.comm.Ireduce(MPI.IN_PLACE, buf, mop, root)
        return _start(g, "reduce", [req], _reduce_finish(buf, op, g.size(), write_back), async_op)
    return _start(g, "reduce", [g.comm.Ireduce(_send(a), None, mop, root)], None, async_op)


def _scatter_into(tensors: Sequence[Tensor], stacked: np.ndarray):
    def finish():
        for t, part in zip(tensors, stacked):
            t._data[...] = part.reshape(t._data.shape)
            _bump_version(t)
        return list(tensors)
    return finish


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False):
    """Fill ``tensor_list[i]`` with rank ``i``'s ``tensor`` on every rank of ``group``."""
    a = _check_tensor(tensor)
    g = resolve(group)
    if g is None:
        return None
    _check_list(tensor_list, "tensor_list", g.size(), a)
    recv = np.empty((g.size(),) + a.shape, a.dtype)
    req = g.comm.Iallgather(_send(a), recv)
    return _start(g, "all_gather", [req], _scatter_into(tensor_list, recv), async_op)


def _flat_output(output: Tensor, parts: int, each: int, what: str):
    """``output``'s buffer viewed as ``parts`` rows of ``each`` elements (checked)."""
    buf, write_back = _inout(output)
    if buf.size != parts * each:
        raise ValueError(f"{what}: the output tensor must have {parts} x {each} = {parts * each} elements (world size "
                         f"times the input's), got {buf.size}")
    return buf.reshape(parts, each), write_back


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None,
                           async_op: bool = False):
    """Gather every rank's ``input_tensor`` into ``output_tensor``, concatenated (or stacked) in rank order."""
    a = _check_tensor(input_tensor, "input_tensor")
    out = _check_tensor(output_tensor, "output_tensor")
    _same_dtype(a, out, "all_gather_into_tensor")
    g = resolve(group)
    if g is None:
        return None
    recv, write_back = _flat_output(output_tensor, g.size(), a.size, "all_gather_into_tensor")
    req = g.comm.Iallgather(_send(a).reshape(-1), recv)
    return _start(g, "all_gather_into_tensor", [req], write_back, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op=ReduceOp.SUM, group: ProcessGroup | None = None,
                   async_op: bool = False):
    """Reduce ``input_list[i]`` over all ranks into ``output`` on rank ``i``."""
    a = _check_tensor(output, "output")
    op = check(op)
    g = resolve(group)
    if g is None:
        return None
    inputs = _check_list(input_list, "input_list", g.size(), a)
    return _reduce_scatter(g, output, np.stack(inputs) if inputs else np.empty((0,) + a.shape, a.dtype), op,
                           "reduce_scatter", async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group: ProcessGroup | None = None,
                          async_op: bool = False):
    """Reduce ``input`` (world size x ``output``'s elements, in rank order) over all ranks; rank ``i`` gets
    part ``i`` in ``output``."""
    out = _check_tensor(output, "output")
    a = _check_tensor(input, "input")
    _same_dtype(out, a, "reduce_scatter_tensor")
    op = check(op)
    g = resolve(group)
    if g is None:
        return None
    if a.size != g.size() * out.size:
        raise ValueError(f"reduce_scatter_tensor: the input must have world size x output elements "
                         f"({g.size()} x {out.size}), got {a.size}")
    return _reduce_scatter(g, output, a, op, "reduce_scatter_tensor", async_op)


def _reduce_scatter(g: ProcessGroup, output: Tensor, send: np.ndarray, op, what: str, async_op: bool):
    MPI = _mpi.mpi()
    buf, write_back = _inout(output)
    req = g.comm.Ireduce_scatter_block(_send(send).reshape(-1), buf.reshape(-1), mpi_op(MPI, op, buf.dtype.kind))
    return _start(g, what, [req], _reduce_finish(buf, op, g.size(), write_back), async_op)


def _root_only(g: ProcessGroup, root: int, value, name: str, role: str) -> bool:
    """Whether this rank is the root; a list argument given on another rank is an error, as in PyTorch."""
    is_root = g.rank() == root
    if not is_root and value:
        raise ValueError(f"Argument ``{name}`` must NOT be specified on non-{role} ranks.")
    return is_root


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None,
           group: ProcessGroup | None = None, async_op: bool = False, group_dst: int | None = None):
    """Gather every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (default 0)."""
    a = _check_tensor(tensor)
    g = resolve(group)
    if g is None:
        return None
    root = _root(g, dst, group_dst, "dst", default=0)
    if not _root_only(g, root, gather_list, "gather_list", "destination"):
        return _start(g, "gather", [g.comm.Igather(_send(a), None, root)], None, async_op)
    _check_list(gather_list, "gather_list", g.size(), a)
    recv = np.empty((g.size(),) + a.shape, a.dtype)
    return _start(g, "gather", [g.comm.Igather(_send(a), recv, root)], _scatter_into(gather_list, recv), async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None,
            group: ProcessGroup | None = None, async_op: bool = False, group_src: int | None = None):
    """Rank ``src`` (default 0) sends ``scatter_list[i]`` to rank ``i``, which receives it into ``tensor``."""
    a = _check_tensor(tensor)
    g = resolve(group)
    if g is None:
        return None
    root = _root(g, src, group_src, "src", default=0)
    buf, write_back = _inout(tensor)
    send = None
    if _root_only(g, root, scatter_list, "scatter_list", "source"):
        send = np.stack(_check_list(scatter_list, "scatter_list", g.size(), a))
    return _start(g, "scatter", [g.comm.Iscatter(send, buf, root)], write_back, async_op)


def _alltoallv(g: ProcessGroup, send: np.ndarray, scounts: list[int], recv: np.ndarray, rcounts: list[int],
               finish, what: str, async_op: bool):
    offsets = lambda counts: np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()  # noqa: E731
    req = g.comm.Ialltoallv([send, (scounts, offsets(scounts))], [recv, (rcounts, offsets(rcounts))])
    return _start(g, what, [req], finish, async_op)


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor],
               group: ProcessGroup | None = None, async_op: bool = False):
    """Rank ``i`` sends ``input_tensor_list[j]`` to rank ``j``, which receives it in
    ``output_tensor_list[i]`` (the tensors may have different sizes, one dtype)."""
    g = resolve(group)
    if g is None:
        return None
    inputs = _check_list(input_tensor_list, "input_tensor_list", g.size())
    outputs = _check_list(output_tensor_list, "output_tensor_list", g.size())
    dtypes = {a.dtype for a in inputs + outputs}
    if len(dtypes) > 1:
        raise ValueError(f"all_to_all: all tensors must have one dtype, got {sorted(map(str, dtypes))}")
    send = np.concatenate([a.reshape(-1) for a in inputs])
    recv = np.empty(sum(a.size for a in outputs), outputs[0].dtype)
    rcounts = [a.size for a in outputs]
    bounds = np.cumsum([0] + rcounts)

    def finish():
        for t, lo, hi in zip(output_tensor_list, bounds[:-1], bounds[1:]):
            t._data[...] = recv[lo:hi].reshape(t._data.shape)
            _bump_version(t)
    return _alltoallv(g, send, [a.size for a in inputs], recv, rcounts, finish, "all_to_all", async_op)


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list[int] | None = None,
                      input_split_sizes: list[int] | None = None, group: ProcessGroup | None = None,
                      async_op: bool = False):
    """``all_to_all`` on one tensor each: ``input`` is split along dimension 0 (equally, or by
    ``input_split_sizes``) and part ``j`` goes to rank ``j``; ``output`` receives the parts in rank order."""
    a = _check_tensor(input, "input")
    out = _check_tensor(output, "output")
    _same_dtype(out, a, "all_to_all_single")
    g = resolve(group)
    if g is None:
        return None
    row_in = int(np.prod(a.shape[1:], dtype=np.int64))
    row_out = int(np.prod(out.shape[1:], dtype=np.int64))
    sin = _splits(input_split_sizes, a.shape[0] if a.ndim else 0, g.size(), "input")
    sout = _splits(output_split_sizes, out.shape[0] if out.ndim else 0, g.size(), "output")
    buf, write_back = _inout(output)
    return _alltoallv(g, _send(a).reshape(-1), [s * row_in for s in sin], buf.reshape(-1),
                      [s * row_out for s in sout], write_back, "all_to_all_single", async_op)


def _splits(sizes, rows: int, world: int, which: str) -> list[int]:
    if sizes is None or len(sizes) == 0:
        if rows % world:
            raise ValueError(f"all_to_all_single: the {which}'s first dimension ({rows}) must divide by the world "
                             f"size ({world}) when no {which}_split_sizes are given")
        return [rows // world] * world
    sizes = [int(s) for s in sizes]
    if len(sizes) != world or sum(sizes) != rows:
        raise ValueError(f"all_to_all_single: {which}_split_sizes {sizes} must have {world} entries summing to the "
                         f"{which}'s first dimension ({rows})")
    return sizes


# ---- point to point ------------------------------------------------------------------------------------------

def _tag(tag: int) -> int:
    if tag < 0:
        raise ValueError(f"tag must be a non-negative integer, got {tag}")
    return int(tag)


def isend(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
          group_dst: int | None = None):
    """Start sending ``tensor`` to rank ``dst``; returns a :class:`Work`."""
    a = _check_tensor(tensor)
    g = resolve(group)
    if g is None:
        return None
    peer = _root(g, dst, group_dst, "dst")
    send = _send(a)
    return Work(g, [g.comm.Isend(send, peer, _tag(tag))], f"send to rank {g.ranks[peer]}")


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
          group_src: int | None = None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when ``None``); returns a :class:`Work`
    whose ``wait()`` writes the tensor (and whose ``result()`` is the sender's global rank)."""
    _check_tensor(tensor)
    g = resolve(group)
    if g is None:
        return None
    MPI = _mpi.mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _root(g, src, group_src, "src")
    buf, write_back = _inout(tensor)
    status = MPI.Status()

    def finish():
        write_back()
        return g.ranks[status.Get_source()]
    return Work(g, [g.comm.Irecv(buf, peer, _tag(tag))], "recv", finish, [status])


def send(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst`` (blocks until the buffer can be reused)."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when ``None``); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.result()


class P2POp:
    """One point-to-point operation for :func:`batch_isend_irecv` (``op`` is ``isend`` or ``irecv``)."""

    def __init__(self, op, tensor: Tensor, peer: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
                 group_peer: int | None = None) -> None:
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``ember.distributed.isend`` or "
                             "``ember.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every operation of ``p2p_op_list``; returns their :class:`Work` handles."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``ember.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None):
    """Wait until every rank of ``group`` reaches the barrier."""
    g = resolve(group)
    if g is None:
        return None
    return _start(g, "barrier", [g.comm.Ibarrier()], None, async_op)


def monitored_barrier(group: ProcessGroup | None = None, timeout=None, wait_all_ranks: bool = False) -> None:
    """A barrier that raises ``DistBackendError`` when the other ranks do not arrive within ``timeout``."""
    g = resolve(group)
    if g is None:
        return None
    Work(g, [g.comm.Ibarrier()], "monitored_barrier").wait(timeout)
