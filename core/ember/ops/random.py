"""Random sampling: generators and seeding, random tensor factories, in-place random fills.

Every device type's backend supplies the bit generator (``backend.make_rng``: NumPy's
PCG64 on the CPU, CuPy's generator on CUDA); :class:`Generator` wraps one and adds
PyTorch's API. Values are drawn directly in the target dtype where the backend can
(float32 and float64; float16 is drawn in float32 and rounded) and on the target device.

Random values get no gradient: a sample that depends on tensors requiring grad (``normal(mean,
std)``, ``y.uniform_()`` on a non-leaf) is linked into the graph with zero gradients, as in PyTorch.
"""
from __future__ import annotations

import json
import math
import operator
import os

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _bump_version, _make
from ..autograd.function import Op, device_mismatch
from ..autograd.grad_mode import STATE
from ..backend import CPU, Device, get_backend
from ._dispatch import as_array
from .creation import _on, parse_shape, resolve_device
from ._inplace import inplace, raise_leaf_inplace
from ._registry import Registry
from .creation import zeros

registry = Registry(globals())
__all__ = registry.exported   # filled in by the @registry decorators below

_DEFAULT_SEED = 67280421310721  # PyTorch's seed for a new Generator()
_U64 = 1 << 64
_NATIVE_FLOATS = frozenset([np.dtype(np.float32), np.dtype(np.float64)])
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_UNSET = object()


# ---------------------------------------------------------------------------------------
# Generators and seeding
# ---------------------------------------------------------------------------------------
def _seed_value(seed, strict: bool) -> int:
    """A seed as an unsigned 64-bit int (negative seeds wrap, as in PyTorch)."""
    if strict:
        if isinstance(seed, (float, Tensor)) or not hasattr(seed, "__index__"):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = operator.index(seed)
    else:
        seed = int(seed)
    if not -(1 << 63) <= seed < _U64:
        raise ValueError(f"seed {seed} is out of range: a seed must fit in 64 bits (-2**63 <= seed < 2**64)")
    return seed % _U64


def _fresh_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


class Generator:
    """A random number generator for one device (PyTorch's ``torch.Generator``).

    >>> g = ember.Generator().manual_seed(0)
    >>> ember.rand(3, generator=g)          # independent of the global generator
    """

    def __init__(self, device="cpu"):
        d = resolve_device(device)
        self._device = d
        self._backend = d.backend
        self._reseed(_DEFAULT_SEED)

    def _reseed(self, seed: int) -> None:
        self._seed = seed
        with _on(self._device):
            self._rng = self._backend.make_rng(seed)

    @property
    def device(self) -> Device:
        return self._device

    def manual_seed(self, seed) -> "Generator":
        """Reset the generator to the state determined by ``seed``; returns the generator."""
        self._reseed(_seed_value(seed, strict=True))
        return self

    def seed(self) -> int:
        """Seed from OS entropy (nondeterministically) and return the seed used."""
        s = _fresh_seed()
        self._reseed(s)
        return s

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with."""
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 CPU tensor (restore it with :meth:`set_state`)."""
        bg = self._rng.bit_generator
        header = {"seed": self._seed, "device_type": self._device.type}
        raw = b""
        state = getattr(bg, "state", None)
        if isinstance(state, dict):             # NumPy-style bit generators expose their state
            header["state"] = state
        elif hasattr(bg, "_state"):             # CuPy's cuRAND generators keep it in a device buffer
            raw = self._backend.to_host(bg._state).tobytes()
            header["raw"] = len(raw)
        else:
            raise RuntimeError(f"the random generator of the {self._device.type!r} backend ({type(bg).__name__}) "
                               "does not expose its state")
        head = json.dumps(header, default=lambda o: o.tolist()).encode()
        buf = len(head).to_bytes(4, "little") + head + raw
        return _make(np.frombuffer(buf, dtype=np.uint8).copy(), CPU)

    def set_state(self, new_state: Tensor) -> "Generator":
        """Restore a state returned by :meth:`get_state` (of a generator of the same device type)."""
        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a uint8 tensor (ember.ByteTensor) as returned by get_state(), got "
                            + (f"a {new_state.dtype} tensor" if isinstance(new_state, Tensor)
                               else type(new_state).__name__))
        buf = new_state._host().tobytes()
        try:
            n = int.from_bytes(buf[:4], "little")
            header = json.loads(buf[4:4 + n].decode())
            seed, raw = header["seed"], buf[4 + n:]
            if header["device_type"] != self._device.type or len(raw) != header.get("raw", 0):
                raise ValueError(f"it is a state of a {header['device_type']!r} generator")
            bg = self._rng.bit_generator
            if "state" in header:
                if not isinstance(getattr(bg, "state", None), dict):
                    raise ValueError("the state is of a different kind of bit generator")
                bg.state = header["state"]
            else:
                with _on(self._device):
                    bg._state[...] = self._backend.from_host(
                        np.frombuffer(raw, dtype=bg._state.dtype), self._device.index)
        except Exception as e:  # malformed bytes, wrong bit generator, wrong size
            raise RuntimeError(f"invalid RNG state for a {self._device.type} generator ({e})") from None
        self._seed = seed
        return self

    def __repr__(self) -> str:
        return f"<ember.Generator(device='{self._device}') initial_seed={self._seed}>"


# The CPU generator is seeded from OS entropy at import, as PyTorch's is; others are made on first use.
default_generator = Generator("cpu")
default_generator.seed()
registry.export("Generator", "default_generator")

_device_generators: dict = {}    # Device -> Generator (default generators of non-CPU devices)
_global_seed = [None]            # the last ember.manual_seed/seed value, for generators made later
_type_seeds: dict = {}           # device type -> seed from manual_seed_all, for generators made later
_device_seeds: dict = {}         # Device -> seed from <type>.manual_seed, for generators made later


def _device_default(d: Device) -> Generator:
    """The default generator of a (resolved, non-CPU) device, made on first use.

    It is remade when the device type's backend was replaced (tests swap backends).
    """
    g = _device_generators.get(d)
    if g is None or g._backend is not d.backend:
        g = Generator(d)
        s = _device_seeds.get(d, _type_seeds.get(d.type, _global_seed[0]))
        g._reseed(_fresh_seed() if s is None else s)
        _device_generators[d] = g
    return g


def _live_device_generators(device_type=None):
    """Existing device generators whose backend is still the registered one."""
    for d, g in list(_device_generators.items()):
        try:
            live = g._backend is d.backend
        except RuntimeError:  # the device type was unregistered
            live = False
        if not live:
            del _device_generators[d]
        elif device_type is None or d.type == device_type:
            yield d, g


@registry.op
def manual_seed(seed) -> Generator:
    """Seed the CPU generator and every device's default generator (existing and future) with ``seed``.

    Returns ``ember.default_generator``.
    """
    s = _seed_value(seed, strict=False)
    _global_seed[0] = s
    _type_seeds.clear()
    _device_seeds.clear()
    default_generator._reseed(s)
    for _, g in _live_device_generators():
        g._reseed(s)
    return default_generator


@registry.op
def seed() -> int:
    """Seed all default generators from OS entropy; returns the seed."""
    s = _fresh_seed()
    manual_seed(s)
    return s


@registry.op
def initial_seed() -> int:
    """The initial seed of the CPU generator."""
    return default_generator.initial_seed()


@registry.op
def get_rng_state() -> Tensor:
    """The CPU generator's state as a uint8 tensor."""
    return default_generator.get_state()


@registry.op
def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU generator's state from :func:`get_rng_state`."""
    default_generator.set_state(new_state)


def _seed_device_generators(device_type: str, seed, all_devices: bool) -> None:
    """Seed the current (or every) device of ``device_type``; a no-op when that backend is unavailable.

    Used by ``ember.cuda.manual_seed`` / ``manual_seed_all``.
    """
    try:
        backend = get_backend(device_type)
    except RuntimeError:
        return
    if not backend.is_available():
        return
    s = _seed_value(seed, strict=False)
    if all_devices:
        _type_seeds[device_type] = s
        for d in [d for d in _device_seeds if d.type == device_type]:
            del _device_seeds[d]
        targets = [g for _, g in _live_device_generators(device_type)]
    else:
        current = Device(device_type).resolved()
        _device_seeds[current] = s
        targets = [g for d, g in _live_device_generators(device_type) if d is current]
    for g in targets:
        g._reseed(s)


def _generator_for(generator, device: Device) -> Generator:
    if generator is None:
        return default_generator if device is CPU else _device_default(device)
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    if generator._device.type != device.type:
        raise RuntimeError(f"Expected a '{device.type}' device type for generator but found "
                           f"'{generator._device.type}'")
    return generator


def _draw(generator, device: Device, fn):
    """``fn(rng, xp)`` run with the generator for ``device``; its array ends up on ``device``."""
    gen = _generator_for(generator, device)
    if device is CPU:
        return fn(gen._rng, np)
    gd = gen._device
    with _on(gd):
        arr = fn(gen._rng, gd.xp)
    return arr if gd is device else device.backend.move(arr, device.index)


# ---------------------------------------------------------------------------------------
# Samplers: fn(rng, xp, shape, npdt, out) -> array of dtype npdt (``out`` itself when given)
# ---------------------------------------------------------------------------------------
def _standard(rng, method: str, shape, npdt, out=None):
    """``rng.random`` / ``standard_normal`` / ``standard_exponential`` drawn in ``npdt``.

    ``out`` (a C-contiguous array of a native float dtype) is filled without a temporary.
    """
    f = getattr(rng, method)
    if npdt in _NATIVE_FLOATS:
        if out is not None:
            f(dtype=npdt, out=out)
            return out
        return as_array(f(size=shape, dtype=npdt))
    return as_array(f(size=shape, dtype=_F32)).astype(npdt)


def _uniform(low, high):
    def sample(rng, xp, shape, npdt, out=None):
        u = _standard(rng, "random", shape, _F32 if npdt == np.float16 else npdt, out)
        if npdt == np.float16:
            # Scale so that rounding to float16 stays below 1 (the largest float16 < 1 is 1 - 2**-11).
            u = (u * (1 - 2.0 ** -11)).astype(npdt)
        if low != 0 or high != 1:
            u *= high - low
            u += low
        return u
    return sample


def _normal(mean, std):
    def sample(rng, xp, shape, npdt, out=None):
        z = _standard(rng, "standard_normal", shape, npdt, out)
        if std != 1:
            z *= std
        if mean != 0:
            z += mean
        return z
    return sample


def _exponential(lambd):
    def sample(rng, xp, shape, npdt, out=None):
        e = _standard(rng, "standard_exponential", shape, npdt, out)
        if lambd != 1:
            e /= lambd
        return e
    return sample


def _log_normal(mean, std):
    normal_sample = _normal(mean, std)

    def sample(rng, xp, shape, npdt, out=None):
        z = normal_sample(rng, xp, shape, npdt, out)
        return xp.exp(z, out=z)
    return sample


def _cauchy(median, sigma):
    def sample(rng, xp, shape, npdt, out=None):
        u = _uniform(0, 1)(rng, xp, shape, npdt, out)   # median + sigma * tan(pi * (u - 1/2))
        u -= 0.5
        u *= math.pi
        xp.tan(u, out=u)
        if sigma != 1:
            u *= sigma
        if median != 0:
            u += median
        return u
    return sample


def _geometric(p):
    def sample(rng, xp, shape, npdt, out=None):
        return as_array(rng.geometric(p, size=shape)).astype(npdt, copy=False)
    return sample


def _integers(low, high_inclusive):
    """Uniform integers in ``[low, high_inclusive]``, drawn in the target dtype when it is an integer type."""
    def sample(rng, xp, shape, npdt, out=None):
        draw_dt = npdt if npdt.kind in "iu" else np.int64
        r = rng.integers(low, high_inclusive, size=shape, dtype=draw_dt, endpoint=True)
        return as_array(r).astype(npdt, copy=False)
    return sample


def _bernoulli(p, npdt):
    """Bernoulli(p) outcomes in ``npdt`` for a probability ``p`` (a number or an array on the target
    device), as ``(sampler, post)``: the sampler draws uniforms in the precision of ``p``, and
    ``post(u)`` compares them with ``p`` once they are on the target device."""
    if isinstance(p, (int, float)):
        pdt = npdt if npdt in _NATIVE_FLOATS else _F64
    else:
        pdt = p.dtype if p.dtype in _NATIVE_FLOATS else _F32

    def sample(rng, xp, shape, _npdt, out=None):
        return _standard(rng, "random", shape, pdt)
    return sample, lambda u: (u < p).astype(npdt, copy=False)


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------
def _dtype_name(npdt) -> str:
    return dt.FROM_NP[np.dtype(npdt)].name


def _require_float(name: str, npdt, exc=NotImplementedError) -> None:
    if npdt.kind != "f":
        raise exc(f"{name}: expected a floating-point tensor, got dtype {_dtype_name(npdt)}")


def _as_int(name: str, what: str, v) -> int:
    if isinstance(v, (float, np.floating)) or not hasattr(v, "__index__"):
        raise TypeError(f"{name}(): {what} must be an integer, got {type(v).__name__}")
    return operator.index(v)


def _int_range(name: str, low, high, npdt) -> tuple:
    """Check ``[low, high)`` for integer draws into ``npdt``; returns ``(low, high - 1)``."""
    low = _as_int(name, "'from'/low", low)
    high = _as_int(name, "'to'/high", high)
    if low >= high:
        raise RuntimeError(f"{name} expects 'from' to be less than 'to', but got from={low} >= to={high}")
    _check_int_bounds(npdt, low, high - 1)
    return low, high - 1


def _check_int_bounds(npdt, low, high_inclusive) -> None:
    if npdt.kind == "f":
        lo, hi = -np.finfo(npdt).max, np.finfo(npdt).max
    elif npdt.kind == "b":
        lo, hi = 0, 1
    else:
        lo, hi = np.iinfo(npdt).min, np.iinfo(npdt).max
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {_dtype_name(npdt)} (from={low})")
    if not lo <= high_inclusive <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_dtype_name(npdt)} (to - 1 = {high_inclusive})")
    if not (-(1 << 63) <= low and high_inclusive < (1 << 63)):
        raise ValueError(f"random integer bounds must fit in int64, got [{low}, {high_inclusive}]")


def _default_high(npdt) -> int:
    """Inclusive upper bound of ``random_()``: every integer the dtype represents exactly."""
    if npdt.kind == "f":
        return 2 ** (np.finfo(npdt).nmant + 1)
    if npdt.kind == "b":
        return 1
    return int(np.iinfo(npdt).max)


def _check_float_range(name: str, npdt, **bounds) -> None:
    top = float(np.finfo(npdt).max)
    for what, v in bounds.items():
        if not -top <= v <= top:
            raise RuntimeError(f"{name}: {what} is out of bounds for {_dtype_name(npdt)} ({what}={v})")


def _no_extra(name: str, kwargs) -> None:
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument {next(iter(kwargs))!r}")


def _size_args(name: str, args, size) -> tuple:
    if args and size is not None:
        raise TypeError(f"{name}(): size given both positionally and as a keyword")
    if not args and size is None:
        raise TypeError(f"{name}(): missing required argument 'size'")
    return parse_shape(args) if args else parse_shape((size,))


# ---------------------------------------------------------------------------------------
# Graph nodes: samples get zero gradients (fill_ passes the gradient on to its value)
# ---------------------------------------------------------------------------------------
def _zeros_for(edge, g):
    return None if edge is None else zeros(edge[2], dtype=dt.FROM_NP[edge[3]], device=g.device)


class _Sampled(Op):
    """``forward(ctx, array, *inputs)`` returns the sampled array; its inputs get zero gradients."""

    @staticmethod
    def forward(ctx, xp, out, *inputs):
        return out

    @staticmethod
    def backward(ctx, grad):
        # An edge carries its input's shape and dtype: the zeros are made from it (None: no gradient).
        return (None,) + tuple(_zeros_for(e, grad) for e in ctx.next_edges[1:])


class _Filled(_Sampled):
    """``fill_(value)`` for a 0-d ``value`` tensor: the gradient of every element flows to ``value``."""

    @staticmethod
    def backward(ctx, grad):
        return None, _zeros_for(ctx.next_edges[1], grad), grad if ctx.needs_input_grad[2] else None


def _recording(*tensors) -> bool:
    return STATE.enabled and any(isinstance(t, Tensor) and t._rg for t in tensors)


def _emit(arr, device: Device, requires_grad: bool, out, inputs=()) -> Tensor:
    """Wrap a sampled array (linked to ``inputs`` that require grad), or copy it into ``out``."""
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"out must be a Tensor, got {type(out).__name__}")
        if _recording(*inputs):
            raise RuntimeError("functions with out=... arguments don't support automatic differentiation, but "
                               "one of the arguments requires grad.")
        if out._data.shape != arr.shape:
            raise RuntimeError(f"out has shape {list(out._data.shape)} but the result has shape {list(arr.shape)} "
                               "(Ember does not resize out=)")
        if out._device is not device:
            raise device_mismatch("out=", device, out._device)
        out._data[...] = arr
        _bump_version(out)
        return out
    if _recording(*inputs):
        return _Sampled.apply(arr, *inputs)
    t = _make(arr, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---------------------------------------------------------------------------------------
# Factories
# ---------------------------------------------------------------------------------------
def _float_factory(name, sampler, args, size, generator, dtype, device, requires_grad, out,
                   complex_scale=1.0) -> Tensor:
    shape = _size_args(name, args, size)
    npdt = dt.get_default_dtype().np if dtype is None else dt.to_dtype(dtype).np
    d = resolve_device(device)
    if npdt.kind == "c":
        # Real and imaginary parts drawn side by side in the real dtype, each scaled by complex_scale
        # (randn: 1/sqrt(2), so that the complex variance E|z|^2 is 1, as in PyTorch).
        real = npdt.type(0).real.dtype
        pairs = _draw(generator, d, lambda rng, xp: sampler(rng, xp, shape + (2,), real))
        if complex_scale != 1.0:
            pairs *= complex_scale
        return _emit(pairs.view(npdt)[..., 0], d, requires_grad, out)
    _require_float(name, npdt)
    arr = _draw(generator, d, lambda rng, xp: sampler(rng, xp, shape, npdt))
    return _emit(arr, d, requires_grad, out)


@registry.op
def rand(*sizes, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kwargs) -> Tensor:
    """Uniform samples in ``[0, 1)``: ``ember.rand(2, 3)`` or ``ember.rand((2, 3))``."""
    size = kwargs.pop("size", None)
    _no_extra("rand", kwargs)
    return _float_factory("rand", _uniform(0, 1), sizes, size, generator, dtype, device,
                          requires_grad, out)


@registry.op
def randn(*sizes, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kwargs) -> Tensor:
    """Standard normal samples: ``ember.randn(2, 3)``."""
    size = kwargs.pop("size", None)
    _no_extra("randn", kwargs)
    return _float_factory("randn", _normal(0, 1), sizes, size, generator, dtype, device,
                          requires_grad, out, complex_scale=0.5 ** 0.5)


@registry.op
def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Uniform integers in ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)`` (int64)."""
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint(): missing required argument 'size'")
        size = args.pop()
    if len(args) > 2:
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(args) + 1} given)")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None:
        raise TypeError("randint(): missing required argument 'high'")
    if isinstance(size, (int, np.integer)):
        raise TypeError(f"randint(): size must be a tuple of ints, got {type(size).__name__}")
    shape = parse_shape((size,))
    npdt = dt.int64.np if dtype is None else dt.to_dtype(dtype).np
    lo, hi = _int_range("random_", 0 if low is None else low, high, npdt)
    d = resolve_device(device)
    arr = _draw(generator, d, lambda rng, xp: _integers(lo, hi)(rng, xp, shape, npdt))
    return _emit(arr, d, requires_grad, out)


@registry.op
def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 by default)."""
    n = _as_int("randperm", "n", n)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    npdt = dt.int64.np if dtype is None else dt.to_dtype(dtype).np
    if n > 0:
        _check_int_bounds(npdt, 0, n - 1)
    d = resolve_device(device)

    def sample(rng, xp):
        if hasattr(rng, "permutation"):
            return rng.permutation(n).astype(npdt, copy=False)
        # Sorting uniform keys gives a uniformly random permutation (ties have probability ~n^2 / 2^54).
        return xp.argsort(rng.random(size=(n,), dtype=_F64)).astype(npdt, copy=False)
    return _emit(_draw(generator, d, sample), d, requires_grad, out)


@registry.op
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False) -> Tensor:
    """Normal samples with the given ``mean`` and ``std``.

    Overloads (as PyTorch): ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, std=1.0)``,
    ``normal(mean_float, std_tensor)`` (the result has the broadcast shape and the dtype of the tensor
    argument, ``mean``'s when both are tensors), and ``normal(mean_float, std_float, size)``.
    """
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (mt or st):
        if size is None:
            raise TypeError("normal(): size is required when mean and std are numbers")
        _check_std("normal", std)
        return _float_factory("normal", _normal(float(mean), float(std)), (), size, generator, dtype, device,
                              requires_grad, out)
    if size is not None:
        raise TypeError("normal(): size can only be given when mean and std are numbers")
    ref = mean if mt else std
    npdt = ref._data.dtype
    _require_float("normal", npdt)
    if mt and st and mean._device is not std._device:
        raise device_mismatch("normal", mean._device, std._device)
    if st:
        if ((std._data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std("normal", std)
    try:
        shape = np.broadcast_shapes(mean._data.shape if mt else (), std._data.shape if st else ())
    except ValueError:
        raise RuntimeError(f"normal: the shapes of mean {list(mean._data.shape)} and std "
                           f"{list(std._data.shape)} cannot be broadcast together") from None
    m = mean._data.astype(npdt, copy=False) if mt else mean
    s = std._data.astype(npdt, copy=False) if st else std
    z = _draw(generator, ref._device, lambda rng, xp: _standard(rng, "standard_normal", shape, npdt))
    return _emit((z * s + m).astype(npdt, copy=False), ref._device, False, out, (mean, std))


def _check_std(name, std) -> None:
    if std < 0:
        raise RuntimeError(f"{name} expects std >= 0.0, but found std {std:g}")


def _check_probs(p_arr, message: str) -> None:
    # Written so that NaN fails the check.
    if not bool(((p_arr >= 0) & (p_arr <= 1)).all()):
        raise RuntimeError(message)


@registry.op(method=True)
def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with probabilities ``input`` (or the scalar ``p``), in ``input``'s dtype and shape."""
    npdt = input._data.dtype
    _require_float("bernoulli", npdt)
    shape = input._data.shape
    if p is None:
        _check_probs(input._data, "bernoulli expects all probabilities in input to be in [0, 1]")
    else:
        _check_p_scalar("bernoulli", p)
    sample, post = _bernoulli(input._data if p is None else float(p), npdt)
    arr = post(_draw(generator, input._device, lambda rng, xp: sample(rng, xp, shape, npdt)))
    return _emit(arr, input._device, False, out, (input,) if p is None else ())


def _check_p_scalar(name, p) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"{name}_ expects p to be in [0, 1], but got p={p:g}")


@registry.op(method=True)
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None,
                out=None) -> Tensor:
    """Category indices sampled from the (unnormalised) probability rows of a 1-D or 2-D ``input``.

    Without replacement no category repeats within a row (zero-probability categories come last).
    """
    d = input._data
    if d.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_dtype_name(d.dtype)}")
    if d.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {d.ndim} dims")
    num_samples = _as_int("multinomial", "num_samples", num_samples)
    n_cat = d.shape[-1]
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    if not replacement and num_samples > n_cat:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"({num_samples} > {n_cat})")
    xp = input._device.xp if input._device is not CPU else np
    rows = 1 if d.ndim == 1 else d.shape[0]
    p = d.reshape(rows, n_cat).astype(_F64)   # float64 keeps cumulative sums accurate
    if not bool((xp.isfinite(p) & (p >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not bool((p.sum(axis=1) > 0).all()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        u = _draw(generator, input._device, lambda rng, _: _standard(rng, "random", (rows, num_samples), _F64))
        idx = _multinomial_replacement(xp, p, u)
    else:
        # Exponential race: category i finishes at E_i / p_i; sorting the finishing times gives
        # draws without replacement in sampling order (zero-probability categories finish last).
        e = _draw(generator, input._device, lambda rng, _: _standard(rng, "standard_exponential", p.shape, _F64))
        with np.errstate(divide="ignore"):
            keys = xp.where(p > 0, e / p, np.inf)
        idx = xp.argsort(keys, axis=1)[:, :num_samples].astype(np.int64)
    return _emit(idx.reshape(d.shape[:-1] + (num_samples,)), input._device, False, out)


def _multinomial_replacement(xp, p, u):
    """Inverse-CDF draws for all rows at once: row r's CDF is shifted by r so one sorted search serves all."""
    rows, n_cat = p.shape
    cdf = xp.cumsum(p, axis=1)
    cdf /= cdf[:, -1:]
    offset = xp.arange(rows, dtype=_F64)[:, None]
    pos = xp.searchsorted((cdf + offset).ravel(), (u + offset).ravel(), side="right").reshape(u.shape)
    idx = pos - (xp.arange(rows) * n_cat)[:, None]
    # Rounding in ``u + offset`` may step past a row's end; the last category with p > 0 is the answer then.
    last = n_cat - 1 - xp.argmax(p[:, ::-1] > 0, axis=1)
    return xp.minimum(idx, last[:, None]).astype(np.int64)


@registry.op
def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson samples with rates ``input`` (same dtype and shape)."""
    d = input._data
    _require_float("poisson", d.dtype)
    if not bool((d >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    arr = _draw(generator, input._device,
                lambda rng, xp: as_array(rng.poisson(d.astype(_F64), size=d.shape)).astype(d.dtype))
    return _emit(arr, input._device, False, None, (input,))


def _like_args(input, dtype, device):
    return (input.dtype if dtype is None else dtype), (input._device if device is None else device)


@registry.op
def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """Uniform ``[0, 1)`` samples with ``input``'s shape, dtype and device."""
    dtype, device = _like_args(input, dtype, device)
    return rand(input._data.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.op
def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """Standard normal samples with ``input``'s shape, dtype and device."""
    dtype, device = _like_args(input, dtype, device)
    return randn(input._data.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.op
def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    """Integers in ``[low, high)`` with ``input``'s shape, dtype and device (``randint_like(x, high)`` too)."""
    if high is None:
        low, high = 0, low
    dtype, device = _like_args(input, dtype, device)
    return randint(low, high, input._data.shape, generator=generator, dtype=dtype, device=device,
                   requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------
# In-place methods
# ---------------------------------------------------------------------------------------
def _fill_random(self: Tensor, name: str, sampler, generator, extra=(), post=None) -> Tensor:
    """Overwrite ``self`` with ``sampler``'s values (mapped by ``post`` on ``self``'s device), drawn
    straight into its storage when possible (the path ``nn.init`` takes under ``no_grad``)."""
    rec = _recording(self, *extra)
    if rec and self._rg and self.grad_fn is None:
        raise_leaf_inplace()
    d = self._data
    shape, npdt = d.shape, d.dtype
    if not rec and post is None and d.flags.c_contiguous and npdt in _NATIVE_FLOATS \
            and (generator is None or getattr(generator, "_device", None) is self._device):
        arr = _draw(generator, self._device, lambda rng, xp: sampler(rng, xp, shape, npdt, d))
    else:
        arr = _draw(generator, self._device, lambda rng, xp: sampler(rng, xp, shape, npdt))
        if post is not None:
            arr = post(arr)
    if rec:
        return inplace(self, _Sampled.apply(arr, self, *extra), name)
    if arr is not d:
        d[...] = arr
    _bump_version(self)
    return self


@registry.op(method=True, export=False)
def uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None, **kwargs) -> Tensor:
    """Fill with uniform samples in ``[from, to)``."""
    from_ = kwargs.pop("from", from_)
    _no_extra("uniform_", kwargs)
    _require_float("uniform_", self._data.dtype)
    from_, to = float(from_), float(to)
    _check_float_range("uniform_", self._data.dtype, **{"from": from_, "to": to, "to - from": to - from_})
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_:g} > to={to:g}")
    return _fill_random(self, "uniform_", _uniform(from_, to), generator)


@registry.op(method=True, export=False)
def normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill with normal samples."""
    _require_float("normal_", self._data.dtype)
    _check_std("normal", std)
    return _fill_random(self, "normal_", _normal(float(mean), float(std)), generator)


@registry.op(method=True, export=False)
def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 0/1 samples with probability ``p`` (a number or a tensor broadcastable to ``self``)."""
    if isinstance(p, Tensor):
        _require_float("bernoulli_", p._data.dtype)
        _check_probs(p._data, "bernoulli_ expects all probabilities in p to be in [0, 1]")
        if p._device is not self._device:
            raise device_mismatch("bernoulli_", self._device, p._device)
        try:
            if np.broadcast_shapes(p._data.shape, self._data.shape) != self._data.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"bernoulli_: p of shape {list(p._data.shape)} cannot be broadcast to the "
                               f"tensor's shape {list(self._data.shape)}") from None
        sample, post = _bernoulli(p._data, self._data.dtype)
        return _fill_random(self, "bernoulli_", sample, generator, (p,), post)
    _check_p_scalar("bernoulli", p)
    sample, post = _bernoulli(float(p), self._data.dtype)
    return _fill_random(self, "bernoulli_", sample, generator, post=post)


@registry.op(method=True, export=False)
def random_(self: Tensor, from_=_UNSET, to=_UNSET, *, generator=None, **kwargs) -> Tensor:
    """Fill with integers: ``random_()`` (all the dtype represents exactly), ``random_(to)`` for ``[0, to)``,
    ``random_(from, to)`` for ``[from, to)`` (``to=None``: up to the dtype's limit)."""
    if "from" in kwargs:
        from_ = kwargs.pop("from")
        if to is _UNSET:
            to = None
    _no_extra("random_", kwargs)
    if to is _UNSET:                       # random_() or random_(to)
        from_, to = 0, (None if from_ is _UNSET else from_)
    elif from_ is _UNSET:
        from_ = 0
    npdt = self._data.dtype
    if to is None:
        low = _as_int("random_", "'from'", from_)
        _check_int_bounds(npdt, low, _default_high(npdt))
        high_incl = _default_high(npdt)
        if low > high_incl:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high_incl}")
    else:
        low, high_incl = _int_range("random_", from_, to, npdt)
    return _fill_random(self, "random_", _integers(low, high_incl), generator)


@registry.op(method=True, export=False)
def exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with exponential samples of rate ``lambd``."""
    _require_float("exponential_", self._data.dtype, RuntimeError)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _fill_random(self, "exponential_", _exponential(float(lambd)), generator)


@registry.op(method=True, export=False)
def geometric_(self: Tensor, p, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _fill_random(self, "geometric_", _geometric(float(p)), generator)


@registry.op(method=True, export=False)
def log_normal_(self: Tensor, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fill with ``exp(N(mean, std))`` samples."""
    _require_float("log_normal_", self._data.dtype)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _fill_random(self, "log_normal_", _log_normal(float(mean), float(std)), generator)


@registry.op(method=True, export=False)
def cauchy_(self: Tensor, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fill with Cauchy samples."""
    _require_float("cauchy_", self._data.dtype, RuntimeError)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    return _fill_random(self, "cauchy_", _cauchy(float(median), float(sigma)), generator)


def _fill_scalar(value, npdt):
    """``value`` converted to ``npdt`` as PyTorch does (floats truncate into integers), or an overflow error."""
    if npdt.kind == "b":
        return bool(value)
    if npdt.kind in "iu":
        if isinstance(value, float) and not math.isfinite(value):
            raise RuntimeError(f"value cannot be converted to type {_dtype_name(npdt)} without overflow")
        v = int(value)
        info = np.iinfo(npdt)
        if not info.min <= v <= info.max:
            raise RuntimeError(f"value cannot be converted to type {_dtype_name(npdt)} without overflow")
        return v
    if npdt.kind == "c":
        return complex(value)
    if isinstance(value, complex):
        raise RuntimeError(f"value cannot be converted to type {_dtype_name(npdt)} without overflow")
    v = float(value)
    if math.isfinite(v) and abs(v) > float(np.finfo(npdt).max):
        raise RuntimeError(f"value cannot be converted to type {_dtype_name(npdt)} without overflow")
    return v


@registry.op(method=True, export=False)
def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor, whose gradient then flows through)."""
    vt = None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if value._device is self._device:
            vt = value
        value = value.item()
    v = _fill_scalar(value, self._data.dtype)
    rec = _recording(self, vt)
    if rec:
        if self._rg and self.grad_fn is None:
            raise_leaf_inplace()
        xp = np if self._device is CPU else self._device.xp
        arr = xp.full(self._data.shape, v, self._data.dtype)
        node = _Filled if vt is not None else _Sampled
        return inplace(self, node.apply(arr, self, vt), "fill_")
    self._data.fill(v)
    _bump_version(self)
    return self


@registry.op(method=True, export=False)
def zero_(self: Tensor) -> Tensor:
    """Set every element to zero."""
    return fill_(self, 0)
