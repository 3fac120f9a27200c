"""``ReduceOp``: how collectives combine tensors, and how each maps onto an MPI operation."""
from __future__ import annotations

import enum

__all__ = ["ReduceOp"]


class _RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """PyTorch's ``torch.distributed.ReduceOp``: ``SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX`` and the
    bitwise ``BAND``, ``BOR``, ``BXOR``.

    >>> from ember.distributed import ReduceOp
    >>> ReduceOp.SUM
    <RedOpType.SUM: 0>
    """
    RedOpType = _RedOpType
    SUM = _RedOpType.SUM
    AVG = _RedOpType.AVG
    PRODUCT = _RedOpType.PRODUCT
    MIN = _RedOpType.MIN
    MAX = _RedOpType.MAX
    BAND = _RedOpType.BAND
    BOR = _RedOpType.BOR
    BXOR = _RedOpType.BXOR


def check(op) -> _RedOpType:
    """``op`` as a member of ``ReduceOp.RedOpType`` (a ``ValueError`` naming the valid ones otherwise)."""
    try:
        return _RedOpType(op)
    except (ValueError, TypeError):
        raise ValueError(f"invalid reduce op {op!r}: expected one of ReduceOp."
                         f"{{{', '.join(m.name for m in _RedOpType)}}}") from None


def mpi_op(MPI, op: _RedOpType, kind: str):
    """The MPI operation for ``op`` on arrays of NumPy kind ``kind`` (AVG is a SUM, divided afterwards).

    Booleans have no arithmetic in MPI: as in PyTorch, a sum or maximum of booleans is a logical or, a
    product or minimum a logical and.
    """
    if kind == "b":
        table = {_RedOpType.SUM: MPI.LOR, _RedOpType.MAX: MPI.LOR, _RedOpType.BOR: MPI.LOR,
                 _RedOpType.PRODUCT: MPI.LAND, _RedOpType.MIN: MPI.LAND, _RedOpType.BAND: MPI.LAND,
                 _RedOpType.BXOR: MPI.LXOR}
        if op not in table:
            raise RuntimeError(f"ReduceOp.{op.name} is not supported for bool tensors")
        return table[op]
    if op in (_RedOpType.BAND, _RedOpType.BOR, _RedOpType.BXOR) and kind not in "iu":
        raise RuntimeError(f"ReduceOp.{op.name} needs an integer tensor, got an array of kind {kind!r}")
    if op is _RedOpType.AVG and kind not in "fc":
        raise RuntimeError("result type Float can't be cast to the desired output type of the integer tensor "
                           "(ReduceOp.AVG needs a floating-point tensor)")
    return {_RedOpType.SUM: MPI.SUM, _RedOpType.AVG: MPI.SUM, _RedOpType.PRODUCT: MPI.PROD,
            _RedOpType.MIN: MPI.MIN, _RedOpType.MAX: MPI.MAX, _RedOpType.BAND: MPI.BAND,
            _RedOpType.BOR: MPI.BOR, _RedOpType.BXOR: MPI.BXOR}[op]
