"""Reference outputs of PyTorch's dynamic quantization (fbgemm, x86) for tests/core/test_quantization.py.

Re-run from the repository root with the reference virtualenv (real PyTorch, CPU):

    /work/refvenv/bin/python tests/core/data/make_quantization_reference.py

Inputs are generated here with a fixed NumPy seed and stored next to the outputs, so Ember is fed
exactly the same weights and inputs. Writes tests/core/data/quantization_reference.npz.
"""
import os
import warnings

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import (default_dynamic_qconfig, float16_dynamic_qconfig, per_channel_dynamic_qconfig,
                                   quantize_dynamic)

warnings.filterwarnings("ignore")
torch.backends.quantized.engine = "x86"
rng = np.random.default_rng(21)
out = {}
CONFIGS = {"per_tensor": default_dynamic_qconfig, "per_channel": per_channel_dynamic_qconfig,
           "fp16": float16_dynamic_qconfig}


def f32(*shape, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


# Linear: weights (one row of zeros: the eps scale), several inputs (an offset range; all positive;
# a tiny range that hits fbgemm's smallest-scale rule; an all-zero batch; a 3-D input).
lin = nn.Linear(64, 32)
w = f32(32, 64, scale=0.2)
w[3] = 0.0
b = f32(32, scale=0.1)
with torch.no_grad():
    lin.weight.copy_(torch.from_numpy(w))
    lin.bias.copy_(torch.from_numpy(b))
out["linear_weight"], out["linear_bias"] = w, b
inputs = {"offset": f32(20, 64, scale=3, shift=0.5), "positive": np.abs(f32(7, 64)), "tiny": f32(5, 64, scale=1e-4),
          "zeros": np.zeros((3, 64), np.float32), "batched3d": f32(2, 4, 64)}
for name, cfg in CONFIGS.items():
    q = quantize_dynamic(nn.Sequential(lin), {nn.Linear: cfg})
    if name != "fp16":
        qw = q[0].weight()
        out[f"linear_{name}_int8"] = qw.int_repr().numpy()
        scales = qw.q_per_channel_scales() if name == "per_channel" else torch.tensor([qw.q_scale()])
        out[f"linear_{name}_scale"] = scales.numpy().astype(np.float32)
    for iname, x in inputs.items():
        out[f"linear_x_{iname}"] = x
        out[f"linear_{name}_y_{iname}"] = q(torch.from_numpy(x)).detach().numpy()

# LSTM: 2 layers, bidirectional, batch_first, with an initial state.
lstm = nn.LSTM(8, 6, num_layers=2, bidirectional=True, batch_first=True)
for pname, p in lstm.named_parameters():
    with torch.no_grad():
        p.copy_(torch.from_numpy(f32(*p.shape, scale=0.4)))
    out[f"lstm_param_{pname}"] = p.detach().numpy()
x = f32(3, 5, 8)
h0, c0 = f32(4, 3, 6, scale=0.5), f32(4, 3, 6, scale=0.5)
out["lstm_x"], out["lstm_h0"], out["lstm_c0"] = x, h0, c0
with torch.no_grad():
    ref = lstm(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
out["lstm_float_y"] = ref[0].numpy()
for name, cfg in CONFIGS.items():
    q = quantize_dynamic(nn.Sequential(lstm), {nn.LSTM: cfg})
    with torch.no_grad():
        y, (h, c) = q[0](torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
    out[f"lstm_{name}_y"], out[f"lstm_{name}_h"], out[f"lstm_{name}_c"] = y.detach().numpy(), h.detach().numpy(), c.detach().numpy()

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quantization_reference.npz")
np.savez_compressed(path, torch_version=np.array(torch.__version__), **out)
print(path, os.path.getsize(path), "bytes")
