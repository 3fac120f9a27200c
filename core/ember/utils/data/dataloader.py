"""DataLoader: batches from a dataset, in the main process or in parallel worker processes.

With ``num_workers > 0`` each worker process gets its own index queue; the main process hands out
batch indices round-robin (at most ``prefetch_factor`` outstanding per worker) and reorders the results
so batches arrive in sampler order. While it waits it checks that the workers are alive, so a crashed
worker raises an error instead of hanging. Workers are shut down when the iterator is exhausted,
deleted or garbage collected, and at interpreter exit.
"""
from __future__ import annotations

import atexit
import glob
import itertools
import math
import multiprocessing
import os
import queue
import signal
import sys
import time
import warnings
import weakref
from typing import Generic, TypeVar

from ... import _dtype as dt
from ...ops.creation import empty, resolve_device
from . import _worker
from ._worker import (ExceptionWrapper, SharedBatch, _IterableDatasetStopIteration, _ResultQueue, _ResumeIteration,
                      get_worker_info, make_fetcher, map_tensors, shm_prefix)
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)

# While waiting for a batch the main process wakes up this often (seconds) to check worker liveness.
_POLL_INTERVAL = 0.1
# How long (seconds) shutdown waits for workers to exit by themselves before terminating them.
_SHUTDOWN_GRACE = 2.0


class _InfiniteConstantSampler(Sampler):
    """The "sampler" of an IterableDataset: the dataset decides what comes next, so indices are None."""

    def __iter__(self):
        while True:
            yield None


def _default_context():
    # fork starts workers fastest; other platforms get their default (spawn on macOS and Windows).
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _draw_seed(generator) -> int:
    """A non-negative 63-bit seed from ``generator`` (or the default generator)."""
    return int(empty((), dtype=dt.int64).random_(generator=generator).item())


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches, as PyTorch's ``torch.utils.data.DataLoader``.

    The arguments are PyTorch's (``batch_size``, ``shuffle``, ``sampler``, ``batch_sampler``,
    ``num_workers``, ``collate_fn``, ``pin_memory``, ``drop_last``, ``timeout``, ``worker_init_fn``,
    ``multiprocessing_context``, ``generator``, ``prefetch_factor``, ``persistent_workers``,
    ``pin_memory_device``, ``in_order``). ``pin_memory`` is accepted and has no effect.

    Ember extension: ``device=`` moves every tensor of each batch to that device (``tensor.to(device)``)
    in the main process before the batch is returned.

    Worker processes use the ``fork`` start method on Linux (the platform default elsewhere); with
    ``spawn`` the dataset, ``collate_fn`` and ``worker_init_fn`` must be picklable. Each worker seeds
    Ember's default generator, Python's ``random`` and NumPy's global RNG from a base seed drawn from
    ``generator`` (or the default generator) when the iterator is created, plus the worker id.
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn=None, pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True,
                 device=None):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.device = None if device is None else resolve_device(device)

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            # The dataset decides the order and the batches' contents are whatever it yields.
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value is not None and value is not False:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                                     f"{name}={value!r}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self.__initialized = True

    # -- options that cannot change once iteration may have started --------------------------------
    def __setattr__(self, attr, val):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            elif not isinstance(ctx, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={ctx!r}")
        self.__multiprocessing_context = ctx

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # What the iterator draws from: lists of indices when batching automatically, else single indices.
        return self.batch_sampler if self._auto_collation else self.sampler

    # -- iteration ---------------------------------------------------------------------------------
    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        cpus = _usable_cpus()
        if self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes, more than the {cpus} "
                          "CPUs this process may use; excessive workers can slow loading down or exhaust memory.",
                          stacklevel=3)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            it = self._iterator
            if it is None or it._shutdown:
                self._iterator = self._get_iterator()
            else:
                it._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)    # TypeError if the dataset has no length, as in PyTorch
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader):
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._collate_fn = loader.collate_fn
        self._timeout = loader.timeout
        self._device = loader.device
        self._persistent = loader.persistent_workers
        self._base_seed = _draw_seed(loader.generator)
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if self._device is not None:
            device = self._device
            data = map_tensors(data, lambda t: t.to(device))
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = make_fetcher(self._iterable, self._dataset, self._auto_collation, self._collate_fn,
                                     self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)     # StopIteration ends the epoch
        return self._fetcher.fetch(index)


# Iterators with live workers, shut down at interpreter exit (before multiprocessing's own exit handler,
# which was registered earlier and so runs later).
_live_iterators: "weakref.WeakSet[_MultiProcessingDataLoaderIter]" = weakref.WeakSet()


@atexit.register
def _shutdown_live_iterators() -> None:
    for it in list(_live_iterators):
        it._shutdown_workers()


def _describe_exit(worker_id: int, proc) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {"SIGKILL": " (out of memory?)", "SIGBUS": " (shared memory exhausted?)"}.get(name, "")
        return f"worker {worker_id} (pid {proc.pid}) was killed by signal {name}{hint}"
    return f"worker {worker_id} (pid {proc.pid}) exited unexpectedly with exit code {code}"


def _shutdown_workers(owner_pid, workers, index_queues, data_queue, done_event, shared_prefix) -> None:
    """Ask the workers to exit, terminate those that do not within the grace period, close the queues and
    remove shared-memory batches that were never received."""
    if os.getpid() != owner_pid:       # a forked child's copy of the iterator owns nothing
        return
    try:
        done_event.set()
        for q in index_queues:
            q.put(None)
        deadline = time.monotonic() + _SHUTDOWN_GRACE
        for w in workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
            if w.is_alive():
                w.kill()
                w.join()
    finally:
        for q in (*index_queues, data_queue):
            q.cancel_join_thread()
            q.close()
        if shared_prefix is not None:
            for path in glob.glob(glob.escape(shared_prefix) + "*"):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Batches from worker processes.

    Tasks are numbered in sampler order. ``_task_info[i]`` is ``(worker_id,)`` while task ``i`` is
    outstanding and ``(worker_id, batch)`` once its result arrived ahead of its turn; ``_rcvd_idx`` is
    the next task to deliver. A task whose worker stopped (its IterableDataset copy ran out) without
    answering is skipped.
    """

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or _default_context()
        self._workers, self._index_queues = [], []
        self._workers_done_event = ctx.Event()
        self._data_queue = _ResultQueue(ctx=ctx)
        self._shared_prefix = shm_prefix(os.urandom(6).hex())    # large batches travel through /dev/shm
        # The finalizer (not __del__) shuts the workers down when the iterator is collected: it holds the
        # queues, so when the iterator dies in a reference cycle they are still usable at that moment.
        self._finalizer = weakref.finalize(self, _shutdown_workers, os.getpid(), self._workers, self._index_queues,
                                           self._data_queue, self._workers_done_event, self._shared_prefix)
        _live_iterators.add(self)
        owner = os.getpid()
        try:
            for i in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()    # never block interpreter exit on undelivered indices
                w = ctx.Process(target=_worker._worker_loop, daemon=True, args=(
                    self._iterable, self._dataset, index_queue, self._data_queue, self._workers_done_event,
                    self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                    loader.worker_init_fn, i, self._num_workers, owner, self._shared_prefix))
                try:
                    w.start()
                except Exception as e:
                    index_queue.close()
                    if ctx.get_start_method() != "fork":
                        e.add_note(f"DataLoader workers use the {ctx.get_start_method()!r} start method: the dataset, "
                                   "collate_fn and worker_init_fn must be picklable")
                    raise
                self._index_queues.append(index_queue)
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    @property
    def _shutdown(self) -> bool:
        return not self._finalizer.alive

    def _shutdown_workers(self) -> None:
        """Stop the workers and close the queues (idempotent)."""
        self._finalizer()
        _live_iterators.discard(self)

    def _reset(self, loader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        n = self._num_workers
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * n
        self._worker_cycle = itertools.cycle(range(n))
        if not first_iter:
            # Persistent workers: start a new epoch and drop what is left of the previous one (each
            # worker answers in order, so everything before its acknowledgement is stale).
            for q in self._index_queues:
                q.put(_ResumeIteration())
            remaining = n
            while remaining:
                task_id, _ = self._get_data()
                if isinstance(task_id, _ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch_factor * n):
            self._try_put_index()

    def _try_put_index(self) -> None:
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            w = next(self._worker_cycle)
            if self._workers_status[w]:
                break
        else:
            return     # every worker has stopped (an exhausted IterableDataset)
        self._index_queues[w].put((self._send_idx, index))
        self._task_info[self._send_idx] = (w,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _next_data(self):
        while True:
            # Skip delivered tasks and those of stopped workers that will never answer.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:                        # arrived earlier, out of order
                return self._deliver(self._rcvd_idx, info[1])
            if self._shutdown:
                raise RuntimeError("the DataLoader's workers have been shut down; create a new iterator")
            task_id, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                if not self._persistent:
                    self._index_queues[data.worker_id].put(None)     # let it exit now
                self._try_put_index()
                continue
            if task_id == self._rcvd_idx or not self._in_order:
                return self._deliver(task_id, data)
            self._task_info[task_id] += (data,)

    def _deliver(self, task_id, data):
        del self._task_info[task_id]
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _get_data(self):
        """The next ``(task_id, data)`` from the workers, checking their liveness while waiting."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_INTERVAL if deadline is None else max(0.0, min(_POLL_INTERVAL, deadline - time.monotonic()))
            try:
                task_id, data = self._data_queue.get(timeout=wait)
            except queue.Empty:
                pass
            else:
                if isinstance(data, SharedBatch):
                    data = data.load()
                return task_id, data
            self._check_workers()
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _check_workers(self) -> None:
        failed = [(i, w) for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
        if failed:
            self._shutdown_workers()
            raise RuntimeError("DataLoader worker(s) exited unexpectedly: "
                               + "; ".join(_describe_exit(i, w) for i, w in failed))
