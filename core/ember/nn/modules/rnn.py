"""RNN, LSTM, GRU (multi-layer, bidirectional, packed sequences) and RNNCell, LSTMCell, GRUCell.

The layers run through the fused whole-sequence recurrence in ``nn._functional.rnn``; parameters
and state_dict keys are PyTorch's (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gates in
PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
"""
from __future__ import annotations

import math
import numbers
import warnings

from ..._tensor import Tensor
from .. import init
from .._functional import rnn as R
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _host_ints

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _empty(device, dtype):
    from ...ops.creation import empty
    return lambda *shape: empty(*shape, device=device, dtype=dtype)


def _check_sizes(input_size, hidden_size):
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")


def _no_projection(name: str, kwargs: dict) -> None:
    """RNN and GRU take no ``proj_size`` (PyTorch's error), nor other unknown keywords."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


def _uniform_reset(module: Module, hidden_size: int) -> None:
    """PyTorch's recurrent initialisation: every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for w in module.parameters():
        init.uniform_(w, -stdv, stdv)


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (``mode`` one of RNN_TANH, RNN_RELU, LSTM, GRU)."""

    _name = "RNN"

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        _check_sizes(input_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size:
            raise NotImplementedError("LSTM with proj_size > 0 is not supported by Ember")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        new = _empty(device, dtype)
        gate_size = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for d in range(dirs):
                in_size = input_size if layer == 0 else hidden_size * dirs
                suffix = "_reverse" if d == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                params = [Parameter(new(gate_size, in_size)), Parameter(new(gate_size, hidden_size))]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    params += [Parameter(new(gate_size)), Parameter(new(gate_size))]
                for n, p in zip(names, params):
                    setattr(self, n, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op (PyTorch compacts cuDNN weights here)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _layer_weights(self) -> list:
        out = []
        for names in self._all_weights:
            ws = [getattr(self, n) for n in names]
            out.append(tuple(ws) if self.bias else (ws[0], ws[1], None, None))
        return out

    # -- forward -----------------------------------------------------------------------------------
    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            x, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(b) for b in _host_ints(batch_sizes_t))
            batch = batch_sizes[0]
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{self._name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            unbatched = input.dim() == 2
            seq = input.unsqueeze(1) if unbatched else input
            if self.batch_first and not unbatched:
                seq = seq.transpose(0, 1)
            steps, batch = seq.shape[0], seq.shape[1]
            if steps == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            x = seq.reshape(steps * batch, seq.shape[2])
            batch_sizes = (batch,) * steps
            sorted_indices = unsorted_indices = None
        self._check_input(x)
        hx, cx = self._prepare_hidden(hx, batch, unbatched, sorted_indices)
        y, hn, cn = R.recurrent_layers(self.mode, x, batch_sizes, hx, cx, self._layer_weights(), self.num_layers,
                                       self.bidirectional, self.dropout, self.training)
        if packed:
            out = PackedSequence(y, batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                hn = hn.index_select(1, unsorted_indices)
                cn = cn.index_select(1, unsorted_indices) if cn is not None else None
        else:
            out = y.reshape(steps, batch, y.shape[-1])
            if unbatched:
                out, hn = out.squeeze(1), hn.squeeze(1)
                cn = cn.squeeze(1) if cn is not None else None
            elif self.batch_first:
                out = out.transpose(0, 1)
        return out, ((hn, cn) if self.mode == "LSTM" else hn)

    def _check_input(self, x: Tensor) -> None:
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). Convert "
                             f"input: input.to({w.dtype}), or convert model: model.to({x.dtype})")

    def _expected_hidden(self, batch: int) -> tuple:
        return (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)

    def _prepare_hidden(self, hx, batch: int, unbatched: bool, sorted_indices):
        """``(h0, c0)`` as ``(layers * dirs, B, H)`` tensors in the sorted batch order (or None)."""
        if hx is None:
            return None, None
        lstm = self.mode == "LSTM"
        states = list(hx) if lstm else [hx]
        if lstm and len(states) != 2:
            raise RuntimeError(f"LSTM expects hx as a tuple (h_0, c_0), got {len(states)} tensors")
        if not lstm and not isinstance(hx, Tensor):
            raise TypeError(f"{self._name}: hx should be a Tensor, got {type(hx).__name__}")
        want = 2 if unbatched else 3
        if any(s.dim() != want for s in states):
            kind = "unbatched 2-D" if unbatched else "batched 3-D"
            if lstm:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                   f"({states[0].dim()}-D, {states[1].dim()}-D) tensors")
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {states[0].dim()}-D tensor")
        if unbatched:
            states = [s.unsqueeze(1) for s in states]
        expected = self._expected_hidden(batch)
        for i, s in enumerate(states):
            if tuple(s.shape) != expected:
                what = f"hidden[{i}]" if lstm else "hidden"
                raise RuntimeError(f"Expected {what} size {expected}, got {list(s.shape)}")
            if s.dtype != self.weight_ih_l0.dtype:
                raise RuntimeError(f"Expected the hidden state to have dtype {self.weight_ih_l0.dtype}, "
                                   f"got {s.dtype}")
        if sorted_indices is not None:
            states = [s.index_select(1, sorted_indices) for s in states]
        return states[0], (states[1] if lstm else None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; input ``(T, B, I)`` (``(B, T, I)`` with batch_first), ``(T, I)``
    or a PackedSequence; returns ``(output, h_n)``.
    """

    _name = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, **kwargs):
        _no_projection("RNN", kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory; gates i, f, g, o. Returns ``(output, (h_n, c_n))``; ``hx = (h_0, c_0)``.

    ``proj_size`` is not supported (raises NotImplementedError).
    """

    _name = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gates r, z, n with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``."""

    _name = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, **kwargs):
        _no_projection("GRU", kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)


# ---- cells -----------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One recurrent step; parameters ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh``."""

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, num_chunks: int = 1, device=None,
                 dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        new = _empty(device, dtype)
        self.weight_ih = Parameter(new(num_chunks * hidden_size, input_size))
        self.weight_hh = Parameter(new(num_chunks * hidden_size, hidden_size))
        if bias:
            self.bias_ih = Parameter(new(num_chunks * hidden_size))
            self.bias_hh = Parameter(new(num_chunks * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self, self.hidden_size)

    def _batched(self, input: Tensor, states: list):
        """Check shapes; return ``(input, states, batched)`` with a batch dimension added if missing."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for s in states:
            if s is not None and s.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {s.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            states = [s.unsqueeze(0) if s is not None else None for s in states]
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        batch = input.shape[0]
        out = []
        for i, s in enumerate(states):
            if s is None:
                s = input.new_zeros((batch, self.hidden_size))
            elif s.shape[0] != batch:
                raise RuntimeError(f"Input batch size {batch} doesn't match hidden{i} batch size {s.shape[0]}")
            elif s.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, "
                                   f"expected {self.hidden_size}")
            out.append(s)
        return input, out, batched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity == "tanh":
            fn = R.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            fn = R.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x, (h,), batched = self._batched(input, [hx])
        out = fn(x, h, *self._weights())
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx = (h, c)``; returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        states = [None, None] if hx is None else list(hx)
        x, (h, c), batched = self._batched(input, states)
        h2, c2 = R.lstm_cell(x, (h, c), *self._weights())
        return (h2, c2) if batched else (h2.squeeze(0), c2.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (PyTorch's formula)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._batched(input, [hx])
        out = R.gru_cell(x, h, *self._weights())
        return out if batched else out.squeeze(0)
