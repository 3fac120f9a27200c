"""Optimizer step alone over ResNet18's parameters (62 tensors, 11.7 M values): the per-parameter
update cost that every training step pays. As in ``workloads.py``, ``setup(lib)`` takes ``ember`` or
``torch``; gradients are fixed random tensors, so a step is exactly one ``optimizer.step()``."""
from __future__ import annotations

from workloads import Workload


def resnet18_parameter_shapes() -> list:
    """Shapes of torchvision's resnet18 parameters, in its order (conv weights, BN weight/bias, fc)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    c_in = 64
    for c, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            first_in = c_in if block == 0 else c
            shapes += [(c, first_in, 3, 3), (c,), (c,), (c, c, 3, 3), (c,), (c,)]
            if block == 0 and (stride != 1 or c_in != c):
                shapes += [(c, c_in, 1, 1), (c,), (c,)]
        c_in = c
    return shapes + [(1000, 512), (1000,)]


def _params_with_grads(lib):
    lib.manual_seed(0)
    params = []
    for shape in resnet18_parameter_shapes():
        p = lib.nn.Parameter(lib.randn(*shape) * 0.01)
        p.grad = lib.randn(*shape) * 0.001
        params.append(p)
    return params


def adam_step(lib):
    opt = lib.optim.Adam(_params_with_grads(lib), lr=1e-3)
    return opt.step


def sgd_momentum_step(lib):
    opt = lib.optim.SGD(_params_with_grads(lib), lr=0.01, momentum=0.9, weight_decay=1e-4)
    return opt.step


ALL = [
    Workload("optimizer step alone: Adam over ResNet18's parameters", adam_step, 0.7),
    Workload("optimizer step alone: SGD momentum over ResNet18's parameters", sgd_momentum_step, 0.7),
]
