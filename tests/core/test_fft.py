"""ember.fft against PyTorch (values, dtypes, gradients in both precisions, errors) and gradcheck.

The reference is tests/core/data/make_spectral_reference.py (shared with test_stft.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from spectral_ref import META, check_case, check_error, error_cases

F = ember.fft


@pytest.mark.parametrize("tag", ["64", "128"])
@pytest.mark.parametrize("i", range(len(META["fft"])), ids=META["fft"])
def test_fft_matches_pytorch(i, tag):
    check_case("fft", i, tag)


@pytest.mark.parametrize("expr", error_cases(lambda e: "torch.fft." in e))
def test_fft_errors_match_pytorch(expr):
    check_error(expr)


_G = ember.Generator().manual_seed(0)
_R = ember.randn(3, 5, dtype=ember.float64, generator=_G)
_C = ember.randn(3, 5, dtype=ember.complex128, generator=_G)
GRADCHECKS = {
    "fft": (lambda x: F.fft(x, n=7, norm="ortho"), _C), "fft_real": (lambda x: F.fft(x, n=4, dim=0), _R),
    "ifft": (lambda x: F.ifft(x, norm="forward"), _C), "rfft": (lambda x: F.rfft(x), _R),
    "rfft_odd": (lambda x: F.rfft(x, n=5, dim=0, norm="ortho"), _R), "irfft": (lambda x: F.irfft(x), _C),
    "irfft_odd": (lambda x: F.irfft(x, n=7, norm="forward"), _C), "irfft_dim0": (lambda x: F.irfft(x, n=6, dim=0), _C),
    "rfft2": (lambda x: F.rfft2(x), _R), "irfft2": (lambda x: F.irfft2(x, s=(3, 5)), _C),
    "irfftn": (lambda x: F.irfftn(x), _C), "fftn": (lambda x: F.fftn(x, s=(2, 7)), _C),
    "hfft": (lambda x: F.hfft(x, n=9), _C), "ihfft": (lambda x: F.ihfft(x, norm="forward"), _R),
    "shifts": (lambda x: F.fftshift(F.ifftshift(x, 0)), _C),
    "round_trip_strided": (lambda x: F.irfft(F.rfft(x.t()[::2]), n=4), _R),
    "hfft2": (lambda x: F.hfft2(x, s=(3, 6)), _C), "ihfftn": (lambda x: F.ihfftn(x, norm="ortho"), _R),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck_and_gradgradcheck(name):
    fn, x = GRADCHECKS[name]
    x = x.detach().requires_grad_()
    assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))


def test_round_trips_and_frequencies():
    x = ember.randn(6, 9, dtype=ember.float64)
    np.testing.assert_allclose(F.irfft(F.rfft(x), n=9).numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(F.ifftn(F.fftn(x)).real.numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(F.hfft(F.ihfft(x), n=9).numpy(), x.numpy(), atol=1e-12)
    assert F.fftfreq(5, 0.5).tolist() == pytest.approx([0.0, 0.4, 0.8, -0.8, -0.4])
    assert F.rfftfreq(6, dtype=ember.float64).dtype is ember.float64 and F.rfftfreq(6).tolist() == pytest.approx(
        [0, 1 / 6, 2 / 6, 0.5])
    assert F.fftfreq(0).shape == (0,) and F.fftfreq(3, requires_grad=True).requires_grad


def test_empty_batches_are_transformed():
    # Deviation: PyTorch's MKL build raises for an empty batch; NumPy transforms it (an empty result).
    assert F.fft(ember.zeros(0, 4)).shape == (0, 4) and F.rfft(ember.zeros(0, 4)).shape == (0, 3)
