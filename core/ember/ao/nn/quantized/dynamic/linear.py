"""``ember.ao.nn.quantized.dynamic.Linear``: int8 (or float16) weights, activations quantized per call."""
from __future__ import annotations

import numpy as np

from ..... import _dtype as dt
from .....nn.module import Module
from .....ops.creation import from_numpy, tensor
from .._packed import LinearPackedParams, load_own_state, pack_linear_weight, repr_hiding

__all__ = ["Linear"]


def input_array(x, who: str, min_dim: int) -> np.ndarray:
    """``x`` as a float32 CPU array, or PyTorch's error for what its quantized kernels refuse."""
    if x.device.type != "cpu":
        raise RuntimeError(f"{who} runs on the CPU only, got an input on {x.device}")
    if x.dtype is not dt.float32:
        raise RuntimeError(f"{who}: expected scalar type Float but found {x.dtype} (the quantized kernels take "
                           "float32 input; convert it with .float())")
    if x.dim() < min_dim:
        raise RuntimeError(f"{who}: the dimension of input tensor should be larger than or equal to {min_dim}, "
                           f"got {x.dim()}")
    return x.detach().numpy()


def default_qconfig(mod):
    """The module's ``qconfig`` (set by ``quantize_dynamic``), else Ember's per-channel default."""
    qconfig = getattr(mod, "qconfig", None)
    if qconfig is None:
        from ....quantization.qconfig import per_channel_dynamic_qconfig
        qconfig = per_channel_dynamic_qconfig
    return qconfig


class Linear(Module):
    """A dynamically quantized ``nn.Linear`` (inference only: no gradients flow through it).

    The weight is int8 with a symmetric scale per output row (or per tensor); each call quantizes the
    input to 7-bit uint8 over its whole range, multiplies exactly in integers and rescales in float32.

    >>> from ember.ao.nn.quantized.dynamic import Linear
    >>> q = Linear.from_float(ember.nn.Linear(4, 2))
    >>> q
    DynamicQuantizedLinear(in_features=4, out_features=2, dtype=ember.qint8, qscheme=ember.per_channel_affine)
    >>> q(ember.randn(3, 4)).shape
    ember.Size([3, 2])
    """

    _version = 4
    _FLOAT_MODULE = None  # set in __init__.py: nn.Linear and NonDynamicallyQuantizableLinear

    def __init__(self, in_features: int, out_features: int, bias_: bool = True, dtype=dt.qint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        # The output scale and zero point of PyTorch's static quantized Linear, kept (unused) so the
        # state-dict keys match PyTorch's.
        self.scale, self.zero_point = 1.0, 0
        self._packed_params = LinearPackedParams.zeros(out_features, in_features, bias_, dtype)

    def forward(self, x):
        arr = input_array(x, self._get_name(), 2)
        if arr.shape[-1] != self.in_features:
            raise RuntimeError(f"{self._get_name()}: input has {arr.shape[-1]} features, expected "
                               f"in_features={self.in_features}")
        return from_numpy(self._packed_params.linear(arr))

    def weight(self):
        """The weight, dequantized to float32 (PyTorch returns a quantized tensor; Ember has none)."""
        return self._packed_params.dequantized_weight()

    def bias(self):
        return self._packed_params.bias()

    def _get_name(self) -> str:
        return "DynamicQuantizedLinear"

    def extra_repr(self) -> str:
        s = f"in_features={self.in_features}, out_features={self.out_features}, dtype={self._packed_params.dtype}"
        if self._packed_params.dtype is dt.qint8:
            s += f", qscheme={self._packed_params.qscheme}"
        return s

    def __repr__(self) -> str:
        return repr_hiding(self, "_packed_params")

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        destination[prefix + "scale"] = tensor(self.scale, dtype=dt.float32)
        destination[prefix + "zero_point"] = tensor(self.zero_point, dtype=dt.int64)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False) -> None:
        got = load_own_state(self, state_dict, prefix, ("scale", "zero_point"), (), strict, missing_keys,
                             unexpected_keys)
        self.scale = float(got.get("scale", self.scale))
        self.zero_point = int(got.get("zero_point", self.zero_point))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant: bool = False) -> "Linear":
        """The quantized copy of a float ``nn.Linear``, with ``mod.qconfig``'s weight observer."""
        if type(mod) not in cls._FLOAT_MODULE:
            raise TypeError(f"nn.quantized.dynamic.Linear.from_float only works for "
                            f"{[m.__name__ for m in cls._FLOAT_MODULE]}, got {type(mod).__name__}")
        packed = pack_linear_weight(mod.weight, mod.bias, default_qconfig(mod))
        q = cls(mod.in_features, mod.out_features, mod.bias is not None, packed.dtype)
        q._packed_params = packed
        return q
