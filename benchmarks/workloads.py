"""Benchmark workloads. Each ``setup(lib)`` receives ``ember`` or ``torch`` and returns a
zero-argument step; the code is identical for both libraries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Workload:
    name: str
    setup: Callable
    target: float | None = None  # the Ember/PyTorch time ratio we aim for


def add_no_grad(lib):
    a, b = lib.ones(1), lib.ones(1)
    return lambda: a + b


def add_with_grad_and_backward(lib):
    a, b = lib.ones(1, requires_grad=True), lib.ones(1)

    def step():
        (a + b).backward()
    return step


def chain_1000_backward(lib):
    x = lib.ones(1, requires_grad=True)

    def step():
        y = x
        for _ in range(1000):
            y = y * 1.0001
        y.backward()
    return step


def mixed_small_ops(lib):
    x = lib.randn(16, 16)
    w = lib.randn(16, 16)

    def step():
        y = (x * w + 1).exp().sum(1).log()
        return y.mean()
    return step


ALL = [
    Workload("per-op: add 1-element (no grad)", add_no_grad, 1.0),
    Workload("per-op: add 1-element + backward", add_with_grad_and_backward, 1.0),
    Workload("per-op: chain of 1000 muls + backward", chain_1000_backward, 1.0),
    Workload("per-op: 16x16 mul/add/exp/sum/log/mean", mixed_small_ops, 1.0),
]
