"""Batching variable-length token sequences: pad to the longest sequence of the batch (not to a fixed length),
with the attention mask and the lengths a model needs.

>>> from ember.utils.data import DataLoader
>>> train = [([5, 6, 7], 1), ([8], 0), ([9, 4], 1)]          # (token ids, label) samples
>>> loader = DataLoader(train, batch_size=3, collate_fn=PadCollate(pad_token_id=0))
>>> batch = next(iter(loader))
>>> batch["input_ids"].shape, batch["attention_mask"].shape, batch["lengths"], batch["labels"]
(ember.Size([3, 3]), ember.Size([3, 3]), tensor([3, 1, 2]), tensor([1, 0, 1]))
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

import ember
from ember.utils.data import default_collate

__all__ = ["PaddedBatch", "pad_sequences", "PadCollate"]

# Sequence fields of a dict sample padded with 0 rather than the pad id (as transformers' collators do).
_ZERO_PADDED = ("attention_mask", "token_type_ids", "special_tokens_mask")


class PaddedBatch(NamedTuple):
    """``padded [B, L]``, ``attention_mask [B, L]`` (1 at real tokens, 0 at padding, int64) and
    ``lengths [B]`` (int64), where ``L`` is the longest length (rounded up by ``pad_to_multiple_of``)."""

    padded: ember.Tensor
    attention_mask: ember.Tensor
    lengths: ember.Tensor


def _as_array(seq, i: int) -> np.ndarray:
    """One sequence as a 1-D NumPy array (ints stay int64; float sequences keep a float dtype)."""
    if isinstance(seq, str):
        raise TypeError(f"sequence {i} is a str: tokenize the texts first (e.g. pass the tokenizer as the "
                        "dataset's transform)")
    if isinstance(seq, ember.Tensor):
        arr = seq.detach().cpu().numpy()
    else:
        try:
            arr = np.asarray(seq)
        except ValueError:
            raise ValueError(f"sequence {i} is ragged (its items have different lengths)") from None
    if arr.ndim != 1:
        raise ValueError(f"sequence {i} must be one-dimensional, got shape {tuple(arr.shape)}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        return arr
    raise TypeError(f"sequence {i} holds {arr.dtype} values; expected token ids (integers) or numbers")


def pad_sequences(sequences: Sequence, padding_value: float = 0, padding_side: str = "right",
                  pad_to_multiple_of: int | None = None) -> PaddedBatch:
    """Pad 1-D sequences (lists of ints, NumPy arrays or tensors) to the longest one.

    ``padding_side="left"`` puts the padding first (decoder-only models generating from a batch).
    Integer sequences give an int64 ``padded``; float sequences keep their float dtype (float32 for lists).

    >>> pad_sequences([[5, 6, 7], [8]], padding_value=0)
    PaddedBatch(padded=tensor([[5, 6, 7],
            [8, 0, 0]]), attention_mask=tensor([[1, 1, 1],
            [1, 0, 0]]), lengths=tensor([3, 1]))
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Sequence) or not len(sequences):
        raise ValueError("pad_sequences expects a non-empty list of sequences")
    if pad_to_multiple_of is not None and (isinstance(pad_to_multiple_of, bool) or
                                           not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of <= 0):
        raise ValueError(f"pad_to_multiple_of must be a positive int, got {pad_to_multiple_of!r}")
    arrays = [_as_array(s, i) for i, s in enumerate(sequences)]
    floats = [a for a in arrays if a.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.dtype(np.int64)
    if floats and all(not isinstance(s, (np.ndarray, ember.Tensor)) for s in sequences):
        dtype = np.dtype(np.float32)  # Python floats: Ember's default dtype, as ember.tensor gives
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    width = int(lengths.max())
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    padded = np.full((len(arrays), width), padding_value, dtype=dtype)
    mask = np.zeros((len(arrays), width), dtype=np.int64)
    for row, a in enumerate(arrays):
        cols = slice(0, a.size) if padding_side == "right" else slice(width - a.size, width)
        padded[row, cols] = a
        mask[row, cols] = 1
    return PaddedBatch(ember.from_numpy(padded), ember.from_numpy(mask), ember.from_numpy(lengths))


class PadCollate:
    """A ``collate_fn`` for the DataLoader that pads token sequences to the longest of the batch.

    Samples may be:

    * ``(ids, target)`` pairs (a text dataset whose ``transform`` tokenizes): the batch is a dict with
      ``input_ids [B, L]``, ``attention_mask [B, L]``, ``lengths [B]`` and ``labels`` (the targets,
      collated by ``default_collate``);
    * a sequence of ids alone: the same without ``labels``;
    * dicts (transformers style, e.g. ``{"input_ids": [...], "attention_mask": [...], "label": 3}``): every
      sequence field is padded (``input_ids`` with ``pad_token_id``, masks and ``token_type_ids`` with 0),
      ``attention_mask`` is made when missing, ``lengths`` is added, ``label`` becomes ``labels`` as
      transformers' ``DataCollatorWithPadding`` does, and other fields are collated by ``default_collate``.

    ``lengths`` is ready for ``nn.utils.rnn.pack_padded_sequence(..., enforce_sorted=False)``. A class (not a
    lambda) so DataLoader workers can pickle it.

    >>> collate = PadCollate(pad_token_id=tokenizer.pad_token_id)  # doctest: +SKIP
    >>> loader = DataLoader(IMDB("data", transform=tokenizer.encode), batch_size=16, collate_fn=collate)  # doctest: +SKIP
    """

    def __init__(self, pad_token_id: int = 0, padding_side: str = "right", pad_to_multiple_of: int | None = None):
        if isinstance(pad_token_id, bool) or not isinstance(pad_token_id, (int, np.integer)):
            raise TypeError(f"pad_token_id must be an int, got {pad_token_id!r}")
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        self.pad_token_id = int(pad_token_id)
        self.padding_side = padding_side
        self.pad_to_multiple_of = pad_to_multiple_of

    def _pad(self, sequences, value) -> PaddedBatch:
        return pad_sequences(sequences, value, self.padding_side, self.pad_to_multiple_of)

    def __call__(self, batch: Sequence) -> dict[str, Any]:
        if not isinstance(batch, Sequence) or not len(batch):
            raise ValueError("PadCollate: the batch is empty")
        first = batch[0]
        if isinstance(first, Mapping):
            return self._collate_dicts(batch)
        if isinstance(first, tuple):
            if any(not isinstance(s, tuple) or len(s) != 2 for s in batch):
                raise ValueError("PadCollate: tuple samples must all be (ids, target) pairs")
            ids, labels = zip(*batch)
            out = self._padded_fields(ids)
            out["labels"] = default_collate(list(labels))
            return out
        return self._padded_fields(batch)

    def _padded_fields(self, sequences) -> dict[str, Any]:
        padded = self._pad(list(sequences), self.pad_token_id)
        return {"input_ids": padded.padded, "attention_mask": padded.attention_mask, "lengths": padded.lengths}

    def _collate_dicts(self, batch) -> dict[str, Any]:
        keys = list(batch[0])
        for i, sample in enumerate(batch):
            if not isinstance(sample, Mapping) or list(sample) != keys:
                got = list(sample) if isinstance(sample, Mapping) else type(sample).__name__
                raise ValueError(f"PadCollate: sample {i} has fields {got}, sample 0 has {keys}")
        if "input_ids" not in keys:
            raise ValueError(f"PadCollate: dict samples need an 'input_ids' field, got {keys}")
        out: dict[str, Any] = {}
        for key in keys:
            values = [sample[key] for sample in batch]
            if _is_sequence(values[0]):
                value = self.pad_token_id if key not in _ZERO_PADDED else 0
                padded = self._pad(values, value)
                out[key] = padded.padded
                if key == "input_ids":
                    out.setdefault("attention_mask", padded.attention_mask)
                    out["lengths"] = padded.lengths
            else:
                out["labels" if key == "label" else key] = default_collate(values)
        return out


def _is_sequence(value) -> bool:
    if isinstance(value, ember.Tensor) or isinstance(value, np.ndarray):
        return value.ndim == 1
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))
