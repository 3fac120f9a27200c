"""Train an MLP on scikit-learn's bundled 8x8 digits with Ember and report test accuracy.

Run with `make demo` (or `python examples/train_digits.py`). Written exactly as the PyTorch version
would be, with `ember` in place of `torch`.
"""
from __future__ import annotations

import sys
import time

import ember
from ember import nn


def load_digits_split(seed: int = 0):
    """Digits as float32 tensors in [0, 1], split 80/20 with a fixed permutation."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = ember.tensor(digits.data, dtype=ember.float32) / 16.0
    y = ember.tensor(digits.target, dtype=ember.int64)
    g = ember.Generator().manual_seed(seed)
    perm = ember.randperm(len(x), generator=g)
    n_train = int(0.8 * len(x))
    train, test = perm[:n_train], perm[n_train:]
    return x[train], y[train], x[test], y[test]


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def accuracy(model: nn.Module, x, y) -> float:
    model.eval()
    with ember.no_grad():
        pred = model(x).argmax(dim=1)
    model.train()
    return (pred == y).float().mean().item()


def train(epochs: int = 30, batch_size: int = 64, lr: float = 1e-3, seed: int = 0, verbose: bool = True) -> float:
    ember.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed)
    model = make_model()
    optimizer = ember.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(x_train)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        perm = ember.randperm(n)
        total = 0.0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if verbose:
            done = int(20 * epoch / epochs)
            sys.stdout.write(f"\repoch {epoch:3d}/{epochs} [{'#' * done}{'.' * (20 - done)}] "
                             f"loss {total / n:.4f}  test acc {accuracy(model, x_test, y_test):.3f}")
            sys.stdout.flush()
    acc = accuracy(model, x_test, y_test)
    if verbose:
        print(f"\ntest accuracy {acc:.4f} after {epochs} epochs ({time.perf_counter() - start:.1f} s)")
    return acc


if __name__ == "__main__":
    train()
