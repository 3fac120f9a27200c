"""Sequence workloads: an LSTM and a Transformer encoder layer training step. As in ``workloads.py``,
``setup(lib)`` takes ``ember`` or ``torch`` and the code is identical for both.

Each step is ``zero_grad``, forward, ``loss.backward()`` and an SGD (momentum 0.9) update; the loss is
a linear head on every output step followed by the mean squared error against a fixed random target.
"""
from __future__ import annotations

from workloads import Workload

# LSTM(64->128), batch 32 x 50 steps: the gate GEMMs [x, h] (192) -> 4 * 128 per step; a train step
# runs them forward, for the weight gradients and for the input/state gradients.
LSTM_FLOPS = 3 * 50 * 2.0 * 32 * (64 + 128) * 4 * 128
# TransformerEncoderLayer(128, 4, 512) on 32 x 64 tokens: QKV, attention scores and mix, output
# projection, feed-forward; backward twice the forward.
_TOKENS, _D, _L = 32 * 64, 128, 64
TRANSFORMER_FLOPS = 3 * 2.0 * (_TOKENS * _D * 3 * _D + 2 * _TOKENS * _L * _D + _TOKENS * _D * _D
                               + 2 * _TOKENS * _D * 512)


def _train_step(lib, body, x, target_features: int):
    """A step of SGD on ``mse(head(body(x)), target)`` (body: a module returning (B, T, F))."""
    nn = lib.nn
    feats = body(x).shape[-1]
    head = nn.Linear(feats, target_features)
    params = list(body.parameters()) + list(head.parameters())
    opt = lib.optim.SGD(params, lr=0.01, momentum=0.9)
    out_shape = tuple(body(x).shape[:-1]) + (target_features,)
    target = lib.randn(*out_shape)

    def step():
        opt.zero_grad()
        loss = ((head(body(x)) - target) ** 2).mean()
        loss.backward()
        opt.step()
    return step


def lstm_train_step(lib):
    """LSTM(64 -> 128), one layer, batch 32 x 50 steps (batch_first)."""
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(64, 128, batch_first=True)

    class Body(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x):
            return self.lstm(x)[0]

    return _train_step(lib, Body(), lib.randn(32, 50, 64), 8)


def transformer_layer_train_step(lib):
    """TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512, dropout=0.1, batch_first=True)
    over batch 32 x 64 tokens (training mode, so the dropouts are active)."""
    lib.manual_seed(0)
    layer = lib.nn.TransformerEncoderLayer(128, 4, 512, dropout=0.1, batch_first=True)
    layer.train()
    return _train_step(lib, layer, lib.randn(32, 64, 128), 8)


ALL = [
    Workload("LSTM(64->128) 32x50 train step", lstm_train_step, 1.2, flops=LSTM_FLOPS),
    Workload("TransformerEncoderLayer(128,4,512) 32x64 train step", transformer_layer_train_step, 1.1,
             flops=TRANSFORMER_FLOPS),
]
