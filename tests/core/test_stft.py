"""ember.stft / ember.istft and the window functions against PyTorch (values, dtypes, gradients to the
signal and the window in both precisions, errors), gradcheck, and the round trip.

The reference is tests/core/data/make_spectral_reference.py (shared with test_fft.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from spectral_ref import META, check_case, check_error, error_cases


@pytest.mark.parametrize("tag", ["64", "128"])
@pytest.mark.parametrize("i", range(len(META["stft"])), ids=META["stft"])
def test_stft_istft_and_windows_match_pytorch(i, tag):
    check_case("stft", i, tag)


@pytest.mark.parametrize("expr", error_cases(lambda e: "torch.fft." not in e))
def test_errors_match_pytorch(expr):
    check_error(expr)


def test_gradcheck_stft_and_istft_to_signal_and_window():
    g = ember.Generator().manual_seed(3)
    x = ember.randn(2, 20, dtype=ember.float64, generator=g, requires_grad=True)
    w = (ember.rand(8, dtype=ember.float64, generator=g) + 0.5).requires_grad_()

    def stft(x, w):
        return ember.stft(x, 8, hop_length=3, window=w, return_complex=True)

    def round_trip(x, w):
        return ember.istft(stft(x, w) * 1.5j, 8, hop_length=3, window=w, length=20)
    assert gradcheck(stft, (x, w)) and gradgradcheck(stft, (x, w))
    assert gradcheck(round_trip, (x, w))


def test_istft_inverts_stft():
    x = ember.randn(3, 1000)
    for n_fft, hop in ((64, 16), (400, 160), (33, 11)):
        w = ember.hann_window(n_fft)
        y = ember.istft(ember.stft(x, n_fft, hop, window=w, return_complex=True), n_fft, hop, window=w, length=1000)
        np.testing.assert_allclose(y.numpy(), x.numpy(), atol=2e-5)


def test_warnings_as_pytorch():
    y = ember.randn(64)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"), \
            pytest.warns(UserWarning, match="A window was not provided"):
        assert ember.stft(y, 16, return_complex=False).shape == (9, 17, 2)
    spec = ember.stft(y, 16, window=ember.hann_window(16), return_complex=True)
    with pytest.warns(UserWarning, match="padded with zeros in the tail"):
        assert ember.istft(spec, 16, window=ember.hann_window(16), length=80).shape == (80,)
    for fn in (lambda: ember.stft(y, 16, return_complex=True), lambda: ember.istft(spec, 16)):
        with pytest.warns(UserWarning, match="A window was not provided"):
            fn()


def test_empty_batch():
    spec = ember.stft(ember.zeros(0, 50), 16, window=ember.hann_window(16), return_complex=True)
    # Deviation: PyTorch's reflect padding refuses an empty batch; Ember returns an empty spectrogram.
    assert spec.shape == (0, 9, 13)


def test_on_a_stand_in_accelerator(fake_cuda):
    """Device plumbing (arrays made on the host and moved: pad indices, mirror weights, windows)."""
    x = ember.randn(2, 40, dtype=ember.float64)
    w = ember.hann_window(16, dtype=ember.float64)
    xc, wc = x.to("cuda").requires_grad_(), w.to("cuda")
    spec = ember.stft(xc, 16, window=wc, return_complex=True)
    y = ember.istft(spec * 2, 16, window=wc, length=40)
    assert spec.device.type == "cuda" and y.device.type == "cuda"
    np.testing.assert_allclose(y.cpu().detach().numpy(), 2 * x.numpy(), atol=1e-12)
    ember.fft.irfft(ember.fft.rfft(xc), n=40).pow(2).sum().backward()
    np.testing.assert_allclose(xc.grad.cpu().numpy(), 2 * x.numpy(), atol=1e-10)
    assert ember.fft.fftfreq(4, device="cuda").device.type == "cuda"
    assert ember.hann_window(4, device="cuda").device.type == "cuda"
