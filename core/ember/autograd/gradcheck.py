"""Finite-difference checks of gradients (``gradcheck``) and of second derivatives (``gradgradcheck``).

Use float64 (or complex128) inputs: the comparison tolerances assume double precision.

Complex inputs and outputs are checked as PyTorch checks them: each complex number is a pair of
real coordinates (real, imaginary). The numerical Jacobian perturbs the real and the imaginary part
of each input element separately; the analytical one runs backward with a grad_output of 1 (for the
real part of an output element) and of 1j (its imaginary part), and reads the complex gradient g of
an input as (Re g, Im g) = (d/dRe, d/dIm), PyTorch's convention for complex gradients.
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
    return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind in "fc"]


def _coords(arr) -> np.ndarray:
    """An array's elements as flat float64 real coordinates (complex: real and imaginary interleaved)."""
    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.dtype.kind == "c":
        return flat.astype(np.complex128).view(np.float64)
    return flat.astype(np.float64)


def _n_coords(t) -> int:
    return t._data.size * (2 if t._data.dtype.kind == "c" else 1)


def _numerical_jacobians(func, inputs, diff_idx, eps):
    """For each differentiable input: array of shape (n_in, total_out) by central differences.

    ``func`` runs with grad mode as the caller has it: it may itself differentiate (gradgradcheck).
    """
    base = _diff_outputs(func, inputs)
    sizes = [_n_coords(o) for o in base]
    jacs = []
    for i in diff_idx:
        x = inputs[i]
        if x._device.type == "cpu" and not x._data.flags.c_contiguous:
            x._data = np.ascontiguousarray(x._data)
        host = x._host()
        flat = host.reshape(-1)
        if flat.dtype.kind == "c":
            flat = flat.view(flat.real.dtype)     # perturb real and imaginary parts one at a time
        jac = np.zeros((flat.size, sum(sizes)), dtype=np.float64)
        for k in range(flat.size):
            orig = flat[k].item()
            vals = []
            for delta in (eps, -eps):
                flat[k] = orig + delta
                _write_back(x, host)
                vals.append(np.concatenate([_coords(o._host()) for o in _diff_outputs(func, inputs)]))
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
    total = sum(_n_coords(o) for o in outs)
    jacs = [np.zeros((_n_coords(inputs[i]), total), dtype=np.float64) for i in diff_idx]
    col = 0
    for o in outs:
        # A complex output element is two real outputs: its real part (grad_output 1), its imaginary part (1j).
        parts = (1, 1j) if o._data.dtype.kind == "c" else (1,)
        for k in range(o._data.size):
            for part in parts:
                if o._rg:
                    onehot = np.zeros(o._data.size, dtype=o._data.dtype)
                    onehot[k] = part
                    g_out = _make(o._device.backend.from_host(onehot.reshape(o._data.shape), o._device.index)
                                  if o._device.type != "cpu" else onehot.reshape(o._data.shape), o._device)
                    gs = grad(o, [inputs[i] for i in diff_idx], g_out, retain_graph=True, allow_unused=True)
                    for j, g in enumerate(gs):
                        if g is not None:
                            jacs[j][:, col] = _coords(g._host())
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
        if inputs[i]._data.dtype not in (np.float64, np.complex128):
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64 or complex128; the check may fail "
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
            _make(_to_dev(_random_like(rng, o), o), o._device, True) for o in outs
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


def _random_like(rng, o):
    shape = o._data.shape
    # np.asarray: a 0-d draw is a NumPy scalar, which the numerical Jacobian could not perturb in place.
    if o._data.dtype.kind == "c":
        return np.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    return np.asarray(rng.standard_normal(shape))


def _to_dev(arr, like):
    if like._device.type == "cpu":
        return arr.astype(like._data.dtype)
    return like._device.backend.from_host(arr.astype(like._data.dtype), like._device.index)
