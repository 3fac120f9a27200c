"""Reference values for tests/core/test_fft.py and tests/core/test_stft.py, made with real PyTorch.

Re-run from the repository root with the reference virtualenv (PyTorch installed):

    /work/refvenv/bin/python tests/core/data/make_spectral_reference.py

It writes ``spectral_reference.npz`` next to this file. Each case is an expression over ``torch``
and the stored inputs (``x`` real (4, 10), ``c`` complex (4, 10), ``y`` real (2, 64), ``w`` real (16,));
the tests evaluate the same expression with ``torch = ember``. For every case and both precisions
(float32/complex64, float64/complex128) it stores the result, its dtype, and the gradients of
``loss(result)`` (below, the same function in the tests) with respect to every input used.
``ERRORS`` stores the exception type PyTorch raises.
"""
from __future__ import annotations

import json
import pathlib
import re
import warnings

import numpy as np

rng = np.random.default_rng(1818)
INPUTS = {"x": rng.standard_normal((4, 10)), "c": rng.standard_normal((4, 10)) + 1j * rng.standard_normal((4, 10)),
          "y": rng.standard_normal((2, 64)), "w": rng.random(16) + 0.5}

FFT_CASES = [
    "torch.fft.fft(x)", "torch.fft.fft(c, n=7, norm='ortho')", "torch.fft.fft(x.t(), dim=0)",
    "torch.fft.fft(c[:, ::2], n=12, norm='forward')", "torch.fft.ifft(c)", "torch.fft.ifft(x, n=5, dim=0)",
    "torch.fft.ifft(c.t(), norm='ortho')", "torch.fft.rfft(x)", "torch.fft.rfft(x, n=7, norm='ortho')",
    "torch.fft.rfft(x.t()[::2], dim=0, norm='forward')", "torch.fft.irfft(c)", "torch.fft.irfft(c, n=9)",
    "torch.fft.irfft(c, n=4, dim=0, norm='ortho')", "torch.fft.irfft(c[:, 1::2], norm='forward')",
    "torch.fft.fft2(c)", "torch.fft.fft2(x, s=(3, 12), norm='ortho')", "torch.fft.ifft2(c.t())",
    "torch.fft.rfft2(x)", "torch.fft.rfft2(x, s=(5, 9), norm='forward')", "torch.fft.irfft2(c)",
    "torch.fft.irfft2(c, s=(4, 7), norm='ortho')", "torch.fft.fftn(c)", "torch.fft.fftn(x, s=(6,))",
    "torch.fft.ifftn(c, dim=(0,), norm='forward')", "torch.fft.rfftn(x)", "torch.fft.rfftn(x.t(), s=(8, 3))",
    "torch.fft.irfftn(c)", "torch.fft.irfftn(c, s=(3, 11), dim=(1, 0))", "torch.fft.hfft(c)",
    "torch.fft.hfft(c, n=11, norm='ortho')", "torch.fft.ihfft(x)", "torch.fft.ihfft(x, n=7, dim=0, norm='forward')",
    "torch.fft.fftshift(c)", "torch.fft.fftshift(x, dim=1)", "torch.fft.ifftshift(x[:, :9], dim=(0, 1))",
    "torch.fft.fft(x.expand(3, 4, 10), dim=1)", "torch.fft.rfft(x.to(torch.int64))",
]

ERRORS = [
    "torch.fft.fft(x, n=0)", "torch.fft.fft(x, norm='bad')", "torch.fft.rfft(c)", "torch.fft.ihfft(c)",
    "torch.fft.fftn(x, dim=(0, 0))", "torch.fft.fft(x, dim=2)", "torch.fft.fft(x.half())",
    "torch.fft.fftn(x, s=(4, 4, 4))", "torch.fft.irfft(c[:, :1])", "torch.fft.fft(x[:, :0])",
    "torch.fft.fft(x.sum())",
]

DTYPES = {"64": ("complex64", "float32"), "128": ("complex128", "float64")}


def loss(torch, out):
    """A real scalar that weighs every output element differently (so gradients are not symmetric)."""
    rv = torch.view_as_real(out.resolve_conj()) if out.is_complex() else out
    w = torch.arange(rv.numel(), dtype=rv.dtype).reshape(rv.shape).sin()
    return (rv * w).sum() + (rv * rv).sum() * 0.1


def used(expr):
    return [k for k in INPUTS if re.search(rf"\b{k}\b", expr)]


def inputs(torch, cdt, rdt, requires_grad):
    return {k: torch.tensor(np.asarray(v, dtype=cdt if np.iscomplexobj(v) else rdt), requires_grad=requires_grad)
            for k, v in INPUTS.items()}


def record(torch, cases, prefix, data, meta):
    env = {"torch": torch}
    for tag, (cdt, rdt) in DTYPES.items():
        for i, expr in enumerate(cases):
            x = inputs(torch, cdt, rdt, True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = eval(expr, env, x)
            data[f"{prefix}_out_{tag}_{i}"] = out.detach().resolve_conj().numpy()
            meta[f"{prefix}_dtype_{tag}_{i}"] = str(out.dtype).replace("torch.", "")
            if out.numel() and out.requires_grad:
                loss(torch, out).backward()
                for k in used(expr):
                    if x[k].grad is not None:
                        data[f"{prefix}_grad_{tag}_{i}_{k}"] = x[k].grad.resolve_conj().numpy()


def main(extra_cases=None):
    import torch
    data, meta = {f"in_{k}": v for k, v in INPUTS.items()}, {"fft": FFT_CASES, "errors": {}}
    record(torch, FFT_CASES, "fft", data, meta)
    for name, cases in (extra_cases or {}).items():
        meta[name] = cases
        record(torch, cases, name, data, meta)
    x = inputs(torch, "complex64", "float32", False)
    for expr in ERRORS + list((extra_cases or {}).get("errors", [])):
        try:
            eval(expr, {"torch": torch}, x)
        except Exception as e:   # noqa: BLE001 - the type is the reference
            meta["errors"][expr] = type(e).__name__
        else:
            raise AssertionError(f"PyTorch accepted {expr}")
    data["meta"] = np.array(json.dumps(meta))
    path = pathlib.Path(__file__).with_name("spectral_reference.npz")
    np.savez_compressed(path, **data)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
