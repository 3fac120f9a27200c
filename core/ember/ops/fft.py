"""The transforms of ``ember.fft`` (the public module re-exports this one): discrete Fourier transforms with ``torch.fft``'s names, arguments and dtypes.

Three differentiable ops do the work, each with its gradient written with the others, so double
backward comes for free:

- ``_C2C``: complex to complex over some dims, forward or inverse, times a scale;
- ``_R2C``: real to the one-sided (Hermitian half) spectrum along the last transformed dim;
- ``_C2R``: its inverse, a one-sided spectrum to a real signal of a given length.

With ``F`` the unnormalized DFT, ``_C2C`` computes ``s F x`` (or ``s F^H x``), so its gradient is
``s F^H g`` (or ``s F g``). ``_R2C`` keeps the first ``n//2 + 1`` bins of ``s F x`` for a real ``x``:
its gradient is the real part of ``s F^H`` applied to ``g`` padded with zeros to ``n`` bins. ``_C2R``
reads every bin but the DC one (and the Nyquist one for even ``n``) twice, as itself and as its
conjugate mirror, so its gradient is ``s`` times the one-sided transform of ``g`` with those bins
doubled. Output lengths other than the input's (``n``/``s``) are zero padding or trimming done
with ordinary differentiable ops before the transform; ``norm`` only picks the scale.

NumPy's FFT (pocketfft) computes in the input's precision; results have PyTorch's dtypes: real
float32 input gives complex64, integer input is computed as the default float dtype.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Op
from ._dispatch import _SCALAR_TYPE_NAMES
from .creation import tensor
from .shape import cat, roll

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
           "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class _C2C(Op):
    """``scale * F x`` (``inverse=False``) or ``scale * F^H x`` over ``dims`` (F: the unnormalized DFT)."""

    @staticmethod
    def forward(ctx, xp, x, dims, inverse, scale):
        ctx.dims, ctx.inverse, ctx.scale = dims, inverse, scale
        # norm="forward" on NumPy's inverse is the unnormalized sum: scaling is applied once, here.
        out = xp.fft.ifftn(x, axes=dims, norm="forward") if inverse else xp.fft.fftn(x, axes=dims)
        if scale != 1:
            out *= scale
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return _C2C.apply(g, ctx.dims, not ctx.inverse, ctx.scale), None, None, None


class _R2C(Op):
    """The first ``n // 2 + 1`` bins (along ``dims[-1]``) of ``scale * F x`` for a real ``x``."""

    @staticmethod
    def forward(ctx, xp, x, dims, scale):
        ctx.dims, ctx.scale, ctx.n = dims, scale, x.shape[dims[-1]]
        out = xp.fft.rfftn(x, axes=dims)
        if scale != 1:
            out *= scale
        return out.astype(dt.FROM_NP[x.dtype].to_complex().np, copy=False)

    @staticmethod
    def backward(ctx, g):
        full = _resize(g, ctx.dims[-1], ctx.n)           # the dropped bins had no effect: zeros
        return _C2C.apply(full, ctx.dims, True, ctx.scale).real, None, None


class _C2R(Op):
    """The real signal of length ``n`` (along ``dims[-1]``) whose one-sided spectrum is ``x``, times ``scale``."""

    @staticmethod
    def forward(ctx, xp, x, dims, n, scale):
        ctx.dims, ctx.n, ctx.scale = dims, n, scale
        sizes = [x.shape[d] for d in dims[:-1]] + [n]
        out = xp.fft.irfftn(x, s=sizes, axes=dims, norm="forward")
        if scale != 1:
            out *= scale
        return out.astype(dt.FROM_NP[x.dtype].to_real().np, copy=False)

    @staticmethod
    def backward(ctx, g):
        half = _R2C.apply(g, ctx.dims, ctx.scale)
        return half * _mirror_weights(half, ctx.dims[-1], ctx.n), None, None, None


def _mirror_weights(half: Tensor, dim: int, n: int) -> Tensor:
    """2 for the bins that stand for themselves and their conjugate mirror, 1 for DC (and Nyquist)."""
    m = half.shape[dim]
    w = np.ones(m, dtype=half._data.real.dtype)
    w[1:(n - 1) // 2 + 1] = 2
    shape = (m,) + (1,) * (half.ndim - dim - 1)
    return _make(half._device.backend.from_host(w.reshape(shape), half._device.index)
                 if half._device.type != "cpu" else w.reshape(shape), half._device)


# ---------------------------------------------------------------------------------------
# Argument handling shared by every transform
# ---------------------------------------------------------------------------------------
def _scale(norm, n: int, inverse: bool) -> float:
    """The factor ``norm`` puts on a transform of ``n`` points (``n`` the product over its dims)."""
    norm = "backward" if norm is None else norm
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    if norm == "ortho":
        return 1 / math.sqrt(n)
    # "backward" scales the inverse by 1/n, "forward" the forward transform.
    return 1 / n if (norm == "forward") != inverse else 1.0


def _as_input(name: str, input, real_only=False) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    kind = input._data.dtype.kind
    if kind == "c":
        if real_only:
            raise RuntimeError(f"{name} expects a real input tensor, but got {_torch_name(input.dtype)}")
        return input
    if input.dtype is dt.float16:
        raise RuntimeError("Unsupported dtype Half")
    if kind != "f":
        return input.to(dt.get_default_dtype())    # integers and bools are transformed as the default dtype
    return input


def _torch_name(d) -> str:
    return _SCALAR_TYPE_NAMES[d.name]


def _check_n(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _dims_and_sizes(x: Tensor, s, dim, default_dims=None):
    """PyTorch's rules for ``s``/``dim``: both given -> same length; only ``s`` -> the last len(s) dims;
    neither -> ``default_dims`` (all dims when None). Sizes of -1 (or None) keep the input's size."""
    ndim = x.ndim
    if dim is None:
        if s is not None:
            s = tuple(s)
            if len(s) > ndim:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
            dims = tuple(range(ndim - len(s), ndim))
        else:
            dims = tuple(range(ndim)) if default_dims is None else default_dims
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if ndim == 0 and dims:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = tuple(x.shape[d] for d in dims)
    else:
        s = tuple(s)
        if len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        sizes = tuple(x.shape[d] if v is None or v == -1 else int(v) for d, v in zip(dims, s))
    return dims, sizes


def _resize(x: Tensor, dim: int, n: int) -> Tensor:
    """``x`` trimmed or zero-padded to ``n`` elements along ``dim`` (differentiable)."""
    size = x.shape[dim]
    if n == size:
        return x
    if n < size:
        return x.narrow(dim, 0, n)
    pad_shape = list(x.shape)
    pad_shape[dim] = n - size
    return cat([x, x.new_zeros(pad_shape)], dim)


def _resized(x: Tensor, dims, sizes) -> Tensor:
    for d, n in zip(dims, sizes):
        x = _resize(x, d, _check_n(n))
    return x


def _c2c(name, input, s, dim, norm, inverse, default_dims=None) -> Tensor:
    x = _as_input(name, input)
    dims, sizes = _dims_and_sizes(x, s, dim, default_dims)
    x = _resized(x, dims, sizes)
    if x._data.dtype.kind != "c":
        x = x.to(x.dtype.to_complex())   # a real input's gradient is the real part (Cast's backward)
    return _C2C.apply(x, dims, inverse, _scale(norm, math.prod(sizes), inverse))


def _r2c(name, input, s, dim, norm, default_dims=None) -> Tensor:
    x = _as_input(name, input, real_only=True)
    dims, sizes = _dims_and_sizes(x, s, dim, default_dims)
    x = _resized(x, dims, sizes)
    return _R2C.apply(x, dims, _scale(norm, math.prod(sizes), False))


def _c2r(name, input, s, dim, norm, default_dims=None) -> Tensor:
    x = _as_input(name, input)
    dims, sizes = _dims_and_sizes(x, s, dim, default_dims)
    # The last size is the output length: by default 2 * (m - 1) for m one-sided bins.
    last = sizes[-1] if s is not None and s[-1] not in (None, -1) else 2 * (x.shape[dims[-1]] - 1)
    n = _check_n(last)
    x = _resized(x, dims[:-1], sizes[:-1])
    x = _resize(x, dims[-1], n // 2 + 1)
    if x._data.dtype.kind != "c":
        x = x.to(x.dtype.to_complex())
    return _C2R.apply(x, dims, n, _scale(norm, math.prod(sizes[:-1]) * n, True))


def _one(n):
    return None if n is None else (n,)


# ---------------------------------------------------------------------------------------
# torch.fft's functions
# ---------------------------------------------------------------------------------------
def fft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """One-dimensional discrete Fourier transform along ``dim`` (zero-padded or trimmed to ``n``).

    >>> ember.fft.fft(ember.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    """
    return _c2c("fft", input, _one(n), dim, norm, False)


def ifft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """Inverse of :func:`fft` (scaled by ``1/n`` with the default ``norm="backward"``).

    >>> ember.fft.ifft(ember.tensor([10.0 + 0j, -2 + 2j, -2, -2 - 2j]))
    tensor([1.+0.j, 2.+0.j, 3.+0.j, 4.+0.j])
    """
    return _c2c("ifft", input, _one(n), dim, norm, True)


def rfft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """Fourier transform of a real signal: the ``n // 2 + 1`` non-negative frequencies.

    >>> ember.fft.rfft(ember.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([10.+0.j, -2.+2.j, -2.+0.j])
    """
    return _r2c("rfft", input, _one(n), dim, norm)


def irfft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """Inverse of :func:`rfft`: a real signal of length ``n`` (default ``2 * (m - 1)``) from ``m`` bins.

    >>> ember.fft.irfft(ember.tensor([10.0 + 0j, -2 + 2j, -2]))
    tensor([1., 2., 3., 4.])
    """
    return _c2r("irfft", input, _one(n), dim, norm)


def fft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """Two-dimensional :func:`fftn` (over the last two dims by default)."""
    return _c2c("fft2", input, s, dim, norm, False)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """Two-dimensional :func:`ifftn`."""
    return _c2c("ifft2", input, s, dim, norm, True)


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """Two-dimensional :func:`rfftn`."""
    return _r2c("rfft2", input, s, dim, norm)


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """Two-dimensional :func:`irfftn`."""
    return _c2r("irfft2", input, s, dim, norm)


def fftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    """N-dimensional Fourier transform over ``dim`` (all dims, or the last ``len(s)``, by default).

    >>> ember.fft.fftn(ember.ones(2, 2))
    tensor([[4.+0.j, 0.+0.j],
            [0.+0.j, 0.+0.j]])
    """
    return _c2c("fftn", input, s, dim, norm, False)


def ifftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    """Inverse of :func:`fftn`."""
    return _c2c("ifftn", input, s, dim, norm, True)


def rfftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    """N-dimensional transform of a real input, one-sided along the last transformed dim."""
    return _r2c("rfftn", input, s, dim, norm)


def irfftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    """Inverse of :func:`rfftn`; ``s[-1]`` is the real output length along the last transformed dim."""
    return _c2r("irfftn", input, s, dim, norm)


def _hermitian(name, input, s, dim, norm, default_dims=None) -> Tensor:
    # The (real) transform of a Hermitian signal given by its half: irfft of the conjugate, scaled by the
    # opposite norm (the forward transform of a Hermitian signal is n times the inverse of its conjugate).
    x = _as_input(name, input)
    return _c2r(name, x.conj(), s, dim, _SWAPPED[_valid_norm(norm)], default_dims)


def _inverse_hermitian(name, input, s, dim, norm, default_dims=None) -> Tensor:
    return _r2c(name, input, s, dim, _SWAPPED[_valid_norm(norm)], default_dims).conj()


def hfft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """The real spectrum of a signal with Hermitian symmetry, given its first half: ``irfft(conj(input))``
    with the opposite normalization.

    >>> ember.fft.hfft(ember.tensor([1.0, 2.0, 3.0]))
    tensor([ 8., -2.,  0., -2.])
    """
    return _hermitian("hfft", input, _one(n), dim, norm)


def ihfft(input: Tensor, n=None, dim: int = -1, norm=None) -> Tensor:
    """Inverse of :func:`hfft`: the first half of the Hermitian spectrum of a real signal.

    >>> ember.fft.ihfft(ember.tensor([8.0, -4.0, 0.0, -4.0]))
    tensor([0.-0.j, 2.-0.j, 4.-0.j])
    """
    return _inverse_hermitian("ihfft", input, _one(n), dim, norm)


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """Two-dimensional :func:`hfftn`."""
    return _hermitian("hfft2", input, s, dim, norm)


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """Two-dimensional :func:`ihfftn`."""
    return _inverse_hermitian("ihfft2", input, s, dim, norm)


def hfftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    """N-dimensional :func:`hfft`: the real transform of a Hermitian signal given by its half along the
    last of ``dim``; ``s[-1]`` is the output length there."""
    return _hermitian("hfftn", input, s, dim, norm)


def ihfftn(input: Tensor, s=None, dim=None, norm=None) -> Tensor:
    """N-dimensional :func:`ihfft` (a real input; one-sided along the last of ``dim``)."""
    return _inverse_hermitian("ihfftn", input, s, dim, norm)


def _valid_norm(norm) -> str:
    norm = "backward" if norm is None else norm
    _scale(norm, 1, False)   # raises PyTorch's error for an unknown mode
    return norm


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point :func:`fft` with sample spacing ``d``.

    >>> ember.fft.fftfreq(4)
    tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _freq(k, n * d, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point :func:`rfft` (the ``n // 2 + 1`` non-negative ones).

    >>> ember.fft.rfftfreq(5, 0.1)
    tensor([0., 2., 4.])
    """
    return _freq(np.arange(0, n // 2 + 1), n * d, dtype, device, requires_grad)


def _freq(k, span, dtype, device, requires_grad) -> Tensor:
    d = dt.get_default_dtype() if dtype is None else dt.to_dtype(dtype)
    return tensor((k / span).astype(d.np), dtype=d, device=device, requires_grad=requires_grad)


def _shift(input: Tensor, dim, sign: int) -> Tensor:
    dims = tuple(range(input.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if not dims:
        return input
    shifts = tuple(sign * (input.shape[d] // 2) for d in dims)
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Move the zero frequency to the centre (a roll by ``size // 2`` along each of ``dim``, all by default).

    >>> ember.fft.fftshift(ember.fft.fftfreq(4))
    tensor([-0.5000, -0.2500,  0.0000,  0.2500])
    """
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """Inverse of :func:`fftshift` (they differ for odd sizes).

    >>> ember.fft.ifftshift(ember.arange(5))
    tensor([2, 3, 4, 0, 1])
    """
    return _shift(input, dim, -1)
