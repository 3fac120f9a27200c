"""Benchmark workloads. Each ``setup(lib)`` receives ``ember`` or ``torch`` and returns a
zero-argument step; the code is identical for both libraries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class Unavailable(Exception):
    """Raised by a ``setup(lib)`` whose library side cannot run here (a missing companion package, such as
    torchaudio next to torch): the row is measured for the other library only and the message is printed."""


@dataclass(frozen=True)
class Workload:
    name: str
    setup: Callable
    target: float | None = None  # the Ember/PyTorch time ratio we aim for
    flops: float | None = None   # floating-point operations per step, for compute-bound rows
    # A virtualenv (folder name at the repository root) whose Python runs this row's PyTorch side instead of
    # .venv-bench's, for a reference that needs another torch release (torchaudio has none for torch 2.13).
    reference_env: str | None = None


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


def matmul_2048(lib):
    a, b = lib.randn(2048, 2048), lib.randn(2048, 2048)
    return lambda: a @ b


def mlp_train_step(lib):
    """MLP 784-512-256-10, batch 128: forward, cross-entropy, backward, SGD step."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = lib.randn(128, 784), lib.randint(0, 10, (128,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def dense_train_flops(batch: int, layers, first_input_grad: bool = False) -> float:
    """FLOPs of a train step's GEMMs over linear layers ``[(in, out), ...]``: forward, the weight
    gradients, and the input gradients of every layer but the first (unless its input needs one)."""
    macs = sum(i * o for i, o in layers)
    input_grads = macs - (0 if first_input_grad else layers[0][0] * layers[0][1])
    return 2.0 * batch * (2 * macs + input_grads)


ALL = [
    Workload("per-op: add 1-element (no grad)", add_no_grad, 1.0),
    Workload("per-op: add 1-element + backward", add_with_grad_and_backward, 1.0),
    Workload("per-op: chain of 1000 muls + backward", chain_1000_backward, 0.7),
    Workload("per-op: 16x16 mul/add/exp/sum/log/mean", mixed_small_ops, 0.7),
    Workload("matmul 2048x2048 float32", matmul_2048, 1.1, flops=2.0 * 2048 ** 3),
    Workload("MLP 784-512-256-10 train step, batch 128", mlp_train_step, 1.1,
             flops=dense_train_flops(128, [(784, 512), (512, 256), (256, 10)])),
]
