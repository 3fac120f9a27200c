"""Finite-difference checks of gradients (``gradcheck``) and of second derivatives (``gradgradcheck``).

Use float64 inputs: the comparison tolerances assume double precision.
"""
from __future__ import annotations

import warnings

import numpy as np

from .engine import grad
from .grad_mode import enable_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _tuple(x):
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _diff_outputs(func, inputs):
    from .._tensor import Tensor
    outs = _tuple(func(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def _numerical_jacobians(func, inputs, diff_idx, eps):
    """For each differentiable input: array of shape (n_in, total_out) by central differences.

    ``func`` runs with grad mode as the caller has it: it may itself differentiate (gradgradcheck).
    """
    base = _diff_outputs(func, inputs)
    sizes = [o._data.size for o in base]
    jacs = []
    for i in diff_idx:
        x = inputs[i]
        if x._device.type == "cpu" and not x._data.flags.c_contiguous:
            x._data = np.ascontiguousarray(x._data)
        host = x._host()
        flat = host.reshape(-1)
        jac = np.zeros((flat.size, sum(sizes)), dtype=np.float64)
        for k in range(flat.size):
            orig = flat[k].item()
            vals = []
            for delta in (eps, -eps):
                flat[k] = orig + delta
                _write_back(x, host)
                vals.append(np.concatenate([o._host().astype(np.float64).reshape(-1)
                                            for o in _diff_outputs(func, inputs)]))
            flat[k] = orig
            _write_back(x, host)
            jac[k] = (vals[0] - vals[1]) / (2 * eps)
        jacs.append(jac)
    return jacs, base


def _write_back(x, host):
    if x._device.type != "cpu":
        x._data = x._device.backend.from_host(host, x._device.index)
    # On CPU ``host`` is x's own storage, already updated in place.


def _analytical_jacobians(func, inputs, diff_idx):
    from .._tensor import _make
    with enable_grad():
        outs = _diff_outputs(func, inputs)
    sizes = [o._data.size for o in outs]
    total = sum(sizes)
    jacs = [np.zeros((inputs[i]._data.size, total), dtype=np.float64) for i in diff_idx]
    col = 0
    for o in outs:
        for k in range(o._data.size):
            if not o._rg:
                col += 1
                continue
            onehot = np.zeros(o._data.size, dtype=o._data.dtype)
            onehot[k] = 1
            g_out = _make(o._device.backend.from_host(onehot.reshape(o._data.shape), o._device.index)
                          if o._device.type != "cpu" else onehot.reshape(o._data.shape), o._device)
            gs = grad(o, [inputs[i] for i in diff_idx], g_out, retain_graph=True, allow_unused=True)
            for j, g in enumerate(gs):
                if g is not None:
                    jacs[j][:, col] = g._host().astype(np.float64).reshape(-1)
            col += 1
    return jacs


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              fast_mode: bool = False, **_ignored) -> bool:
    """Compare the gradients autograd computes for ``func`` with central finite differences.

    >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    >>> ember.autograd.gradcheck(ember.sin, (x,))
    True
    """
    inputs = _tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff_idx:
        if inputs[i]._data.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; the check may fail "
                          "from rounding alone", stacklevel=2)
    numerical, _ = _numerical_jacobians(func, inputs, diff_idx, eps)
    analytical = _analytical_jacobians(func, inputs, diff_idx)
    for j, (n, a) in enumerate(zip(numerical, analytical)):
        if not np.allclose(a, n, rtol=rtol, atol=atol):
            diff = np.abs(a - n)
            k = np.unravel_index(np.argmax(diff), diff.shape)
            msg = (f"Jacobian mismatch for output {k[1]} (flattened, over all outputs) with respect to input "
                   f"{diff_idx[j]}, element {k[0]}:\nnumerical:{n[k]!r}\nanalytical:{a[k]!r}\n"
                   f"max abs difference {diff.max():.3e} (atol={atol}, rtol={rtol})\n"
                   f"numerical Jacobian:\n{n}\nanalytical Jacobian:\n{a}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True, **_ignored) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, v) -> grad(func(inputs), inputs, v)``."""
    from .._tensor import _make
    inputs = _tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    with enable_grad():
        outs = _diff_outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _make(_to_dev(rng.standard_normal(o._data.shape), o), o._device, True) for o in outs
        )
    else:
        grad_outputs = _tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        # Graph recording stays on even when gradcheck evaluates this under no_grad.
        with enable_grad():
            outs = _diff_outputs(func, xs)
            diff_outs = [(o, v) for o, v in zip(outs, vs) if o._rg]
            gs = grad([o for o, _ in diff_outs], [xs[i] for i in diff_idx], [v for _, v in diff_outs],
                      create_graph=True, allow_unused=True, materialize_grads=True)
        return tuple(gs)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


def _to_dev(arr, like):
    if like._device.type == "cpu":
        return arr.astype(like._data.dtype)
    return like._device.backend.from_host(arr.astype(like._data.dtype), like._device.index)
