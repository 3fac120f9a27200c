"""Batching clips of different lengths: pad each to the longest of its batch (not to a fixed length) and keep
the lengths, so a model can ignore the padding.

>>> from ember.utils.data import DataLoader
>>> clips = [(ember.ones(1, 3), 0), (ember.ones(1, 5), 1)]          # (waveform [channels, frames], label)
>>> waveforms, labels, lengths = next(iter(DataLoader(clips, batch_size=2, collate_fn=pad_collate)))
>>> waveforms.shape, labels, lengths
(ember.Size([2, 1, 5]), tensor([0, 1]), tensor([3, 5]))
"""
from __future__ import annotations

from typing import Any, Sequence

import ember
from ember.utils.data import default_collate

__all__ = ["PadCollate", "pad_collate", "pad_waveforms"]


def pad_waveforms(waveforms: Sequence[ember.Tensor], padding_value: float = 0.0) -> tuple[ember.Tensor, ember.Tensor]:
    """``(padded [batch, channels, longest], lengths [batch] int64)`` of waveforms ``[channels, frames]`` (or
    ``[frames]``: then ``padded`` is ``[batch, longest]``), padded at the end with ``padding_value``.

    >>> padded, lengths = pad_waveforms([ember.tensor([1.0, 2.0]), ember.tensor([3.0])])
    >>> padded, lengths
    (tensor([[1., 2.],
            [3., 0.]]), tensor([2, 1]))
    """
    if not waveforms:
        raise ValueError("pad_waveforms needs at least one waveform")
    leading = {tuple(w.shape[:-1]) for w in waveforms}
    if len(leading) > 1:
        a, b = sorted(leading)[:2]
        raise ValueError(f"waveforms of a batch must have the same channels; got shapes {a} and {b} before the "
                         "time dimension (mix them down, e.g. AudioFolder(..., mono=True))")
    lengths = [int(w.shape[-1]) for w in waveforms]
    longest = max(lengths)
    padded = [ember.nn.functional.pad(w, (0, longest - n), value=padding_value) if n < longest else w
              for w, n in zip(waveforms, lengths)]
    return ember.stack(padded), ember.tensor(lengths, dtype=ember.int64)


class PadCollate:
    """A ``collate_fn`` for samples whose first field is a waveform of variable length.

    A batch of ``(waveform, *rest)`` samples becomes ``(waveforms, *rest, lengths)``: the waveforms padded to the
    longest (:func:`pad_waveforms`), every other field collated as ``default_collate`` does (labels to a tensor,
    strings to a list), and the frame counts last. Samples that are bare waveforms give ``(waveforms, lengths)``.
    """

    def __init__(self, padding_value: float = 0.0) -> None:
        self.padding_value = padding_value

    def __call__(self, batch: Sequence[Any]) -> tuple:
        if not batch:
            raise ValueError("can't collate an empty batch")
        if isinstance(batch[0], ember.Tensor):
            return pad_waveforms(batch, self.padding_value)
        fields = list(zip(*batch))
        waveforms, lengths = pad_waveforms(fields[0], self.padding_value)
        return (waveforms, *(default_collate(list(f)) for f in fields[1:]), lengths)

    def __repr__(self) -> str:
        return f"PadCollate(padding_value={self.padding_value})"


#: :class:`PadCollate` with zeros: ``DataLoader(dataset, collate_fn=pad_collate)``.
pad_collate = PadCollate()
