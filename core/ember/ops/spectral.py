"""Short-time Fourier transforms (``ember.stft``/``ember.istft``, also Tensor methods) and the window
functions ``hann_window``, ``hamming_window``, ``blackman_window``, ``bartlett_window``, ``kaiser_window``.

``stft`` is composed of differentiable ops: padding (an index gather), framing (``unfold``, a strided
view), the window product and ``ember.fft``; so its gradients (to the signal and to the window) come
free. ``istft`` inverts it with an overlap-add op (:class:`_OverlapAdd`, whose backward is framing,
itself differentiable) divided by the overlap-added squared window, PyTorch's least-squares inverse.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ..autograd.function import Op
from . import fft as _fft
from ._registry import Registry
from .complex import view_as_real
from .creation import ones, tensor
from .indexing import _pad_index
from .shape import cat

registry = Registry(globals())
__all__ = registry.exported   # stft/istft (functions and Tensor methods) and the windows


# ---------------------------------------------------------------------------------------
# Window functions
# ---------------------------------------------------------------------------------------
def _window(name: str, window_length: int, periodic: bool, dtype, device, requires_grad, values) -> Tensor:
    """A window from ``values(n)`` (the symmetric window of n points, float64), PyTorch's conventions:
    a periodic window of N points is the symmetric one of N + 1 without its last point."""
    d = dt.get_default_dtype() if dtype is None else dt.to_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        w = np.ones(window_length)
    else:
        n = window_length + 1 if periodic else window_length
        w = values(n)[:window_length]
    return tensor(w.astype(d.np), dtype=d, device=device, requires_grad=requires_grad)


def _cosine_sum(*coefficients):
    """``sum_k (-1)^k a_k cos(2 pi k i / (n - 1))``: hann, hamming and blackman are such sums."""
    def values(n):
        phase = 2 * np.pi * np.arange(n) / (n - 1)
        return sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return values


@registry.op
def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                requires_grad: bool = False) -> Tensor:
    """The Hann window ``0.5 - 0.5 cos(2 pi n / N)`` (periodic: N = window_length).

    >>> ember.hann_window(4)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum(0.5, 0.5))


@registry.op
def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The Hamming window ``alpha - beta cos(2 pi n / N)``.

    >>> ember.hamming_window(4)
    tensor([0.0800, 0.5400, 1.0000, 0.5400])
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(alpha, beta))


@registry.op
def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)``.

    >>> ember.blackman_window(4, dtype=ember.float64)
    tensor([-1.3878e-17,  3.4000e-01,  1.0000e+00,  3.4000e-01], dtype=ember.float64)
    """
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(0.42, 0.5, 0.08))


@registry.op
def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """The triangular Bartlett window ``1 - |2n / N - 1|``.

    >>> ember.bartlett_window(4)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n: 1 - np.abs(2 * np.arange(n) / (n - 1) - 1))


@registry.op
def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, layout=None,
                  device=None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta)``.

    >>> ember.kaiser_window(3, True, 2.0)
    tensor([0.4387, 0.9243, 0.9243])
    """
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n: np.kaiser(n, beta))


# ---------------------------------------------------------------------------------------
# Overlap-add: the adjoint of framing
# ---------------------------------------------------------------------------------------
class _OverlapAdd(Op):
    """Frames ``(B, T, n)`` added at offsets ``t * hop`` into signals ``(B, n + hop * (T - 1))``."""

    @staticmethod
    def forward(ctx, xp, frames, hop):
        ctx.hop, ctx.n = hop, frames.shape[-1]
        b, t, n = frames.shape
        length = n + hop * (t - 1)
        out = xp.zeros((b, length + hop), frames.dtype)
        # One addition per hop-wide column of the frames, not one per frame: piece k of every frame
        # lands in the hop-strided rows of a (T, hop) view of the output shifted by k * hop.
        for k in range(-(-n // hop)):
            width = min(hop, n - k * hop)
            rows = out[:, k * hop:k * hop + t * hop].reshape(b, t, hop)
            rows[:, :, :width] += frames[:, :, k * hop:k * hop + width]
            # NumPy's reshape above is a view (the slice is contiguous along the signal); an array
            # module that copied instead still gets the sums written back here.
            out[:, k * hop:k * hop + t * hop] = rows.reshape(b, t * hop)
        return out[:, :length]

    @staticmethod
    def backward(ctx, g):
        return g.unfold(-1, ctx.n, ctx.hop), None


def _overlap_add(frames: Tensor, hop: int) -> Tensor:
    return _OverlapAdd.apply(frames, hop)


# ---------------------------------------------------------------------------------------
# stft / istft
# ---------------------------------------------------------------------------------------
def _describe(name, input, **args) -> str:
    """The call as PyTorch prints it at the start of its stft/istft argument errors."""
    shape = list(input.shape)
    return f"{name}({input.type()}{shape}, " + ", ".join(f"{k}={v}" for k, v in args.items()) + ")"


def _pad_signal(x: Tensor, pad: int, mode: str) -> Tensor:
    """``x`` (B, L) padded by ``pad`` on both sides of its last dim, as ``F.pad`` pads (differentiable)."""
    length = x.shape[-1]
    if mode == "constant":
        z = x.new_zeros((x.shape[0], pad))
        return cat([z, x, z], -1)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "replicate" and pad >= length + (mode == "circular"):
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                           f"but got: padding ({pad}, {pad}) at dimension 2 of input [1, {x.shape[0]}, {length}]")
    return x.index_select(-1, tensor(_pad_index(mode, length, pad, pad), device=x.device))


_NO_WINDOW = {
    "stft": "which is known to cause spectral leakage. Other windows such as ember.hann_window or "
            "ember.hamming_window are recommended to reduce spectral leakage.",
    "istft": "Please provide the same window used by stft to make the inversion lossless.",
}


def _padded_window(window, win_length: int, n_fft: int, like: Tensor, name: str, described) -> Tensor:
    """The window centred in ``n_fft`` points (zeros around it); ones (with PyTorch's warning) when None."""
    if window is None:
        warnings.warn(f"A window was not provided. A rectangular window will be applied, {_NO_WINDOW[name]} To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=ember.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=3)
        window = ones(win_length, dtype=like.dtype.to_real(), device=like._device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{described()} : expected a 1D window tensor of size equal to win_length={win_length}, "
                           f"but got window with size {list(window.shape)}")
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = cat([window.new_zeros(left), window, window.new_zeros(n_fft - win_length - left)])
    return window


@registry.op(method=True)
def stft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided=None, return_complex=None,
         align_to_window=None) -> Tensor:
    """Short-time Fourier transform of a signal ``(L,)`` or batch ``(B, L)``: ``(B?, freq, frames)``.

    Frames of ``n_fft`` samples every ``hop_length`` (``n_fft // 4``), each multiplied by ``window``
    (``win_length`` points, centred; rectangular by default) and Fourier transformed (one-sided for a
    real signal and window). ``center`` pads ``n_fft // 2`` samples on both sides first (``pad_mode``:
    ``"reflect"``, ``"constant"``, ``"replicate"``, ``"circular"``). ``normalized`` scales by
    ``n_fft ** -0.5``. A real input needs ``return_complex`` (``False`` gives ``view_as_real`` of
    the result, deprecated as in PyTorch). ``align_to_window=True`` (with ``center=False``) starts the
    window, rather than the frame, every ``hop_length`` samples.

    >>> spec = ember.stft(ember.arange(8.0), 4, window=ember.hann_window(4), return_complex=True)
    >>> spec.shape, spec.dtype
    (ember.Size([3, 9]), ember.complex64)
    """
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    complex_in = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None and not complex_in:
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                           "require that return_complex=True in a future PyTorch release.")
    if input.ndim not in (1, 2):
        raise RuntimeError(_describe("stft", input, n_fft=n_fft) + " : expected a 1D or 2D tensor")
    x = input.unsqueeze(0) if input.ndim == 1 else input
    if center:
        x = _pad_signal(x, n_fft // 2, pad_mode)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length

    def described():
        return _describe("stft", x, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=None if window is None else f"{window.type()}{{{list(window.shape)}}}",
                         normalized=int(normalized), onesided=onesided, return_complex=int(bool(return_complex)))
    if not input.is_complex() and not input.is_floating_point():
        raise RuntimeError(f"{described()} : expected a tensor of floating point or complex values")
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{described()} : expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"{described()} : expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{described()} : expected 0 < win_length <= n_fft, but got win_length={win_length}")
    w = _padded_window(window, win_length, n_fft, x, "stft", described)
    if align_to_window and win_length < n_fft:
        # Frames whose window (not whole frame) starts every hop: zeros where the padded window is zero.
        left = (n_fft - win_length) // 2
        x = cat([x.new_zeros((x.shape[0], left)), x, x.new_zeros((x.shape[0], n_fft - win_length - left))], -1)
    frames = x.unfold(-1, n_fft, hop_length) * w           # (B, frames, n_fft): a strided view, windowed
    onesided = (not complex_in) if onesided is None else onesided
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = _fft.rfft(frames, dim=-1, norm=norm) if onesided else _fft.fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(1, 2)
    if input.ndim == 1:
        spec = spec.squeeze(0)
    if return_complex or (return_complex is None and complex_in):
        return spec
    warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                  "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
                  "still call torch.view_as_real on the complex output to recover the old return format.",
                  UserWarning, stacklevel=2)
    return view_as_real(spec)


@registry.op(method=True)
def istft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None, center: bool = True,
          normalized: bool = False, onesided=None, length=None, return_complex: bool = False) -> Tensor:
    """Inverse of :func:`stft` from its complex output ``(B?, freq, frames)``: overlap-add of the
    inverse-transformed frames times ``window``, divided by the overlap-added squared window.

    >>> x = ember.randn(64)
    >>> w = ember.hann_window(16)
    >>> y = ember.istft(ember.stft(x, 16, window=w, return_complex=True), 16, window=w, length=64)
    >>> bool((y - x).abs().max() < 1e-5)
    True
    """
    if not isinstance(input, Tensor) or not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length

    def described():
        return _describe("istft", input, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=None if window is None else f"{window.type()}{{{list(window.shape)}}}",
                         center=int(center), normalized=int(normalized), onesided=onesided, length=length,
                         return_complex=int(return_complex))
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{described()} : expected a tensor with 2 or 3 dimensions of complex dtype, "
                           f"but got {input.ndim}")
    spec = input.unsqueeze(0) if input.ndim == 2 else input
    n_bins, n_frames = spec.shape[-2], spec.shape[-1]
    onesided = (n_bins != n_fft) if onesided is None else onesided
    if onesided:
        if n_bins != n_fft // 2 + 1:
            raise RuntimeError(f"{described()} : expected the frequency dimension (3rd to the last) of the input "
                               f"tensor to match n_fft / 2 + 1 when onesided=True, but got {n_bins}")
    elif n_bins != n_fft:
        raise RuntimeError(f"{described()} : expected the frequency dimension (3rd to the last) of the input "
                           f"tensor to match n_fft when onesided=False, but got {n_bins}")
    if not (0 < hop_length <= win_length):
        raise RuntimeError(f"{described()} : expected 0 < hop_length <= win_length")
    if not (0 < win_length <= n_fft):
        raise RuntimeError(f"{described()} : expected 0 < win_length <= n_fft")
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    w = _padded_window(window, win_length, n_fft, spec, "istft", described)
    frames = spec.transpose(1, 2)                                    # (B, frames, bins)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = _fft.ifft(frames, dim=-1, norm=norm)
    else:
        if not onesided:
            frames = frames.narrow(-1, 0, n_fft // 2 + 1)
        frames = _fft.irfft(frames, n=n_fft, dim=-1, norm=norm)
    y = _overlap_add(frames * w, hop_length)
    envelope = _overlap_add((w * w).expand(1, n_frames, n_fft), hop_length)
    expected = n_fft + hop_length * (n_frames - 1)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (expected - n_fft // 2 if center else expected)
    y, envelope = y[:, start:end], envelope[:, start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError(f"{described()} window overlap add min: {float(envelope.abs().min())}")
    y = y / envelope
    if end > expected:
        warnings.warn("The length of signal is shorter than the length parameter. Result is being padded with "
                      "zeros in the tail. Please check your center and hop_length settings.", UserWarning,
                      stacklevel=2)
        y = cat([y, y.new_zeros((y.shape[0], end - expected))], -1)
    return y.squeeze(0) if input.ndim == 2 else y

