"""The stored PyTorch reference of tests/core/data/make_spectral_reference.py, for test_fft.py and test_stft.py.

Each case is an expression over ``torch`` evaluated with ``torch = ember`` on the stored inputs; the
helpers check its values, dtype and the gradients of the same ``loss`` as the reference script.
"""
from __future__ import annotations

import json
import pathlib
import re
import warnings

import numpy as np

import ember

DATA = np.load(pathlib.Path(__file__).with_name("data") / "spectral_reference.npz")
META = json.loads(str(DATA["meta"]))
NAMES = ("x", "c", "y", "w")
DTYPES = {"64": (np.complex64, np.float32), "128": (np.complex128, np.float64)}
# float32 results of transforms over tens of points: PyTorch (MKL/pocketfft) and NumPy round differently.
TOL = {"64": dict(rtol=1e-4, atol=2e-5), "128": dict(rtol=1e-9, atol=1e-9)}


def loss(out):
    """Exactly the reference script's loss."""
    rv = ember.view_as_real(out) if out.is_complex() else out
    w = ember.arange(rv.numel(), dtype=rv.dtype).reshape(rv.shape).sin()
    return (rv * w).sum() + (rv * rv).sum() * 0.1


def inputs(tag, requires_grad=True):
    cdt, rdt = DTYPES[tag]
    return {k: ember.tensor(DATA[f"in_{k}"].astype(cdt if np.iscomplexobj(DATA[f"in_{k}"]) else rdt),
                            requires_grad=requires_grad) for k in NAMES}


def check_case(prefix, i, tag):
    expr = META[prefix][i]
    x = inputs(tag)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(expr, {"torch": ember}, x)
    assert out.dtype.name == META[f"{prefix}_dtype_{tag}_{i}"], expr
    want = DATA[f"{prefix}_out_{tag}_{i}"]
    assert tuple(out.shape) == want.shape, expr
    tol = TOL["64" if out.dtype in (ember.float32, ember.complex64) else tag]   # integer input: float32
    np.testing.assert_allclose(out.detach().numpy(), want, **tol, err_msg=expr)
    if not out.numel() or not out.requires_grad:
        return
    loss(out).backward()
    for k in NAMES:
        key = f"{prefix}_grad_{tag}_{i}_{k}"
        if re.search(rf"\b{k}\b", expr) and key in DATA:
            assert x[k].grad.dtype is x[k].dtype
            scale = max(1.0, float(np.abs(DATA[key]).max()))
            np.testing.assert_allclose(x[k].grad.numpy(), DATA[key], rtol=TOL[tag]["rtol"],
                                       atol=TOL[tag]["atol"] * scale, err_msg=f"{expr}: d/d{k}")


def error_cases(prefix_filter):
    return [e for e in META["errors"] if prefix_filter(e)]


def check_error(expr):
    import pytest
    with pytest.raises(Exception) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the missing-window warning some cases give before failing
        eval(expr, {"torch": ember}, inputs("64", requires_grad=False))
    assert type(info.value).__name__ == META["errors"][expr], f"{expr}: {info.value!r}"
