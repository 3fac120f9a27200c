"""Helpers shared by the scenario scripts (run on every rank by ``ember run``)."""
from __future__ import annotations

import numpy as np

import ember


class Checks:
    """Counts checks; each one raises AssertionError with its name when it fails."""

    def __init__(self, name: str) -> None:
        self.name, self.count = name, 0

    def equal(self, actual, expected, what: str, atol: float = 0.0) -> None:
        a = actual.numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
        e = np.asarray(expected)
        assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
        if isinstance(actual, ember.Tensor) and e.dtype != object:
            assert a.dtype == e.dtype, f"{what}: dtype {a.dtype} != expected {e.dtype}"
        if atol:
            np.testing.assert_allclose(a, e, atol=atol, rtol=0, err_msg=what)
        else:
            np.testing.assert_array_equal(a, e, err_msg=what)
        self.count += 1

    def raises(self, kind, fn, what: str, match: str = "") -> None:
        try:
            fn()
        except kind as e:
            assert match in str(e), f"{what}: message {str(e)!r} lacks {match!r}"
            self.count += 1
            return
        raise AssertionError(f"{what}: {kind.__name__} not raised")

    def true(self, cond, what: str) -> None:
        assert cond, what
        self.count += 1

    def report(self, rank: int) -> None:
        import ember.distributed as dist
        counts = [None] * dist.get_world_size()
        dist.all_gather_object(counts, self.count)
        if rank == 0:
            print(f"{self.name}: {sum(counts)} checks passed", flush=True)
