"""ember.utils.data: datasets, samplers, collation and the DataLoader (single- and multi-process)."""
import collections
import gc
import math
import mmap
import multiprocessing
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
import ember.utils.data as D
from ember.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, DistributedSampler,
                              IterableDataset, RandomSampler, SequentialSampler, StackDataset, Subset,
                              SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                              default_convert, get_worker_info, random_split)

# Tests run 2 workers even on 1-CPU machines.
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


def _np(t):
    return t.detach().numpy()


def _no_children(timeout=5.0):
    """True once this process has no live multiprocessing children (waits a little for exits)."""
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# ---------------------------------------------------------------------------------------
# Datasets used below (module level so that they pickle for the spawn test)
# ---------------------------------------------------------------------------------------
class Squares(Dataset):
    """Sample i is (i, i**2 as a float32 array)."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, np.full(2, i * i, dtype=np.float32)


class Failing(Squares):
    def __getitem__(self, i):
        if i == 3:
            raise ValueError("bad sample 3")
        return super().__getitem__(i)


class FailingKey(Squares):
    def __getitem__(self, i):
        return {}["missing"]


class Suicidal(Squares):
    def __getitem__(self, i):
        if i == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__getitem__(i)


class Slow(Squares):
    def __getitem__(self, i):
        time.sleep(0.05 if i < 2 else 1.5)
        return super().__getitem__(i)


class WorkerPid(Squares):
    def __getitem__(self, i):
        return os.getpid()


class RandomAug(Squares):
    """A random 'augmentation' drawing from all three global generators a worker seeds."""

    def __getitem__(self, i):
        info = get_worker_info()
        return (ember.rand(1).item(), random.random(), float(np.random.rand()), info.id if info else -1)


class Stream(IterableDataset):
    """Yields range(start, end), split into contiguous shards across workers."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = math.ceil((self.end - self.start) / info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))

    def __len__(self):
        return self.end - self.start


class Unsharded(IterableDataset):
    def __iter__(self):
        return iter(range(4))


class LocalError(Exception):
    pass


class Mixed(Dataset):
    """Samples with several dtypes, a string and a nested dict; 16 of them make a batch of ~100 KB."""

    def __len__(self):
        return 40

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        return {"image": ember.from_numpy(rng.random((3, 16, 16), dtype=np.float32)),
                "meta": {"mask": rng.random((16, 16)) > 0.5, "half": np.full(4, i, dtype=np.float16),
                         "ids": np.arange(i, i + 300)},
                "label": i, "name": f"s{i}"}


def _shm_files():
    return [f for f in os.listdir("/dev/shm") if f.startswith(f"ember-dl-{os.getpid()}-")] \
        if os.path.isdir("/dev/shm") else []


def _unpicklable_collate(batch):
    return lambda: batch


# ---------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------
def test_dataset_base_and_add():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())
    c = Squares(2) + Squares(3)
    assert isinstance(c, ConcatDataset) and len(c) == 5
    assert isinstance(Unsharded() + Unsharded(), ChainDataset)


def test_generic_subscripts_and_module_paths():
    class Reverse(D.Sampler[int]):                      # typed subclasses, as PyTorch code writes them
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

    class Items(D.Dataset[int]):
        def __getitem__(self, i):
            return i

        def __len__(self):
            return 3
    assert [_np(b).tolist() for b in DataLoader(Items(), sampler=Reverse(3))] == [[2], [1], [0]]
    assert D.IterableDataset[int] is not None and DataLoader[int] is not None
    from ember.utils.data.dataloader import default_collate as dc, get_worker_info as gwi
    assert dc is default_collate and gwi is get_worker_info


def test_tensor_dataset():
    x, y = ember.arange(12.).reshape(6, 2), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    np.testing.assert_array_equal(_np(a), [8.0, 9.0])
    assert b.item() == 4 and b.dtype is ember.int64
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(ember.zeros(3), ember.zeros(2))


def test_concat_dataset():
    ds = ConcatDataset([Squares(2), Squares(3)])
    assert ds.cumulative_sizes == [2, 5]
    assert [ds[i][0] for i in range(5)] == [0, 1, 0, 1, 2]
    assert ds[-1][0] == 2 and ds[-5][0] == 0
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        ds[-6]
    with pytest.raises(IndexError, match="out of range"):
        ds[5]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="does not support IterableDataset"):
        ConcatDataset([Unsharded()])


def test_chain_dataset():
    ds = ChainDataset([Stream(0, 3), Stream(10, 12)])
    assert list(ds) == [0, 1, 2, 10, 11] and len(ds) == 5
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(ChainDataset([Squares(2)]))


def test_subset():
    base = Squares(10)
    s = Subset(base, [7, 2, 5])
    assert len(s) == 3 and s[0][0] == 7 and s[-1][0] == 5
    assert [x[0] for x in s.__getitems__([2, 0])] == [5, 7]
    t = Subset(TensorDataset(ember.arange(10)), [7, 2, 5])
    assert _np(t[[0, 2]][0]).tolist() == [7, 5]      # a list index goes to the dataset in one call


def test_stack_dataset():
    a, b = Squares(3), TensorDataset(ember.arange(3) * 10)
    tup = StackDataset(a, b)
    assert tup[2][0][0] == 2 and tup[2][1][0].item() == 20
    named = StackDataset(sq=a, t=b)
    assert set(named[1]) == {"sq", "t"} and named[1]["sq"][0] == 1
    items = named.__getitems__([0, 2])
    assert [it["sq"][0] for it in items] == [0, 2]
    assert len(tup) == 3
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(a, t=b)
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a, Squares(4))
    with pytest.raises(ValueError, match="At least one dataset"):
        StackDataset()


def test_random_split():
    parts = random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    again = random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert list(again[0]) == list(parts[0])
    other = random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(2))
    assert list(other[0]) + list(other[1]) != list(parts[0]) + list(parts[1])
    # Fractions: floor(11 * f) = 3, 3, 4, and the one left over goes to the first split.
    assert [len(p) for p in random_split(range(11), [0.3, 0.3, 0.4])] == [4, 3, 4]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    ember.manual_seed(3)
    a = list(random_split(range(10), [5, 5])[0])
    ember.manual_seed(3)
    assert list(random_split(range(10), [5, 5])[0]) == a


# ---------------------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------------------
def test_sequential_sampler():
    s = SequentialSampler(range(4))
    assert list(s) == [0, 1, 2, 3] and len(s) == 4


def test_random_sampler_permutation_and_reproducibility():
    s = RandomSampler(range(20), generator=ember.Generator().manual_seed(0))
    order = list(s)
    assert sorted(order) == list(range(20)) and order != list(range(20))
    assert list(s) != order                             # the generator advances: a new order each epoch
    assert list(RandomSampler(range(20), generator=ember.Generator().manual_seed(0))) == order
    assert list(RandomSampler(range(20), generator=ember.Generator().manual_seed(1))) != order
    ember.manual_seed(5)
    a = list(RandomSampler(range(20)))
    ember.manual_seed(5)
    assert list(RandomSampler(range(20))) == a


def test_random_sampler_num_samples_and_replacement():
    g = ember.Generator().manual_seed(0)
    s = RandomSampler(range(5), num_samples=12, generator=g)
    out = list(s)
    assert len(out) == len(s) == 12
    counts = np.bincount(out, minlength=5)
    assert sorted(counts.tolist()) == [2, 2, 2, 3, 3]          # two full passes, then 2 more distinct
    assert sorted(out[:5]) == list(range(5)) and sorted(out[5:10]) == list(range(5))
    r = list(RandomSampler(range(3), replacement=True, num_samples=5000, generator=g))
    assert len(r) == 5000 and set(r) == {0, 1, 2}
    assert np.all(np.abs(np.bincount(r) / 5000 - 1 / 3) < 0.04)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler(range(0))


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    s = SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0))
    out = list(s)
    assert sorted(out) == idx and len(s) == 4
    assert list(SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0))) == out


def test_weighted_random_sampler():
    g = ember.Generator().manual_seed(0)
    w = [0.0, 1.0, 3.0]
    out = np.array(list(WeightedRandomSampler(w, 20000, generator=g)))
    freq = np.bincount(out, minlength=3) / out.size
    np.testing.assert_allclose(freq, [0, 0.25, 0.75], atol=0.015)
    uniq = list(WeightedRandomSampler(ember.tensor([1.0, 2.0, 3.0, 4.0]), 4, replacement=False, generator=g))
    assert sorted(uniq) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler(w, 0)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler(w, 2, replacement=1)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(1, 2\)"):
        WeightedRandomSampler([[1.0, 2.0]], 2)


def test_batch_sampler():
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert list(BatchSampler(range(4), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)


def test_distributed_sampler():
    shards = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]            # padded by repetition to 12
    dropped = [list(DistributedSampler(range(10), 3, r, shuffle=False, drop_last=True)) for r in range(3)]
    assert dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]] and len(DistributedSampler(range(10), 3, 0,
                                                                                      drop_last=True)) == 3
    samplers = [DistributedSampler(range(12), 3, r, seed=7) for r in range(3)]
    epoch0 = [list(s) for s in samplers]
    assert sorted(sum(epoch0, [])) == list(range(12))                   # the replicas partition the data
    for s in samplers:
        s.set_epoch(1)
    epoch1 = [list(s) for s in samplers]
    assert sorted(sum(epoch1, [])) == list(range(12)) and epoch1 != epoch0
    assert list(DistributedSampler(range(2), 5, 4, shuffle=False)) == [0]
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(10), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(range(10))


# ---------------------------------------------------------------------------------------
# Collation
# ---------------------------------------------------------------------------------------
def test_default_collate_leaves():
    t = default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])])
    assert t.dtype is ember.float32 and _np(t).tolist() == [[1, 2], [3, 4]]
    a = default_collate([np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32) + 1])
    assert a.dtype is ember.int32 and a.shape == (2, 3)
    f = default_collate([1.5, 2.5])
    assert f.dtype is ember.float64 and _np(f).tolist() == [1.5, 2.5]
    i = default_collate([1, 2])
    assert i.dtype is ember.int64 and _np(i).tolist() == [1, 2]
    b = default_collate([True, False])
    assert b.dtype is ember.bool and _np(b).tolist() == [True, False]
    s = default_collate([np.float32(1), np.float32(2)])
    assert s.dtype is ember.float32 and s.shape == (2,)
    assert default_collate([np.int16(1), np.int16(2)]).dtype is ember.int16
    z = default_collate([np.array(1.5), np.array(2.5)])
    assert z.dtype is ember.float64 and z.shape == (2,)
    assert default_collate(["a", "b"]) == ["a", "b"] and default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_default_collate_structures():
    P = collections.namedtuple("P", "x y")
    out = default_collate([{"a": 1, "b": "x", "c": (1.0, [2, 3])}, {"a": 2, "b": "y", "c": (3.0, [4, 5])}])
    assert _np(out["a"]).tolist() == [1, 2] and out["b"] == ["x", "y"]
    c = out["c"]
    assert isinstance(c, list) and _np(c[0]).tolist() == [1.0, 3.0]
    assert [_np(v).tolist() for v in c[1]] == [[2, 4], [3, 5]]
    p = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(p, P) and _np(p.x).tolist() == [1, 3] and p.y.dtype is ember.float64
    tup = default_collate([(1, "a"), (2, "b")])
    assert isinstance(tup, list) and tup[1] == ("a", "b")
    od = default_collate([collections.OrderedDict(k=1), collections.OrderedDict(k=2)])
    assert isinstance(od, collections.OrderedDict)


def test_default_collate_errors_name_the_field():
    with pytest.raises(RuntimeError, match=r"default_collate: field 'image' has shapes \[3, 32, 32\] \(element 0\) "
                                           r"and \[3, 28, 28\] \(element 1\) in the same batch"):
        default_collate([{"image": ember.zeros(3, 32, 32)}, {"image": ember.zeros(3, 28, 28)}])
    with pytest.raises(RuntimeError, match=r"field 'x'\[1\] has shapes \[2\] \(element 0\) and \[3\] \(element 2\)"):
        default_collate([{"x": (0, np.zeros(2))}, {"x": (0, np.zeros(2))}, {"x": (0, np.zeros(3))}])
    with pytest.raises(RuntimeError, match=r"batch elements have shapes \[2\] \(element 0\) and \[1\]"):
        default_collate([ember.zeros(2), ember.zeros(1)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts or lists; found"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(KeyError, match="key 'b'"):
        default_collate([{"a": 1, "b": 2}, {"a": 1}])


def test_default_collate_keeps_autograd():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0, 4.0], requires_grad=True)
    b = default_collate([x, y * 2])
    (b * ember.tensor([[1.0, 1.0], [1.0, 1.0]])).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [1, 1])
    np.testing.assert_array_equal(_np(y.grad), [2, 2])


def test_default_convert():
    out = default_convert([np.array([1, 2]), (np.float64(3.0), "x"), 4])
    assert _np(out[0]).tolist() == [1, 2]
    assert isinstance(out[1], list) and out[1][0].dtype is ember.float64 and out[1][1] == "x"
    assert out[2] == 4
    assert default_convert(np.float32(2)).dtype is ember.float32
    assert default_convert({"a": np.zeros(2)})["a"].dtype is ember.float64


# ---------------------------------------------------------------------------------------
# DataLoader in the main process
# ---------------------------------------------------------------------------------------
def test_loader_batches_and_len():
    loader = DataLoader(Squares(5), batch_size=2)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    idx, sq = batches[0]
    assert _np(idx).tolist() == [0, 1] and sq.dtype is ember.float32 and sq.shape == (2, 2)
    assert _np(batches[2][0]).tolist() == [4]
    dropped = DataLoader(Squares(5), batch_size=2, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    assert [x for x in DataLoader(range(3), batch_size=None)] == [0, 1, 2]    # default_convert leaves ints
    raw = list(DataLoader(Squares(2), batch_size=None))
    assert raw[1][0] == 1 and raw[1][1].dtype is ember.float32


def test_loader_shuffle_generator_reproducible():
    def order(seed):
        loader = DataLoader(range(30), batch_size=7, shuffle=True, generator=ember.Generator().manual_seed(seed))
        return [v for b in loader for v in _np(b).tolist()]
    a = order(0)
    assert sorted(a) == list(range(30)) and a != list(range(30))
    assert order(0) == a and order(1) != a
    ember.manual_seed(11)
    b = [v for x in DataLoader(range(30), batch_size=7, shuffle=True) for v in _np(x).tolist()]
    ember.manual_seed(11)
    assert [v for x in DataLoader(range(30), batch_size=7, shuffle=True) for v in _np(x).tolist()] == b


def test_loader_custom_sampler_batch_sampler_collate():
    loader = DataLoader(range(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [_np(b).tolist() for b in loader] == [[5, 4], [3, 2], [1, 0]]
    loader = DataLoader(range(6), batch_sampler=[[0, 5], [1], [2, 3, 4]])
    assert [_np(b).tolist() for b in loader] == [[0, 5], [1], [2, 3, 4]] and len(loader) == 3
    loader = DataLoader(range(4), batch_size=2, collate_fn=lambda b: sum(b))
    assert list(loader) == [1, 5]


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError, "mutually exclusive with drop_last"),
    (dict(multiprocessing_context="spawn"), ValueError, "multiprocessing_context can only be used with multi-process"),
    (dict(num_workers=1, multiprocessing_context="bogus"), ValueError, "should specify a valid start method"),
    (dict(num_workers=1, multiprocessing_context=3), TypeError, "should be a valid context object"),
])
def test_loader_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        DataLoader(range(3), **kwargs)


def test_loader_iterable_dataset_options():
    for opt in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
            DataLoader(Unsharded(), **opt)
    loader = DataLoader(Stream(0, 5), batch_size=2)
    assert [_np(b).tolist() for b in loader] == [[0, 1], [2, 3], [4]] and len(loader) == 3
    assert len(DataLoader(Stream(0, 5), batch_size=2, drop_last=True)) == 2
    assert [_np(b).tolist() for b in DataLoader(Stream(0, 5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    assert list(DataLoader(Stream(0, 3), batch_size=None)) == [0, 1, 2]


def test_loader_attributes_frozen_after_init():
    loader = DataLoader(range(3))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 4
    loader.num_workers = 0     # other attributes may change
    assert loader.multiprocessing_context is None and loader.generator is None


def test_tensor_dataset_batches_with_one_indexing_op(monkeypatch):
    x, y = ember.arange(20.).reshape(10, 2), ember.arange(10)

    def per_sample(self, i):
        raise AssertionError("the fast path must not fetch sample by sample")
    monkeypatch.setattr(TensorDataset, "__getitem__", per_sample)
    ds = TensorDataset(x, y)
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(0))
    got = list(loader)
    assert isinstance(got[0], list) and len(got) == 3
    xs, ys = np.concatenate([_np(b[0]) for b in got]), np.concatenate([_np(b[1]) for b in got])
    assert sorted(ys.tolist()) == list(range(10))
    np.testing.assert_array_equal(xs, _np(x)[ys])
    sub = Subset(ds, [9, 1, 4])
    (sx, sy), = list(DataLoader(sub, batch_size=3))
    assert _np(sy).tolist() == [9, 1, 4] and sx.shape == (3, 2)


def test_fast_path_matches_per_sample_collation():
    x = ember.randn(7, 3)
    ds = TensorDataset(x, ember.arange(7))
    fast = list(DataLoader(ds, batch_size=3))
    slow = list(DataLoader(ds, batch_size=3, collate_fn=lambda b: default_collate(b)))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(_np(fx), _np(sx))
        assert fy.dtype is sy.dtype and _np(fy).tolist() == _np(sy).tolist()


def test_getitems_is_used_for_batches():
    class Batched(Squares):
        calls = 0

        def __getitems__(self, indices):
            Batched.calls += 1
            return [(i, np.zeros(1)) for i in indices]
    batches = list(DataLoader(Batched(6), batch_size=3))
    assert Batched.calls == 2 and _np(batches[1][0]).tolist() == [3, 4, 5]


def test_loader_device_option_and_pin_memory(accel):
    loader = DataLoader(Squares(4), batch_size=2, device="accel:1", pin_memory=True)
    idx, sq = next(iter(loader))
    assert idx.device == ember.device("accel:1") and sq.device == ember.device("accel:1")
    assert _np(sq.cpu()).tolist() == [[0, 0], [1, 1]]
    named = DataLoader([{"a": np.ones(1)}], batch_size=1, device="accel:0")
    assert next(iter(named))["a"].device == ember.device("accel:0")


# ---------------------------------------------------------------------------------------
# DataLoader with worker processes
# ---------------------------------------------------------------------------------------
def test_workers_match_single_process_in_order():
    ref = [(_np(a).tolist(), _np(b).tolist()) for a, b in DataLoader(Squares(23), batch_size=3)]
    for kw in (dict(num_workers=2), dict(num_workers=2, prefetch_factor=1), dict(num_workers=1)):
        loader = DataLoader(Squares(23), batch_size=3, **kw)
        assert [(_np(a).tolist(), _np(b).tolist()) for a, b in loader] == ref
    assert _no_children()


def test_workers_out_of_order_delivery_has_every_batch():
    got = [v for b in DataLoader(range(20), batch_size=3, num_workers=2, in_order=False) for v in _np(b).tolist()]
    assert sorted(got) == list(range(20))


def test_worker_pids_and_persistent_workers():
    loader = DataLoader(WorkerPid(8), batch_size=2, num_workers=2)
    pids = {p for b in loader for p in _np(b).tolist()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {p for b in loader for p in _np(b).tolist()}.isdisjoint(pids)      # fresh workers each epoch
    persistent = DataLoader(WorkerPid(8), batch_size=2, num_workers=2, persistent_workers=True)
    first = {p for b in persistent for p in _np(b).tolist()}
    it = iter(persistent)
    next(it)                                                # leave an epoch half done ...
    second = [p for b in persistent for p in _np(b).tolist()]   # ... the next one is still complete
    assert set(second) == first and len(second) == 8
    assert len(multiprocessing.active_children()) == 2    # kept alive between epochs
    del persistent, it
    gc.collect()
    assert _no_children()


def test_persistent_workers_iterable_dataset_every_epoch():
    loader = DataLoader(Stream(0, 9), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in loader for v in _np(b).tolist()) == list(range(9))
    del loader
    gc.collect()
    assert _no_children()


def test_prefetch_factor_bounds_outstanding_batches():
    loader = DataLoader(range(100), batch_size=2, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    assert it._tasks_outstanding == 6 and it._send_idx == 6
    next(it)
    assert it._tasks_outstanding + len([i for i in it._task_info.values() if len(i) == 2]) <= 6
    del it
    assert _no_children()


def test_iterable_dataset_sharded_over_two_workers():
    loader = DataLoader(Stream(0, 21), batch_size=4, num_workers=2)
    items = [v for b in loader for v in _np(b).tolist()]
    assert sorted(items) == list(range(21))                  # every item exactly once
    unbatched = list(DataLoader(Stream(0, 7), batch_size=None, num_workers=2))
    assert sorted(unbatched) == list(range(7))
    # Without sharding each worker yields its own full copy (as in PyTorch).
    dup = sorted(v for b in DataLoader(Unsharded(), batch_size=3, num_workers=2) for v in _np(b).tolist())
    assert dup == [0, 0, 1, 1, 2, 2, 3, 3]
    assert _no_children()


def test_worker_info_and_init_fn():
    class Info(Squares):
        def __getitem__(self, i):
            info = get_worker_info()
            return np.array([info.id, info.num_workers, info.seed, info.dataset.tag, i])

    ds = Info(6)
    ds.tag = 0

    def init(worker_id):
        get_worker_info().dataset.tag = 100 + worker_id          # configures the worker's own copy
    ember.manual_seed(0)
    rows = np.concatenate([_np(b) for b in DataLoader(ds, batch_size=1, num_workers=2, worker_init_fn=init)])
    ember.manual_seed(0)
    base = ember.empty((), dtype=ember.int64).random_().item()     # the base seed the iterator drew
    assert set(rows[:, 0].tolist()) == {0, 1} and set(rows[:, 1].tolist()) == {2}
    np.testing.assert_array_equal(rows[:, 2], base + rows[:, 0])
    np.testing.assert_array_equal(rows[:, 3], 100 + rows[:, 0])
    assert rows[:, 4].tolist() == list(range(6)) and ds.tag == 0
    assert get_worker_info() is None
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
        D.WorkerInfo(id=0).id = 1


def test_worker_shuffle_reproducible_with_seeded_generator():
    def order(seed):
        loader = DataLoader(range(40), batch_size=5, shuffle=True, num_workers=2,
                            generator=ember.Generator().manual_seed(seed))
        return [v for b in loader for v in _np(b).tolist()]
    a = order(3)
    assert sorted(a) == list(range(40))
    assert order(3) == a and order(4) != a


def test_per_worker_random_augmentation_is_reproducible():
    def epoch(loader):
        return [tuple(r) for b in loader for r in zip(*(_np(t).tolist() for t in b))]
    ember.manual_seed(123)
    loader = DataLoader(RandomAug(8), batch_size=2, num_workers=2)
    first, second = epoch(loader), epoch(loader)
    ember.manual_seed(123)
    assert epoch(loader) == first                      # same seed: same augmentations
    assert epoch(loader) == second
    assert first != second                             # a new iterator draws a new base seed
    by_worker = {w: [r[:3] for r in first if r[3] == w] for w in (0, 1)}
    assert by_worker[0] != by_worker[1]                # the workers' streams differ
    generator = [epoch(DataLoader(RandomAug(8), batch_size=2, num_workers=2,
                                  generator=ember.Generator().manual_seed(9))) for _ in range(2)]
    assert generator[0] == generator[1]
    assert _no_children()


def test_worker_exception_reraised_with_traceback():
    loader = DataLoader(Failing(8), batch_size=2, num_workers=2)
    it = iter(loader)
    assert _np(next(it)[0]).tolist() == [0, 1]
    with pytest.raises(ValueError) as info:
        next(it)
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1" in msg
    assert "Original Traceback" in msg and "bad sample 3" in msg and "in __getitem__" in msg
    assert _np(next(it)[0]).tolist() == [4, 5]        # iteration may continue after an error
    del it, info
    gc.collect()
    assert _no_children()
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        next(iter(DataLoader(FailingKey(2), num_workers=1)))


def test_worker_errors_with_unpicklable_types_still_arrive():
    class LocalFailing(Squares):
        def __getitem__(self, i):
            class Local(Exception):
                pass
            raise Local("local failure")
    with pytest.raises(RuntimeError, match="cannot be pickled(.|\n)*local failure"):
        next(iter(DataLoader(LocalFailing(2), num_workers=1)))
    with pytest.raises(Exception, match="while sending a batch to the main process"):
        next(iter(DataLoader(Squares(2), num_workers=1, collate_fn=_unpicklable_collate)))
    gc.collect()
    assert _no_children()


def test_worker_init_fn_failure_is_reported():
    def init(worker_id):
        raise LocalError("init failed")
    with pytest.raises(LocalError, match="init failed"):
        list(DataLoader(Squares(4), num_workers=2, worker_init_fn=init))
    with pytest.raises(LocalError, match="init failed"):
        list(DataLoader(Stream(0, 4), num_workers=2, worker_init_fn=init))
    gc.collect()
    assert _no_children()


def test_worker_killed_by_signal_raises_promptly():
    loader = DataLoader(Suicidal(12), batch_size=2, num_workers=2)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker\(s\) exited unexpectedly: worker 0 \(pid \d+\) was "
                                           r"killed by signal SIGKILL"):
        for _ in loader:
            pass
    assert time.monotonic() - t0 < 3.0
    assert _no_children(timeout=0.5)       # the other worker was shut down before raising


def test_timeout(monkeypatch):
    monkeypatch.setattr(D.dataloader, "_SHUTDOWN_GRACE", 0.2)
    it = iter(DataLoader(Slow(4), batch_size=1, num_workers=1, timeout=0.4))
    assert _np(next(it)[0]).tolist() == [0]
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.4 seconds"):
        for _ in it:
            pass
    assert 0.3 < time.monotonic() - t0 < 1.4
    del it
    gc.collect()
    assert _no_children()


def test_clean_shutdown_on_exhaustion_del_and_exception():
    it = iter(DataLoader(Squares(6), batch_size=2, num_workers=2))
    assert len(multiprocessing.active_children()) == 2
    list(it)
    assert _no_children(timeout=0.5)              # exhausted: workers already joined
    it = iter(DataLoader(Squares(60), batch_size=2, num_workers=2))
    next(it)
    del it                                        # dropped mid-epoch
    assert _no_children(timeout=0.5)
    for _ in DataLoader(Squares(60), batch_size=2, num_workers=2):
        break                                     # the for loop drops its iterator
    assert _no_children(timeout=0.5)
    try:
        for _ in DataLoader(Failing(8), batch_size=1, num_workers=2):
            pass
    except ValueError:
        pass                                      # no reference cycle keeps the iterator alive
    assert _no_children(timeout=0.5)


def test_workers_cleaned_up_at_interpreter_exit():
    script = textwrap.dedent("""
        import os, sys
        sys.path.insert(0, %r)
        import numpy as np
        from ember.utils.data import DataLoader
        it = iter(DataLoader(list(range(1000)), batch_size=2, num_workers=2))
        next(it)
        print(" ".join(str(p.pid) for p in __import__("multiprocessing").active_children()), flush=True)
        # exit with the iterator (and its workers) still alive
    """) % os.path.join(os.path.dirname(__file__), "..", "..", "core")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(os.path.exists(f"/proc/{p}") for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{p}") for p in pids)


def test_spawn_start_method():
    loader = DataLoader(Squares(6), batch_size=3, num_workers=1, multiprocessing_context="spawn")
    assert [_np(a).tolist() for a, _ in loader] == [[0, 1, 2], [3, 4, 5]]
    assert _no_children()


def test_loader_iterator_cannot_be_pickled():
    with pytest.raises(NotImplementedError, match="cannot be pickled"):
        pickle.dumps(iter(DataLoader(range(2))))


def test_large_batches_travel_through_shared_memory():
    ref = list(DataLoader(Mixed(), batch_size=16))
    loader = DataLoader(Mixed(), batch_size=16, num_workers=2, persistent_workers=True)
    for _ in range(2):
        got = list(loader)
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g["name"] == r["name"] and _np(g["label"]).tolist() == _np(r["label"]).tolist()
            for key, a, b in (("image", g["image"], r["image"]), ("mask", g["meta"]["mask"], r["meta"]["mask"]),
                              ("half", g["meta"]["half"], r["meta"]["half"]), ("ids", g["meta"]["ids"],
                                                                             r["meta"]["ids"])):
                assert a.dtype is b.dtype and a.shape == b.shape, key
                np.testing.assert_array_equal(_np(a), _np(b))
    got[0]["image"].add_(1)             # batches are ordinary writable tensors
    if D._worker.shm_prefix("x") is not None:
        assert isinstance(got[0]["image"]._data.base, mmap.mmap)       # mapped, not copied
    assert not _shm_files()             # every file was unlinked as soon as it was received
    del loader
    gc.collect()
    assert _no_children()


def test_shared_memory_files_removed_when_batches_are_never_received(monkeypatch):
    it = iter(DataLoader(Mixed(), batch_size=16, num_workers=2, prefetch_factor=2))
    next(it)
    time.sleep(0.3)                     # let the workers write their prefetched batches
    del it
    gc.collect()
    assert _no_children() and not _shm_files()
    with pytest.raises(RuntimeError, match="killed by signal"):
        list(DataLoader(Suicidal(64), batch_size=2, num_workers=2, collate_fn=lambda b: ember.zeros(200, 200)))
    gc.collect()
    assert not _shm_files()


def test_pickle_path_for_small_and_grad_batches(monkeypatch):
    monkeypatch.setattr(D._worker, "_SHM_MIN_BYTES", 0)   # everything eligible goes through /dev/shm ...
    grad = DataLoader(range(4), batch_size=2, num_workers=1,
                      collate_fn=lambda b: (ember.tensor([float(x) for x in b], requires_grad=True), ember.tensor(b)))
    (g, plain), _ = list(grad)
    assert g.requires_grad and not plain.requires_grad      # ... except tensors that require grad
    assert _np(g).tolist() == [0.0, 1.0] and _np(plain).tolist() == [0, 1]
    assert list(DataLoader([], batch_size=2, num_workers=1)) == []
