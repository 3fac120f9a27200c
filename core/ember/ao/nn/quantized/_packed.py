"""``LinearPackedParams``: the quantized weight of one matrix product, its scales and its bias.

PyTorch keeps these in an opaque fbgemm "packed" object; Ember keeps plain tensors and writes them to
the state dict under ``<prefix>.dtype``, ``weight`` (int8, or float16 for ``dtype=ember.float16``),
``weight_scale`` (float32, one per output row or one for the tensor), ``weight_zero_point`` (int64)
and ``bias`` (float32, absent without bias). They are Python attributes, not buffers, so
``model.double()`` or ``.half()`` leave the stored int8/float16 weights alone, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from .... import _dtype as dt
from ....nn.module import Module, _addindent
from ....ops.creation import from_numpy
from . import _kernels as K

__all__ = ["LinearPackedParams", "load_own_state", "pack_linear_weight", "repr_hiding"]


def repr_hiding(module: Module, hidden: str) -> str:
    """``repr(module)`` without its child ``hidden`` (PyTorch prints quantized modules without their packed
    weights)."""
    lines = [module.extra_repr()] + [f"({k}): " + _addindent(repr(m), 2) for k, m in module._modules.items()
                                     if k != hidden]
    if len(lines) == 1:
        return f"{module._get_name()}({lines[0]})"
    return module._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


def load_own_state(module: Module, state_dict, prefix: str, names: tuple, optional: tuple, strict: bool,
                   missing_keys: list, unexpected_keys: list) -> dict:
    """The entries ``prefix + name`` a module stores as attributes: found ones returned by name, absent
    required ones added to ``missing_keys``, keys under ``prefix`` that are neither these nor a child's
    added to ``unexpected_keys`` (the bookkeeping ``Module._load_from_state_dict`` does for tensors)."""
    found = {n: state_dict[prefix + n] for n in names + optional if prefix + n in state_dict}
    missing_keys.extend(prefix + n for n in names if n not in found)
    if strict:
        for key in state_dict:
            if key.startswith(prefix):
                head = key[len(prefix):].split(".", 1)[0]
                if head not in names and head not in optional and head not in module._modules:
                    unexpected_keys.append(key)
    return found


class LinearPackedParams(Module):
    """Quantized weight + bias of one linear map; ``linear(x)`` applies it to a float32 array.

    >>> from ember.ao.nn.quantized import LinearPackedParams
    >>> p = LinearPackedParams()
    >>> p.set_weight_bias(ember.tensor([[2, -1]], dtype=ember.int8), ember.tensor([0.5]), ember.tensor([0]),
    ...                   ember.tensor([1.0]))
    >>> p.dequantized_weight()
    tensor([[ 1.0000, -0.5000]])
    """

    _version = 1

    def __init__(self, dtype=dt.qint8):
        super().__init__()
        if dtype not in (dt.qint8, dt.float16):
            raise NotImplementedError(f"Unsupported dtype on dynamic quantized linear: {dtype} "
                                      "(ember.qint8 and ember.float16 are supported)")
        self.dtype = dtype
        self._weight = self._scale = self._zero_point = self._bias = None
        self._w_t = None

    @classmethod
    def zeros(cls, out_features: int, in_features: int, bias: bool = True, dtype=dt.qint8) -> "LinearPackedParams":
        """Zero weights (scale 1) and bias: the placeholder a quantized module holds until it is loaded."""
        packed = cls(dtype)
        weight = np.zeros((out_features, in_features), np.int8 if dtype is dt.qint8 else np.float16)
        packed.set_weight_bias(from_numpy(weight), from_numpy(np.ones(1, np.float32)),
                               from_numpy(np.zeros(1, np.int64)),
                               from_numpy(np.zeros(out_features, np.float32)) if bias else None)
        return packed

    def set_weight_bias(self, weight, scale=None, zero_point=None, bias=None) -> None:
        """Store an already-quantized ``weight`` (int8 ``(out, in)`` with ``scale``/``zero_point`` of
        shape ``(out,)`` or ``(1,)``; float16 for ``dtype=ember.float16``) and a float ``bias``."""
        w = weight.detach().cpu().numpy()
        if self.dtype is dt.qint8:
            if w.dtype != np.int8 or scale is None:
                raise TypeError(f"a qint8 packed weight is an int8 tensor with scales, got {weight.dtype}")
            zp = np.zeros(1, np.int64) if zero_point is None else zero_point.detach().cpu().numpy()
            if np.any(zp != 0):
                raise NotImplementedError("Ember's dynamic quantized kernels take symmetric int8 weights (zero "
                                          "point 0); use a *_symmetric qscheme in the weight observer")
            s = scale.detach().cpu().numpy().astype(np.float32).reshape(-1)
            if s.size not in (1, w.shape[0]):
                raise ValueError(f"weight_scale has {s.size} entries for a weight of {w.shape[0]} rows")
            self._scale, self._zero_point = s, zp.astype(np.int64).reshape(s.shape)
        elif w.dtype != np.float16:
            raise TypeError(f"a float16 packed weight is a float16 tensor, got {weight.dtype}")
        self._weight = np.ascontiguousarray(w)
        # The float32 transpose the kernel multiplies with is cached (exact: int8 and float16 fit float32).
        self._w_t = np.ascontiguousarray(self._weight.astype(np.float32).T)
        self._bias = None if bias is None else bias.detach().cpu().numpy().astype(np.float32).reshape(-1)

    @property
    def qscheme(self):
        from ...._qscheme import per_channel_affine, per_tensor_affine
        return per_tensor_affine if self._scale.size == 1 else per_channel_affine

    def linear(self, x: np.ndarray) -> np.ndarray:
        """``x (..., in) float32 -> (..., out) float32``."""
        if self.dtype is dt.float16:
            return K.linear_fp16(x, self._w_t, self._bias)
        scale = self._scale if self._scale.size > 1 else self._scale[0]
        return K.linear_dynamic(x, self._weight, scale, self._bias, self._w_t)

    def dequantized_weight(self):
        """The weight as float32 (``int8 * scale`` row by row, or the float16 values)."""
        w = self._w_t.T
        return from_numpy(np.ascontiguousarray(w if self.dtype is dt.float16 else w * self._scale[:, None]))

    def bias(self):
        return None if self._bias is None else from_numpy(self._bias.copy())

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "weight"] = from_numpy(self._weight.copy())
        if self.dtype is dt.qint8:
            destination[prefix + "weight_scale"] = from_numpy(self._scale.copy())
            destination[prefix + "weight_zero_point"] = from_numpy(self._zero_point.copy())
        if self._bias is not None:
            destination[prefix + "bias"] = from_numpy(self._bias.copy())

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False) -> None:
        saved = state_dict.get(prefix + "dtype", self.dtype)
        if saved is not self.dtype:  # the other keys differ too: this is the one error worth reporting
            error_msgs.append(f"{prefix}dtype: the checkpoint holds {saved} weights, this module {self.dtype}")
            return
        names = ("dtype", "weight") + (("weight_scale", "weight_zero_point") if self.dtype is dt.qint8 else ())
        got = load_own_state(self, state_dict, prefix, names, ("bias", "weight_scale", "weight_zero_point"),
                             strict, missing_keys, unexpected_keys)
        if any(n not in got for n in names):
            return
        try:
            self.set_weight_bias(got["weight"], got.get("weight_scale"), got.get("weight_zero_point"),
                                 got.get("bias"))
        except (TypeError, ValueError, NotImplementedError) as e:
            error_msgs.append(f"While loading {prefix}weight: {e}")

    def extra_repr(self) -> str:
        return f"dtype={self.dtype}"


def pack_linear_weight(weight, bias, qconfig) -> LinearPackedParams:
    """Quantize a float ``weight`` with ``qconfig.weight``'s observer into a ``LinearPackedParams``."""
    observer = qconfig.weight()
    packed = LinearPackedParams(observer.dtype)
    if observer.dtype is dt.float16:
        packed.set_weight_bias(weight.detach().to(dt.float16), bias=bias)
        return packed
    if not observer.qscheme.is_symmetric:
        raise NotImplementedError(f"Ember's dynamic quantized kernels take symmetric int8 weights; the weight "
                                  f"observer has qscheme={observer.qscheme} (use per_tensor_symmetric or "
                                  "per_channel_symmetric)")
    observer(weight)
    scale, zero_point = observer.calculate_qparams()
    s = scale.numpy().reshape(-1, 1)
    q = K.quantize_array(weight.detach().cpu().numpy(), s, 0, observer.quant_min, observer.quant_max, np.int8)
    packed.set_weight_bias(from_numpy(q), scale, zero_point, bias)
    return packed

