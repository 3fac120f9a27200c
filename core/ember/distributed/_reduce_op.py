"""``ReduceOp``: how collectives combine tensors, and how each maps onto an MPI operation."""
from __future__ import annotations

import enum

__all__ = ["ReduceOp"]


class RedOpType(enum.IntEnum):
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
    RedOpType = RedOpType  # noqa: PIE794  (PyTorch exposes the enum as ReduceOp.RedOpType)
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


def check(op) -> RedOpType:
    """``op`` as a member of ``ReduceOp.RedOpType`` (a ``ValueError`` naming the valid ones otherwise)."""
    try:
        return RedOpType(op)
    except (ValueError, TypeError):
        raise ValueError(f"invalid reduce op {op!r}: expected one of ReduceOp."
                         f"{{{', '.join(m.name for m in RedOpType)}}}") from None


def mpi_op(MPI, op: RedOpType, kind: str):
    """The MPI operation for ``op`` on arrays of NumPy kind ``kind`` (AVG is a SUM, divided afterwards).

    Booleans have no arithmetic in MPI: as in PyTorch, a sum or maximum of booleans is a logical or, a
    product or minimum a logical and.
    """
    if kind == "b":
        table = {RedOpType.SUM: MPI.LOR, RedOpType.MAX: MPI.LOR, RedOpType.BOR: MPI.LOR,
                 RedOpType.PRODUCT: MPI.LAND, RedOpType.MIN: MPI.LAND, RedOpType.BAND: MPI.LAND,
                 RedOpType.BXOR: MPI.LXOR}
        if op not in table:
            raise RuntimeError(f"ReduceOp.{op.name} is not supported for bool tensors")
        return table[op]
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in "iu":
        raise RuntimeError(f"ReduceOp.{op.name} needs an integer tensor, got an array of kind {kind!r}")
    if op is RedOpType.AVG and kind not in "fc":
        raise RuntimeError("result type Float can't be cast to the desired output type of the integer tensor "
                           "(ReduceOp.AVG needs a floating-point tensor)")
    return {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
            RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
            RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}[op]
