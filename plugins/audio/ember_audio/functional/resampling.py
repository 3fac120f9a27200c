"""Band-limited resampling with a windowed-sinc kernel (torchaudio's ``resample`` and ``speed``).

The kernel holds one row per output phase: the ratio ``orig/new`` is reduced by its gcd, so an output
period of ``new`` samples reads one input period of ``orig`` samples and the whole resampling is a single
strided ``conv1d`` (stride ``orig``, ``new`` output channels) whose channels are then interleaved.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import ember
import ember.nn.functional as F

__all__ = ["resample", "speed"]

_METHODS = ("sinc_interp_hann", "sinc_interp_kaiser")
_OLD_METHOD_NAMES = {"sinc_interpolation": "sinc_interp_hann", "kaiser_window": "sinc_interp_kaiser"}
# torchaudio's default Kaiser beta (the value that matches librosa's "kaiser_best")
_DEFAULT_BETA = 14.769656459379492


def _check_method(resampling_method: str) -> str:
    if resampling_method in _OLD_METHOD_NAMES:
        new = _OLD_METHOD_NAMES[resampling_method]
        warnings.warn(f'"{resampling_method}" resampling method name is being deprecated and replaced by '
                      f'"{new}" in the next release. The default behavior remains unchanged.', stacklevel=4)
        return new
    if resampling_method not in _METHODS:
        raise ValueError(f"Invalid resampling method: {resampling_method} (expected one of {', '.join(_METHODS)})")
    return resampling_method


def _check_positive(orig_freq, new_freq) -> None:
    if orig_freq <= 0 or new_freq <= 0:
        raise ValueError("Original frequency and desired frequency should be positive "
                         f"(got {orig_freq} and {new_freq})")


def _reduced(orig_freq, new_freq) -> tuple:
    """``(orig, new)`` divided by their gcd; the frequencies must be whole numbers."""
    if int(orig_freq) != orig_freq or int(new_freq) != new_freq:
        raise ValueError(f"Frequencies must be whole numbers (got {orig_freq} and {new_freq}); scale both to "
                         "integers with the same ratio, e.g. orig_freq=8, new_freq=1 for 44100 -> 5512.5")
    gcd = math.gcd(int(orig_freq), int(new_freq))
    return int(orig_freq) // gcd, int(new_freq) // gcd


def _window(t, lowpass_filter_width: int, method: str, beta, dtype):
    """The taper over the sinc's support, ``t`` in units of the lowpass's zero crossings."""
    if method == "sinc_interp_hann":
        return np.cos(t * (math.pi / lowpass_filter_width / 2)) ** 2
    # torchaudio evaluates beta and the normaliser I0(beta) in float32 whatever the kernel's dtype
    beta32 = np.float32(_DEFAULT_BETA if beta is None else beta)
    arg = (beta32 * np.sqrt(1 - (t / lowpass_filter_width) ** 2)).astype(dtype)
    return np.i0(arg).astype(dtype) / np.float32(np.i0(np.float64(beta32)))


def sinc_resample_kernel(orig: int, new: int, lowpass_filter_width: int = 6, rolloff: float = 0.99,
                         resampling_method: str = "sinc_interp_hann", beta=None, dtype=np.float64,
                         phase_dtype=None):
    """The ``(new, 1, 2 * width + orig)`` NumPy kernel and ``width`` for a reduced ratio ``orig -> new``.

    ``phase_dtype`` is the dtype of the output phases ``j / new`` (``dtype`` by default): torchaudio's
    ``Resample`` builds a float64 kernel from float32 phases, and this reproduces it.

    >>> k, width = sinc_resample_kernel(3, 2)
    >>> k.shape, width
    ((2, 1, 23), 10)
    """
    if lowpass_filter_width <= 0:
        raise ValueError(f"Low pass filter width should be positive (got {lowpass_filter_width})")
    base_freq = min(orig, new) * rolloff  # the cutoff, a little below the lower Nyquist
    width = math.ceil(lowpass_filter_width * orig / base_freq)
    idx = np.arange(-width, width + orig, dtype=dtype) / dtype(orig)
    # phase j of the output sits j/new input periods after the frame start
    phase_dtype = phase_dtype or dtype
    phases = (np.arange(0, -new, -1, dtype=phase_dtype) / phase_dtype(new)).astype(dtype)
    t = phases[:, None, None] + idx[None, None]
    t = np.clip(t * dtype(base_freq), -lowpass_filter_width, lowpass_filter_width).astype(dtype)
    window = _window(t, lowpass_filter_width, resampling_method, beta, dtype)
    t = t * dtype(math.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        sinc = np.where(t == 0, dtype(1.0), np.sin(t) / t)
    return (sinc * (window * dtype(base_freq / orig))).astype(dtype), width


def _kernel_tensor(orig, new, lowpass_filter_width, rolloff, resampling_method, beta, dtype, device,
                   phase_dtype=None):
    np_dtype = np.float32 if dtype == ember.float32 else np.float64
    kernel, width = sinc_resample_kernel(orig, new, lowpass_filter_width, rolloff,
                                         _check_method(resampling_method), beta, np_dtype, phase_dtype)
    return ember.tensor(kernel, dtype=dtype, device=device), width


def apply_resample_kernel(waveform, orig: int, new: int, kernel, width: int):
    """Resample ``waveform`` (..., time) with a kernel from :func:`sinc_resample_kernel` (as a tensor).

    >>> k, width = sinc_resample_kernel(2, 1)
    >>> apply_resample_kernel(ember.ones(3, 40), 2, 1, ember.tensor(k, dtype=ember.float32), width).shape
    ember.Size([3, 20])
    """
    if not waveform.is_floating_point():
        raise TypeError(f"Expected floating point type for waveform tensor, but received {waveform.dtype}.")
    shape = waveform.shape
    length = shape[-1]
    flat = waveform.reshape(math.prod(shape[:-1]), length)
    padded = F.pad(flat, (width, width + orig))
    out = F.conv1d(padded[:, None], kernel.to(flat.dtype), stride=orig)  # (batch, new phases, frames)
    out = out.transpose(1, 2).reshape(flat.shape[0], out.shape[1] * out.shape[2])
    # torchaudio rounds the target length through a float32 tensor before the ceiling
    target = math.ceil(np.float32(new * length / orig))
    return out[:, :target].reshape(*shape[:-1], min(target, out.shape[1]))


def resample(waveform, orig_freq: int, new_freq: int, lowpass_filter_width: int = 6, rolloff: float = 0.99,
             resampling_method: str = "sinc_interp_hann", beta=None):
    """Resample ``waveform`` (..., time) from ``orig_freq`` to ``new_freq`` by band-limited interpolation.

    The kernel is built in the waveform's dtype each call; :class:`ember_audio.transforms.Resample`
    builds it once.

    >>> import ember_audio.functional as AF
    >>> x = ember.sin(ember.arange(441, dtype=ember.float32) * 0.05)
    >>> AF.resample(x, 44100, 16000).shape
    ember.Size([160])
    """
    _check_positive(orig_freq, new_freq)
    if orig_freq == new_freq:
        return waveform
    orig, new = _reduced(orig_freq, new_freq)
    kernel, width = _kernel_tensor(orig, new, lowpass_filter_width, rolloff, resampling_method, beta,
                                   waveform.dtype, waveform.device)
    return apply_resample_kernel(waveform, orig, new, kernel, width)


def speed_ratio(orig_freq: int, factor: float) -> tuple:
    """The reduced ``(source, target)`` rates that play audio at ``orig_freq`` ``factor`` times faster.

    >>> speed_ratio(16000, 1.1)
    (11, 10)
    """
    source, target = int(factor * orig_freq), int(orig_freq)
    gcd = math.gcd(source, target)
    return source // gcd, target // gcd


def scaled_lengths(lengths, source: int, target: int):
    """Valid lengths after resampling ``source -> target`` (``None`` stays ``None``).

    >>> scaled_lengths(ember.tensor([100, 35]), 11, 10)
    tensor([91, 32])
    """
    if lengths is None:
        return None
    return ember.ceil(lengths * target / source).to(lengths.dtype)


def speed(waveform, orig_freq: int, factor: float, lengths=None):
    """Speed ``waveform`` up by ``factor`` (pitch moves with it); returns ``(waveform, lengths)``.

    >>> import ember_audio.functional as AF
    >>> out, lengths = AF.speed(ember.zeros(2, 1000), 16000, 1.25, ember.tensor([1000, 800]))
    >>> out.shape, lengths
    (ember.Size([2, 800]), tensor([800, 640]))
    """
    source, target = speed_ratio(orig_freq, factor)
    return resample(waveform, source, target), scaled_lengths(lengths, source, target)
