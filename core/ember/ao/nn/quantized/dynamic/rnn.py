"""``ember.ao.nn.quantized.dynamic.LSTM``: an LSTM whose two matrix products per gate block run on
int8 weights with dynamically quantized activations.

The recurrence is PyTorch's quantized LSTM: per layer and direction, the input projection of the
whole sequence is one quantized product (its activation range taken over all time steps), then each
step quantizes the hidden state of the whole batch and adds its projection; the gate math (i, f, g,
o) is float32. Inference only: no gradients flow through it.
"""
from __future__ import annotations

import numpy as np

from ..... import _dtype as dt
from .....nn.module import Module
from .....nn.modules.container import ModuleList
from .....ops.creation import from_numpy
from .._packed import LinearPackedParams, pack_linear_weight, repr_hiding
from .linear import default_qconfig, input_array

__all__ = ["LSTM", "PackedParameter"]


class PackedParameter(Module):
    """One layer-direction's packed weights: ``ih`` (input) and ``hh`` (hidden) ``LinearPackedParams``."""

    def __init__(self, ih, hh):
        super().__init__()
        self.ih, self.hh = ih, hh


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * v) + 0.5  # no overflow warning for large |v|, unlike 1 / (1 + exp(-v))


def _run_direction(cell: PackedParameter, x: np.ndarray, h: np.ndarray, c: np.ndarray, reverse: bool):
    """One layer-direction over ``x (T, B, I)`` from ``(h, c)``; returns ``(out (T, B, H), h, c)``."""
    steps = x.shape[0]
    pre = cell.ih.linear(x)  # (T, B, 4H): the whole sequence's input projection at once
    out = np.empty(x.shape[:2] + h.shape[-1:], np.float32)
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        i, f, g, o = np.split(pre[t] + cell.hh.linear(h), 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        out[t] = h
    return out, h, c


class LSTM(Module):
    """A dynamically quantized ``nn.LSTM`` (``batch_first``, stacked, bidirectional; 3-D input).

    >>> from ember.ao.nn.quantized.dynamic import LSTM
    >>> q = LSTM.from_float(ember.nn.LSTM(4, 3, num_layers=2))
    >>> q
    DynamicQuantizedLSTM(4, 3, num_layers=2)
    >>> out, (h, c) = q(ember.randn(5, 2, 4))
    >>> out.shape, h.shape
    (ember.Size([5, 2, 3]), ember.Size([2, 2, 3]))
    """

    _FLOAT_MODULE = None  # nn.LSTM, set in __init__.py

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=dt.qint8):
        super().__init__()
        self.mode = "LSTM"
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.dtype = bidirectional, dtype
        self.version = 2
        self.training = False
        # Zero weights until from_float or load_state_dict fills them (PyTorch starts from random ones).
        self._all_weight_values = ModuleList(
            PackedParameter(LinearPackedParams.zeros(4 * hidden_size, in_size, bias, dtype),
                            LinearPackedParams.zeros(4 * hidden_size, hidden_size, bias, dtype))
            for layer in range(num_layers) for in_size in
            [input_size if layer == 0 else hidden_size * self._directions] * self._directions)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def forward(self, input, hx=None):
        who = self._get_name()
        x = input_array(input, who, 0)
        if x.ndim != 3:
            raise RuntimeError(f"{who}: input must have 3 dimensions, got {x.ndim}")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        h0, c0 = self._initial_state(hx, x.shape[1])
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(self._directions):
                k = layer * self._directions + d
                out, h, c = _run_direction(self._all_weight_values[k], x, h0[k], c0[k], reverse=d == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            x = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        return from_numpy(np.ascontiguousarray(x)), (from_numpy(np.stack(hs)), from_numpy(np.stack(cs)))

    def _initial_state(self, hx, batch: int):
        expected = (self.num_layers * self._directions, batch, self.hidden_size)
        if hx is None:
            zeros = np.zeros(expected, np.float32)
            return zeros, zeros
        if len(hx) != 2:
            raise RuntimeError(f"LSTM expects hx as a tuple (h_0, c_0), got {len(hx)} tensors")
        states = [input_array(s, self._get_name(), 3) for s in hx]
        for i, s in enumerate(states):
            if s.shape != expected:
                raise RuntimeError(f"Expected hidden[{i}] size {expected}, got {list(s.shape)}")
        return states

    def _get_name(self) -> str:
        return "DynamicQuantizedLSTM"

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def __repr__(self) -> str:
        return repr_hiding(self, "_all_weight_values")

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant: bool = False) -> "LSTM":
        """The quantized copy of a float ``nn.LSTM``, with ``mod.qconfig``'s weight observer."""
        if type(mod) not in cls._FLOAT_MODULE:
            raise TypeError(f"nn.quantized.dynamic.LSTM.from_float only works for nn.LSTM, got {type(mod).__name__}")
        qconfig = default_qconfig(mod)
        dtype = qconfig.weight().dtype
        if dtype not in (dt.qint8, dt.float16):
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        q = cls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout,
                mod.bidirectional, dtype)
        for layer in range(mod.num_layers):
            for d in range(q._directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")

                def pack(kind):
                    bias = getattr(mod, f"bias_{kind}{sfx}") if mod.bias else None
                    return pack_linear_weight(getattr(mod, f"weight_{kind}{sfx}"), bias, qconfig)
                q._all_weight_values[layer * q._directions + d] = PackedParameter(pack("ih"), pack("hh"))
        return q
