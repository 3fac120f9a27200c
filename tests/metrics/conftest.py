"""Helpers for the ember-metrics tests (the ``accel`` fixture comes from tests/conftest.py)."""
import threading

import numpy as np
import pytest



class ThreadWorld:
    """Simulated processes: ``run(fn)`` calls ``fn(rank)`` in ``size`` threads at once; ``gather`` is the
    all-gather collective (each rank passes its tensor and receives every rank's, in rank order)."""

    def __init__(self, size: int = 2):
        self.size = size
        self.barrier = threading.Barrier(size, timeout=20)
        self.slots = [None] * size
        self.local = threading.local()
        self.calls = 0

    @property
    def rank(self) -> int:
        return self.local.rank

    def gather(self, tensor, group=None):
        self.slots[self.rank] = tensor
        self.barrier.wait()
        out = list(self.slots)
        self.barrier.wait()
        if self.rank == 0:
            self.calls += 1
        return out

    def all_gather_equal(self, tensor):
        """A collective that, like a real one, insists on equal shapes and dtypes everywhere."""
        out = self.gather(tensor)
        assert len({tuple(t.shape) for t in out}) == 1, [tuple(t.shape) for t in out]
        assert len({t.dtype for t in out}) == 1, [t.dtype for t in out]
        return [t.clone() for t in out]

    def run(self, fn):
        results, errors = [None] * self.size, []

        def target(rank):
            self.local.rank = rank
            try:
                results[rank] = fn(rank)
            except BaseException as e:  # surface the first failure, unblock the others
                errors.append(e)
                self.barrier.abort()

        threads = [threading.Thread(target=target, args=(r,)) for r in range(self.size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results


@pytest.fixture
def world():
    return ThreadWorld(2)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)



@pytest.fixture
def make_world():
    return ThreadWorld
