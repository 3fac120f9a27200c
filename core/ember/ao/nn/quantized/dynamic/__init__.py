"""Dynamically quantized modules (``torch.ao.nn.quantized.dynamic``): ``Linear`` and ``LSTM``."""
from .....nn.modules.linear import Linear as _FloatLinear
from .....nn.modules.rnn import LSTM as _FloatLSTM
from .....nn.modules.transformer import NonDynamicallyQuantizableLinear as _OutProj
from .linear import Linear
from .rnn import LSTM, PackedParameter

Linear._FLOAT_MODULE = (_FloatLinear, _OutProj)
LSTM._FLOAT_MODULE = (_FloatLSTM,)

__all__ = ["Linear", "LSTM", "PackedParameter"]
