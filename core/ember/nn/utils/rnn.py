"""``ember.nn.utils.rnn``: packed and padded variable-length sequences (PyTorch's torch.nn.utils.rnn).

A ``PackedSequence`` stores the steps of a batch of sequences (sorted by decreasing length) time-major:
all first steps, then all second steps of the sequences that have one, and so on; ``batch_sizes[t]``
is how many sequences have a step ``t``. The recurrent layers consume this layout directly.

Packing and padding are each one differentiable row gather (index computation in NumPy on the host).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import _dtype as dt
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _long(values) -> Tensor:
    from ...ops.creation import tensor
    return tensor(np.asarray(values, dtype=np.int64))


def _host_ints(t) -> np.ndarray:
    if isinstance(t, Tensor):
        return np.asarray(t._host()).astype(np.int64).reshape(-1)
    return np.asarray(t, dtype=np.int64).reshape(-1)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Packed steps of a batch of variable-length sequences (build it with :func:`pack_padded_sequence`
    or :func:`pack_sequence`, not directly)."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence(data_and_batch_sizes_tuple) as in PyTorch
            data, batch_sizes = data
        if isinstance(batch_sizes, Tensor) and batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                             "created manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn.")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """A copy with ``data`` (and the index tensors, for a device change) moved/cast like ``Tensor.to``."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        idx = [None if t is None else t.to(dev) for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *idx)

    def cuda(self, *args, **kwargs) -> "PackedSequence":
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self) -> "PackedSequence":
        return self.to("cpu")

    def double(self) -> "PackedSequence":
        return self.to(dtype=dt.float64)

    def float(self) -> "PackedSequence":
        return self.to(dtype=dt.float32)

    def half(self) -> "PackedSequence":
        return self.to(dtype=dt.float16)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation given as an index tensor."""
    if permutation is None:
        return None
    p = _host_ints(permutation)
    inv = np.empty_like(p)
    inv[p] = np.arange(len(p))
    return _long(inv).to(permutation.device) if isinstance(permutation, Tensor) else _long(inv)


def _packed_rows(lengths: np.ndarray, total: int, batch: int) -> np.ndarray:
    """Row numbers in a (total, batch) time-major grid of the packed steps, in packed order
    (``lengths`` sorted decreasing)."""
    t, b = np.nonzero(np.arange(total)[:, None] < lengths[None, :])
    return t * batch + b


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of ``lengths``.

    With ``enforce_sorted=False`` the sequences may come in any order; they are sorted by length
    (``sorted_indices``) and put back by :func:`pad_packed_sequence`.
    """
    lens = _host_ints(lengths)
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    if input.dim() < 2:
        raise ValueError(f"pack_padded_sequence: expected an input with at least 2 dimensions, got {input.dim()}")
    seq = input.transpose(0, 1) if batch_first else input
    total, batch = seq.shape[0], seq.shape[1]
    if len(lens) != batch:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} "
                         f"(batch_size={batch})")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if lens.size and lens.max() > total:
        raise RuntimeError(f"pack_padded_sequence: a length ({lens.max()}) exceeds the padded sequence length "
                           f"({total})")
    if order is not None:
        seq = seq.index_select(1, _long(order).to(input.device))
    rows = _packed_rows(lens, total, batch)
    data = seq.reshape((total * batch,) + tuple(seq.shape[2:])).index_select(0, _long(rows).to(input.device))
    batch_sizes = _long((np.arange(int(lens.max()))[:, None] < lens[None, :]).sum(1))
    if order is None:
        return PackedSequence(data, batch_sizes, None, None)
    sorted_indices = _long(order).to(input.device)
    return PackedSequence(data, batch_sizes, sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` with the batch in its original order."""
    data = sequence.data
    bs = _host_ints(sequence.batch_sizes)
    steps, batch = len(bs), int(bs[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps_out = total_length
    else:
        steps_out = steps
    lens = (bs[None, :] > np.arange(batch)[:, None]).sum(1)  # per sorted batch entry
    # Packed row of (t, b): rows before step t, plus b; padding points at an appended row.
    starts = np.concatenate([[0], np.cumsum(bs)[:-1]])
    t = np.arange(steps_out)[:, None]
    b = np.arange(batch)[None, :]
    valid = t < lens[None, :]
    src = np.where(valid, starts[np.minimum(t, steps - 1)] + b, len(data))
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        perm = _host_ints(unsorted)
        src, lens = src[:, perm], lens[perm]
    padded = _gather_rows(data, src, padding_value)
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _long(lens)


def _gather_rows(data: Tensor, src: np.ndarray, padding_value: float) -> Tensor:
    """``rows[src]`` shaped like ``src``, where index ``len(data)`` means a row of ``padding_value``."""
    from ...ops.shape import cat
    feat = tuple(data.shape[1:])
    pad = data.new_full((1,) + feat, padding_value)
    rows = cat([data, pad], 0).index_select(0, _long(src.reshape(-1)).to(data.device))
    return rows.reshape(src.shape + feat)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with ``batch_first``),
    padding with ``padding_value`` on the ``padding_side`` ("right" or "left")."""
    from ...ops.shape import cat
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    feat = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != feat:
            raise RuntimeError(f"The size of tensor a ({feat}) must match the size of tensor b "
                               f"({tuple(s.shape[1:])}) at non-singleton dimension 1 (pad_sequence)")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    total = int(lens.max())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    t = np.arange(total)[:, None]
    if padding_side == "left":
        t = t - (total - lens)[None, :]
    valid = (t >= 0) & (t < lens[None, :])
    src = np.where(valid, starts[None, :] + t, lens.sum())
    padded = _gather_rows(cat(sequences, 0), src, padding_value)
    return padded.transpose(0, 1) if batch_first else padded


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into a list of tensors of the given lengths."""
    seq = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [seq[i, :int(n)] for i, n in enumerate(_host_ints(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors ``(L_i, *)`` (decreasing lengths unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """A list of the sequences in a :class:`PackedSequence`, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
