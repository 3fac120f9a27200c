"""Regenerate ``pow_reference.npz``: PyTorch's values and gradients of ``**`` at the edge cases
(zero, negative and non-finite bases; zero, negative and fractional exponents) used by
tests/core/test_pow_edges.py.

Needs PyTorch (the tests never import it):

    python -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0 numpy
    /tmp/ref/bin/python tests/core/data/make_pow_reference.py
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

BASES = np.array([-np.inf, -5.5, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 5.5, np.inf, np.nan])
EXPONENTS = [5.5, -5.5, 0.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 1.0, 1.5, -1.0]
SCALAR_BASES = [-5.5, -1.0, 0.0, 1.0, 2.0, 0.5]
# Incoming gradients: ones, and a vector with zeros and negatives (0 * inf must give NaN).
GRAD_OUTPUTS = {"ones": None, "mixed": np.array([0.0, 1.0, -2.0, 0.0, 3.0, 1.0, 0.0, -1.0, 2.0, 0.0, 1.0, 0.5, 1.0])}


def _grads(f, inputs, g):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = f(*ts)
    go = torch.ones_like(out) if g is None else torch.tensor(g[:out.numel()], dtype=torch.float64).reshape(out.shape)
    grads = torch.autograd.grad(out, ts, go, allow_unused=True)
    return [out.detach().numpy()] + [gr.numpy() for gr in grads]


def main():
    data = {"bases": BASES, "exponents": np.array(EXPONENTS), "scalar_bases": np.array(SCALAR_BASES)}
    for gname, g in GRAD_OUTPUTS.items():
        if g is not None:
            data[f"g_{gname}"] = g
        for i, c in enumerate(EXPONENTS):
            out, gx = _grads(lambda x: x ** c, [BASES], g)
            data[f"tensor_scalar_{gname}_{i}_out"], data[f"tensor_scalar_{gname}_{i}_grad"] = out, gx
        for i, c in enumerate(SCALAR_BASES):
            out, ge = _grads(lambda e: c ** e, [BASES], g)
            data[f"scalar_tensor_{gname}_{i}_out"], data[f"scalar_tensor_{gname}_{i}_grad"] = out, ge
        # tensor ** tensor over the full grid of bases x exponents
        a = np.repeat(BASES, len(EXPONENTS))
        b = np.tile(np.array(EXPONENTS), len(BASES))
        gg = None if g is None else np.resize(g, a.size)
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (a, b)]
        out = ts[0] ** ts[1]
        go = torch.ones_like(out) if gg is None else torch.tensor(gg)
        ga, gb = torch.autograd.grad(out, ts, go)
        data[f"tensor_tensor_{gname}_a"], data[f"tensor_tensor_{gname}_b"] = a, b
        data[f"tensor_tensor_{gname}_out"], data[f"tensor_tensor_{gname}_ga"], data[f"tensor_tensor_{gname}_gb"] = \
            out.detach().numpy(), ga.numpy(), gb.numpy()
        if gg is not None:
            data[f"tensor_tensor_{gname}_g"] = gg
    np.savez_compressed(os.path.join(HERE, "pow_reference.npz"), **data)


if __name__ == "__main__":
    main()
