"""PyTorch-style tensor printing: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from . import _dtype as dt

_DEFAULT_INT = dt.int64
_THRESHOLD = 1000
_EDGE = 3
_LINEWIDTH = 80


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    absf = np.abs(finite.astype(np.float64))
    nonzero = absf[absf > 0]
    sci = nonzero.size > 0 and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8)
    if np.all(finite == np.round(finite)) and not sci:
        width = max(len(f"{v:.0f}") for v in finite) + 1
        return lambda v: (_special(v) or f"{v:.0f}.").rjust(width)
    if sci or (nonzero.size > 0 and nonzero.min() < 1e-4):
        fmt = lambda v: f"{v:.4e}"  # noqa: E731
    else:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
    width = max(len(fmt(v)) for v in finite)
    return lambda v: (_special(v) or fmt(v)).rjust(width)


def _special(v) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _summarize(a: np.ndarray) -> np.ndarray:
    """The elements actually printed (edges only for large tensors), for choosing a format."""
    if a.size <= _THRESHOLD or a.ndim == 0:
        return a.reshape(-1)
    parts = [a]
    for axis in range(a.ndim):
        new = []
        for p in parts:
            if p.shape[axis] > 2 * _EDGE:
                # Slices, not np.take: take copies a non-contiguous array whole first (an expanded
                # 100000 x 100000 view would ask for 37 GiB).
                lead = (slice(None),) * axis
                new.append(p[lead + (slice(0, _EDGE),)])
                new.append(p[lead + (slice(p.shape[axis] - _EDGE, None),)])
            else:
                new.append(p)
        parts = new
    return np.concatenate([p.reshape(-1) for p in parts])


def _complex_formatter(values: np.ndarray):
    """PyTorch's complex layout: real parts right-aligned by their own formatter, then the imaginary
    parts (formatted on their own, left-stripped) with an explicit sign and a ``j``."""
    real, imag = _float_formatter(values.real), _float_formatter(values.imag)

    def elem(v):
        im = imag(v.imag).lstrip()
        return real(v.real) + (im if im[0] in "+-" else "+" + im) + "j"
    return elem


def format_array(a: np.ndarray, indent: int) -> str:
    if a.dtype.kind == "c":
        elem = _complex_formatter(_summarize(a))
    elif a.dtype.kind == "f":
        elem = _float_formatter(_summarize(a))
    elif a.dtype.kind == "b":
        elem = lambda v: "True" if v else "False"  # noqa: E731
        width = 5 if a.size and not _summarize(a).all() else 4
        base = elem
        elem = lambda v: base(v).rjust(width)  # noqa: E731
    else:
        sample = _summarize(a)
        width = max((len(str(int(v))) for v in sample), default=1)
        elem = lambda v: str(int(v)).rjust(width)  # noqa: E731
    summarize = a.size > _THRESHOLD
    return _format_nd(a, elem, indent, summarize)


def _format_nd(a, elem, indent, summarize) -> str:
    if a.ndim == 0:
        return elem(a.item()).strip()
    if a.ndim == 1:
        n = a.shape[0]
        if summarize and n > 2 * _EDGE:
            items = [elem(v) for v in a[:_EDGE].tolist()] + ["..."] + [elem(v) for v in a[-_EDGE:].tolist()]
        else:
            items = [elem(v) for v in a.tolist()]
        lines, line = [], ""
        for i, s in enumerate(items):
            piece = s + ("," if i < len(items) - 1 else "")
            if line and len(line) + 1 + len(piece) + indent + 1 > _LINEWIDTH:
                lines.append(line)
                line = piece
            else:
                line = piece if not line else line + " " + piece
        lines.append(line)
        return "[" + ("\n" + " " * (indent + 1)).join(lines) + "]"
    n = a.shape[0]
    idx = list(range(n))
    if summarize and n > 2 * _EDGE:
        idx = list(range(_EDGE)) + [None] + list(range(n - _EDGE, n))
    rows = [("..." if i is None else _format_nd(a[i], elem, indent + 1, summarize)) for i in idx]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t) -> str:
    a = t._host()
    prefix = "tensor("
    suffixes = []
    if a.size == 0 and a.ndim != 1:
        body = "[]"
        suffixes.append(f"size={tuple(a.shape)}")
    else:
        body = format_array(a, len(prefix))
    d = t.dtype
    if t._device.type != "cpu":
        suffixes.insert(0, f"device='{t._device}'")
    implied = (dt.get_default_dtype(), _DEFAULT_INT, dt.bool, dt.default_complex())
    if d not in implied or a.size == 0 and d is not dt.get_default_dtype():
        suffixes.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
