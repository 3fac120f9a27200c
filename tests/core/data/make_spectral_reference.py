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
    "torch.fft.hfft2(c)", "torch.fft.hfftn(c, s=(3, 9), norm='ortho')", "torch.fft.hfftn(c.t(), dim=(1, 0))",
    "torch.fft.ihfft2(x)", "torch.fft.ihfftn(x, s=(5, 6), norm='forward')", "torch.fft.ihfftn(x.t()[:, ::2])",
]

ERRORS = [
    "torch.fft.fft(x, n=0)", "torch.fft.fft(x, norm='bad')", "torch.fft.rfft(c)", "torch.fft.ihfft(c)",
    "torch.fft.fftn(x, dim=(0, 0))", "torch.fft.fft(x, dim=2)", "torch.fft.fft(x.half())",
    "torch.fft.fftn(x, s=(4, 4, 4))", "torch.fft.irfft(c[:, :1])", "torch.fft.fft(x[:, :0])",
    "torch.fft.fft(x.sum())",
]

HANN16 = "torch.hann_window(16, dtype=y.dtype)"
STFT_CASES = [
    "torch.stft(y, 16, return_complex=True)", f"torch.stft(y, 16, hop_length=5, window={HANN16}, return_complex=True)",
    "torch.stft(y[0], 32, win_length=16, window=w, return_complex=True)",
    "torch.stft(y[:, ::2], 8, hop_length=3, center=False, return_complex=True)",
    "torch.stft(y, 16, pad_mode='constant', normalized=True, window=w, return_complex=True)",
    "torch.stft(y, 12, pad_mode='replicate', onesided=False, return_complex=True)",
    "torch.stft(y, 10, pad_mode='circular', return_complex=True)", "torch.stft(y, 16, window=w, return_complex=False)",
    "torch.stft(c[0], 4, hop_length=2, return_complex=True)", "torch.stft(y, 16, window=w * 1j + 1)",
    "y.stft(20, hop_length=7, win_length=11, window=w[:11], return_complex=True)",
    "torch.istft(torch.stft(y, 16, window=w, return_complex=True), 16, window=w)",
    f"torch.istft(torch.stft(y, 16, window={HANN16}, return_complex=True), 16, window={HANN16}, length=60)",
    "torch.istft(torch.stft(y, 16, window=w, return_complex=True, normalized=True), 16, window=w, normalized=True, "
    "length=64)",
    "torch.istft(torch.stft(y, 16, window=w, center=False, return_complex=True), 16, window=w, center=False)",
    "torch.istft(torch.stft(y, 12, window=torch.hann_window(12, dtype=y.dtype), onesided=False, return_complex=True),"
    " 12, window=torch.hann_window(12, dtype=y.dtype), onesided=False)",
    "torch.istft(torch.stft(y, 12, window=torch.hann_window(12, dtype=y.dtype), onesided=False, return_complex=True),"
    " 12, window=torch.hann_window(12, dtype=y.dtype), return_complex=True)",
    "torch.istft(torch.stft(y[1], 16, win_length=10, window=w[:10], hop_length=3, return_complex=True), 16, "
    "win_length=10, window=w[:10], hop_length=3)",
    f"torch.istft(c[:, :9].t(), 16, window={HANN16})",
    "torch.stft(y, 16, window=w, return_complex=True).istft(16, window=w, length=70)",
    "torch.hann_window(10, dtype=y.dtype)", "torch.hamming_window(7, False, dtype=y.dtype)",
    "torch.blackman_window(9, dtype=y.dtype)", "torch.bartlett_window(6, False, dtype=y.dtype)",
    "torch.kaiser_window(8, True, 5.0, dtype=y.dtype)", "torch.hann_window(1)", "torch.hann_window(0, dtype=y.dtype)",
    "torch.hamming_window(5, True, 0.6, 0.4, dtype=y.dtype)", "torch.bartlett_window(7, dtype=y.dtype)",
    "torch.stft(y.double(), 16, window=torch.bartlett_window(16), return_complex=True)",
    "torch.istft(torch.stft(y, 16, window=w, return_complex=True).to(torch.complex128), 16, window=w)",
    "torch.stft(y, 24, 5, 16, window=w, center=False, align_to_window=True, return_complex=True)",
    "torch.stft(y, 16, 5, window=w, center=False, align_to_window=True, return_complex=True)",
    "torch.stft(y, 24, 5, 16, window=w, center=False, align_to_window=False, return_complex=True)",
]

STFT_ERRORS = [
    "torch.stft(y, 16)", "torch.stft(y, 0, return_complex=True)", "torch.stft(y, 200, return_complex=True)",
    "torch.stft(y, 16, hop_length=0, return_complex=True)", "torch.stft(y, 16, win_length=20, return_complex=True)",
    "torch.stft(y, 16, window=w[:10], return_complex=True)", "torch.stft(y[None], 16, return_complex=True)",
    "torch.stft(y, 16, return_complex=True, onesided=True, window=w * 1j)",
    "torch.stft(y, 16, pad_mode='bad', return_complex=True)", "torch.stft(y, 16, return_complex=True, align_to_window=True)",
    "torch.stft(y, 16, return_complex=True, align_to_window=False)",
    "torch.istft(y, 16)", "torch.istft(c[:, :7].t(), 16)",
    "torch.istft(c[:, :9].t(), 16, window=torch.zeros(16))",
    "torch.istft(torch.stft(y, 16, return_complex=True), 16, return_complex=True)",
    "torch.hann_window(4, dtype=torch.int64)", "torch.hann_window(-1)",
    "torch.stft(y.to(torch.int64), 16, return_complex=True)", "torch.stft(y.half(), 16, return_complex=True)",
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


def main():
    import torch
    data, meta = {f"in_{k}": v for k, v in INPUTS.items()}, {"fft": FFT_CASES, "stft": STFT_CASES, "errors": {}}
    record(torch, FFT_CASES, "fft", data, meta)
    record(torch, STFT_CASES, "stft", data, meta)
    x = inputs(torch, "complex64", "float32", False)
    for expr in ERRORS + STFT_ERRORS:
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
