"""Dynamic int8 quantization workloads: the forward pass of a float model and of the same model after
``lib.ao.quantization.quantize_dynamic`` (int8 per-channel weights, activations quantized per call).
As in ``workloads.py``, ``setup(lib)`` takes ``ember`` or ``torch`` and the code is identical for both.

``benchmarks/quant_report.py`` measures size, latency and accuracy on real data (BENCHMARKS.md's
"Dynamic quantization" section); these rows put the same forward passes in the main table.
"""
from __future__ import annotations

from workloads import Workload


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def _encoder(lib):
    nn = lib.nn
    layer = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


def _forward(build, shape, quantize: bool):
    def setup(lib):
        lib.manual_seed(0)
        model = build(lib).eval()
        if quantize:
            q = lib.ao.quantization
            model = q.quantize_dynamic(model, {lib.nn.Linear: q.per_channel_dynamic_qconfig}, dtype=lib.qint8)
        # Training mode (all dropouts are 0): PyTorch's eval-mode fused encoder path reads each Linear's
        # .weight as a tensor and fails on quantized layers, so both libraries run the module graph.
        model.train()
        x = lib.randn(*shape)

        def step():
            with lib.no_grad():
                model(x)
        return step
    return setup


ALL = [
    Workload("quant: MLP 64-256-256-10 batch 256 forward, float32", _forward(_mlp, (256, 64), False)),
    Workload("quant: MLP 64-256-256-10 batch 256 forward, dynamic int8", _forward(_mlp, (256, 64), True)),
    Workload("quant: TransformerEncoder(128,4,512)x2 8x64 forward, float32", _forward(_encoder, (8, 64, 128), False)),
    Workload("quant: TransformerEncoder(128,4,512)x2 8x64 forward, dynamic int8",
             _forward(_encoder, (8, 64, 128), True)),
]
