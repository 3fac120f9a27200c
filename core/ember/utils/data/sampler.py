"""Samplers: iterables over dataset indices (or, for BatchSampler, over lists of indices).

Random samplers draw from Ember generators, so ``ember.manual_seed`` or an explicit ``generator``
makes the order reproducible, as in PyTorch.
"""
from __future__ import annotations

import math
import operator
from typing import Generic, TypeVar

import numpy as np

from ... import _dtype as dt
from ..._tensor import Tensor
from ...ops.creation import as_tensor, empty
from ...ops.random import Generator, multinomial, randint, randperm

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler"]

T_co = TypeVar("T_co", covariant=True)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _check_bool(name: str, value, exc=ValueError) -> bool:
    if not isinstance(value, bool):
        raise exc(f"{name} should be a boolean value, but got {name}={value!r}")
    return value


def _fresh_generator() -> Generator:
    """A generator seeded from the default generator (each epoch of an unseeded sampler differs, but
    ``ember.manual_seed`` makes the whole sequence reproducible)."""
    seed = int(empty((), dtype=dt.int64).random_().item())
    return Generator().manual_seed(seed)


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` over indices and usually ``__len__``."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a permutation per pass (``num_samples`` may span several passes), or
    with ``replacement=True`` independent uniform draws."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = _check_bool("replacement", replacement, TypeError)
        self._num_samples = num_samples
        self.generator = generator
        _check_positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        # The dataset size may change after construction, so it is read when needed.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        g = self.generator if self.generator is not None else _fresh_generator()
        todo = self.num_samples
        if self.replacement:
            while todo > 0:                     # draw in chunks so huge num_samples stay cheap in memory
                k = min(todo, 4096)
                yield from randint(0, n, (k,), generator=g).tolist()
                todo -= k
            return
        for _ in range(todo // n):
            yield from randperm(n, generator=g).tolist()
        if todo % n:
            yield from randperm(n, generator=g)[:todo % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a fresh permutation each pass)."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None) -> None:
        self.num_samples = _check_positive_int("num_samples", num_samples)
        self.replacement = _check_bool("replacement", replacement)
        w = weights.double() if isinstance(weights, Tensor) else as_tensor(np.asarray(weights, dtype=np.float64))
        if w.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.generator = generator

    def __iter__(self):
        yield from multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _check_positive_int("batch_size", batch_size)
        self.drop_last = _check_bool("drop_last", drop_last)

    def __iter__(self):
        it = iter(self.sampler)
        size = self.batch_size
        while True:
            batch = [*_take(it, size)]
            if len(batch) < size:
                if batch and not self.drop_last:
                    yield batch
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


def _take(it, n):
    # islice without the import at each call; stops early when ``it`` runs out.
    for _, x in zip(range(n), it):
        yield x


class DistributedSampler(Sampler):
    """The share of the dataset's indices that one process of a distributed job reads.

    Indices are shuffled with seed ``seed + epoch`` (call :meth:`set_epoch` each epoch), padded by
    repetition (or trimmed with ``drop_last``) to a multiple of ``num_replicas``, and replica ``rank``
    takes every ``num_replicas``-th index from position ``rank``. ``num_replicas`` and ``rank`` default
    to the world size and rank of ``ember.distributed``'s default process group.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            dist = _distributed()
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        num_replicas, rank = operator.index(num_replicas), operator.index(rank)
        if num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer, but got num_replicas={num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).numpy()
        else:
            indices = np.arange(n)
        if self.total_size > n:          # pad by repeating from the start (as often as needed)
            indices = np.resize(indices, self.total_size)
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which changes the shuffle (all replicas must use the same epoch)."""
        self.epoch = epoch


def _distributed():
    try:
        from ... import distributed as dist
    except ImportError:
        raise RuntimeError("Requires distributed package to be available (ember.distributed); pass num_replicas "
                           "and rank explicitly") from None
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group, or pass num_replicas and rank explicitly.")
    return dist
