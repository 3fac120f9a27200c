"""Datasets: map-style (``__getitem__`` + ``__len__``) and iterable-style (``__iter__``), and their combinators.

Datasets that can build a whole default-collated batch with one indexing operation define
``_ember_batch(indices)`` (TensorDataset, and Subset over such a dataset); the DataLoader uses it when
batching automatically with :func:`default_collate`, so no per-sample Python runs.
"""
from __future__ import annotations

import bisect
import itertools
import math
import warnings
from typing import Generic, Iterable, TypeVar

import numpy as np

from ..._tensor import Tensor
from ...ops.creation import from_numpy
from ...ops.random import default_generator, randperm

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "Subset",
           "StackDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``.

    Optionally ``__getitems__(indices)`` returns a list of samples for a batch of indices at once.
    ``a + b`` concatenates two datasets.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """An iterable-style dataset: subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker iterates its own copy; use :func:`get_worker_info` in
    ``__iter__`` to give each worker a distinct shard. ``a + b`` chains two iterable datasets.
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> "ChainDataset":
        return ChainDataset([self, other])


def _int_index_array(indices):
    """``indices`` as a 1-D int64 array, or None when they are not plain integer indices."""
    if isinstance(indices, Tensor):
        arr = indices._host()
    else:
        try:
            arr = np.asarray(indices)
        except (ValueError, TypeError):
            return None
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        return None
    return arr.astype(np.int64, copy=False)


class TensorDataset(Dataset):
    """Samples are tuples of the tensors' rows: ``dataset[i] == tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor) or t.dim() == 0:
                raise TypeError(f"TensorDataset expects tensors with at least one dimension; argument {i} is "
                                + ("a 0-d tensor" if isinstance(t, Tensor) else type(t).__name__))
        n = tensors[0].size(0)
        if any(t.size(0) != n for t in tensors):
            raise ValueError("Size mismatch between tensors: their first dimensions are "
                             f"{[t.size(0) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _ember_batch(self, indices):
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None          # a subclass changed what a sample is
        idx = _int_index_array(indices)
        if idx is None:
            return None
        key = from_numpy(idx)
        return [t[key] for t in self.tensors]


class StackDataset(Dataset):
    """Zips datasets of equal length: positional datasets give tuple samples, keyword ones dict samples."""

    def __init__(self, *args: Dataset, **kwargs: Dataset):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or ``dict``- (via ``kwargs``) like "
                             "input/output, but both types are given.")
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        self._length = len(datasets[0])
        if any(self._length != len(d) for d in datasets):
            raise ValueError(f"Size mismatch between datasets: lengths {[len(d) for d in datasets]}")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        named = isinstance(self.datasets, dict)
        items = self.datasets.items() if named else enumerate(self.datasets)
        columns = {}
        for key, d in items:
            getitems = getattr(d, "__getitems__", None)
            if callable(getitems):
                col = getitems(indices)
                if len(col) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got "
                                     f"{len(col)}")
            else:
                col = [d[i] for i in indices]
            columns[key] = col
        if named:
            return [{k: col[j] for k, col in columns.items()} for j in range(len(indices))]
        return [tuple(col[j] for col in columns.values()) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets (index ``i`` runs through them in order)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += n
        if idx >= n:
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of length {n}")
        i = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[i][idx - (self.cumulative_sizes[i - 1] if i else 0)]


class ChainDataset(IterableDataset):
    """Iterates iterable datasets one after another (lazily, so it can chain large streams)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (``subset[i] == dataset[indices[i]]``)."""

    def __init__(self, dataset: Dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _ember_batch(self, indices):
        inner = getattr(self.dataset, "_ember_batch", None)
        if inner is None or type(self).__getitem__ is not Subset.__getitem__:
            return None
        idx, own = _int_index_array(indices), _int_index_array(self.indices)
        if idx is None or own is None:
            return None
        return inner(own[idx])


def random_split(dataset: Dataset, lengths, generator=default_generator) -> list:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` may also be fractions summing to 1: each split gets ``floor(frac * len(dataset))``
    samples and the remainder is dealt out one by one from the first split on.
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! "
                         f"({sum(lengths)} != {n})")
    perm = randperm(n, generator=generator).tolist()
    return [Subset(dataset, perm[end - size:end]) for end, size in zip(itertools.accumulate(lengths), lengths)]
