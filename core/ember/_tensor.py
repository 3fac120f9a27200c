"""The Tensor: an n-dimensional array on a device, with autograd metadata.

Only what every tensor needs lives here: storage and metadata, autograd flags and hooks,
conversion to Python/NumPy, repr and pickling. Nothing here imports an operation: the
operator methods (``+``, ``sum``, ``view``, ...), the constructor ``ember.Tensor(data)`` and
``backward`` are set on the class in one place, ``ember.ops`` (its ``__init__``), once every op
family and the autograd engine have loaded. That keeps the core's imports one-way
(tests/core/test_layering.py).
"""
from __future__ import annotations

import numpy as np

from . import _dtype as dt
from .backend import CPU, Device

__all__ = ["Tensor", "Size"]

_object_new = object.__new__


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``ember.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


def _make(data, device=CPU, rg=False, grad_fn=None, out_nr=0, vc=None):
    """Wrap a device array as a Tensor without copying (the internal constructor)."""
    t = _object_new(Tensor)
    t._data = data
    t._device = device
    t._rg = rg
    t.grad = None
    t.grad_fn = grad_fn
    t._output_nr = out_nr
    t._vc = vc
    t._base = None
    t._hooks = None
    return t


def _bump_version(t) -> None:
    vc = t._vc
    if vc is None:
        t._vc = [1]
    else:
        vc[0] += 1


class Tensor:
    """An n-dimensional array on a device that can record operations for autograd.

    Create tensors with :func:`ember.tensor`, :func:`ember.zeros`, ... ; ``ember.Tensor(data)``
    and ``ember.Tensor(*sizes)`` also work, as in PyTorch (default dtype).
    """

    __slots__ = ("_data", "_device", "_rg", "grad", "grad_fn", "_output_nr", "_vc", "_base",
                 "_hooks", "__weakref__")

    # NumPy must defer to our reflected operators (np.float32(2) * t -> Tensor).
    __array_priority__ = 1000
    __array_ufunc__ = None

    # ``__new__`` (``ember.Tensor(data)``, ``ember.Tensor(*sizes)``) is ``ember.ops.creation``'s.
    def __init__(self, *args, **kwargs):
        pass

    # ---- metadata ------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> dt.dtype:
        return dt.FROM_NP[self._data.dtype]

    @property
    def device(self) -> Device:
        return self._device

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim: int | None = None):
        """Strides in elements (NumPy's byte strides divided by the item size). An empty tensor reports the
        contiguous strides PyTorch gives it (NumPy reports zeros there)."""
        if self._data.size == 0:
            st, step = [], 1
            for n in reversed(self._data.shape):
                st.append(step)
                step *= max(n, 1)
            st = tuple(reversed(st))
        else:
            st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    def get_device(self) -> int:
        return -1 if self._device.type == "cpu" else self._device.index

    def data_ptr(self) -> int:
        d = self._data
        return d.ctypes.data if isinstance(d, np.ndarray) else int(d.data.ptr)

    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc[0]

    # ---- autograd metadata ---------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (leaf tensors of floating-point or complex dtype only)."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients (got {self.dtype})"
            )
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's storage, detached from autograd."""
        t = _make(self._data, self._device)
        t._vc = self._vc
        return t

    @data.setter
    def data(self, other: "Tensor") -> None:
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(other).__name__}")
        self._data = other._data
        self._device = other._device

    @property
    def retains_grad(self) -> bool:
        return any(getattr(h, "_retains", False) for h in self._hooks_list())

    def _hooks_list(self):
        if self.grad_fn is None:
            return self._hooks or []
        pre = self.grad_fn._pre_hooks or {}
        return pre.get(self._output_nr, [])

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement.

        Returns a handle with ``remove()``.
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            self.grad_fn._add_pre_hook(self._output_nr, hook)
            return _RemovableHandle(self.grad_fn._pre_hooks[self._output_nr], hook)
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def share_memory_(self) -> "Tensor":
        """Move this tensor's data into shared memory (no-op if already there), so processes forked
        later, or given it through ``ember.multiprocessing``, update the same values. Returns ``self``.

        >>> t = ember.zeros(3).share_memory_()
        >>> t.is_shared()
        True
        """
        if self._device.type != "cpu":
            return self    # as PyTorch: device memory is shared through its own IPC, nothing to do here
        from . import _shared_memory
        if _shared_memory.segment_of(self._data) is None:
            self._data = _shared_memory.share(self._data)
        return self

    def is_shared(self) -> bool:
        """Whether the data lives in shared memory (:meth:`share_memory_`)."""
        from . import _shared_memory
        return self._device.type == "cpu" and _shared_memory.segment_of(self._data) is not None

    def detach(self) -> "Tensor":
        """A tensor sharing storage with this one, outside the autograd graph."""
        t = _make(self._data, self._device)
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._rg = False
        return self

    # ---- conversion to Python / NumPy ----------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        d = self._data
        if d.size != 1:
            raise RuntimeError(f"a Tensor with {d.size} elements cannot be converted to Scalar")
        return d.item() if self._device is CPU else self._host().item()

    def tolist(self):
        return self._host().tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array; shares memory on CPU (like PyTorch)."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to copy "
                    "the tensor to host memory first."
                )
            return self._host()
        return self._data

    def _host(self) -> np.ndarray:
        if self._device is CPU:
            return self._data
        return self._device.backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self._host()
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {'no' if self._data.size == 0 else 'more than one'} values is ambiguous"
            )
        return bool(self.item())

    def __float__(self) -> float:
        value = self.item()
        if type(value) is complex:
            raise RuntimeError("value cannot be converted to type double without overflow")   # PyTorch's words
        return float(value)

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __repr__(self) -> str:
        from ._format import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        # Pickling (e.g. to DataLoader worker processes) carries data, dtype, device and requires_grad.
        return (_rebuild, (self._host(), str(self._device), self._rg))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol")
        t = _make(self._data.copy(), self._device, self._rg)
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t


def _rebuild(array, device, requires_grad):
    dev = Device(device)
    t = _make(array if dev is CPU else dev.backend.from_host(array, dev.index), dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


class _RemovableHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dimension index, with PyTorch's error message."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
