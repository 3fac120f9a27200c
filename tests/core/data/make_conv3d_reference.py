"""Regenerate ``conv3d_reference.npz``: PyTorch's values and gradients for tests/core/test_conv3d.py.

Needs PyTorch (the tests themselves never import it); run from the repository root with

    /work/refvenv/bin/python tests/core/data/make_conv3d_reference.py

Every input is drawn here from NumPy with a fixed seed and stored next to the results, so the test
feeds Ember exactly the same numbers. ``meta`` (JSON as bytes) lists the cases (their options and
the keys of their arrays) and ``index`` maps each key to ``[dtype, offset, shape]`` in the array
``pool_<dtype>`` (all arrays of a dtype are packed into one). Groups of cases:

- ``conv3d`` / ``conv_transpose3d``: output and the gradients of input, weight and bias for an
  upstream gradient ``g`` (float64);
- ``max_pool3d`` (values, indices, input gradient), ``avg_pool3d``, ``adaptive_avg_pool3d``,
  ``adaptive_max_pool3d`` (values, indices), ``lp_pool3d``, ``batch_norm3d`` (training step:
  output, gradients, running statistics; then an eval-mode output);
- ``pad``: F.pad in the circular/reflect/replicate modes on 3-D/4-D/5-D inputs with asymmetric,
  zero and negative amounts: the output and the input gradient, or the exception type and message;
- ``interp_u8``: F.interpolate of uint8 images (bilinear/bicubic/nearest/nearest-exact, both
  align_corners, several scale factors and sizes; 3 channels take PyTorch's vectorised path, 5 its
  generic one);
- ``modules``: the state_dict keys and shapes of the 3-D layers.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conv3d_reference.npz")

rng = np.random.default_rng(20240613)
pools: dict = {}  # dtype name -> list of flattened arrays (one array per dtype in the file: small overhead)
index: dict = {}  # key -> [dtype name, offset, shape]
meta: dict = {}


def put(key: str, a) -> str:
    """Store array ``a`` under ``key`` (packed into the pool of its dtype)."""
    a = np.asarray(a)
    pool = pools.setdefault(a.dtype.name, [])
    offset = sum(p.size for p in pool)
    pool.append(a.reshape(-1))
    index[key] = [a.dtype.name, offset, list(a.shape)]
    return key


def rand(*shape):
    """Normal samples that float32 holds exactly (stored as float32 to keep the file small; PyTorch
    computes in float64 from the same numbers)."""
    return rng.standard_normal(shape).astype(np.float32).astype(np.float64)


def small_ints(*shape):
    """Integer-valued samples: padding copies and sums them exactly, so float32 storage is exact."""
    return rng.integers(-9, 10, shape).astype(np.float64)


def store(group: str, i: int, **arrays) -> dict:
    keys = {}
    for name, a in arrays.items():
        if a is None:
            continue
        key = f"{group}/{i}/{name}"
        a = np.asarray(a)
        # Inputs and integer-valued results are exact in float32; other results keep float64.
        exact32 = a.dtype == np.float64 and (name in ("x", "w", "b", "g", "weight", "bias") or group == "pad")
        keys[name] = put(key, a.astype(np.float32) if exact32 else a)
    return keys


def t(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


# ---- convolutions ------------------------------------------------------------------------------
CONV3D = [
    # x shape, weight shape, bias, kwargs
    ((2, 3, 4, 5, 3), (4, 3, 2, 3, 2), True, {}),
    ((1, 2, 6, 5, 5), (3, 2, 3, 2, 2), True, {"stride": [2, 1, 2], "padding": [1, 0, 1], "dilation": [1, 2, 1]}),
    ((1, 4, 4, 5, 5), (6, 2, 3, 3, 3), True, {"groups": 2, "padding": "same", "dilation": [1, 1, 2]}),
    ((2, 2, 4, 4, 5), (2, 2, 2, 2, 3), False, {"padding": "valid", "stride": 2}),
    ((1, 2, 3, 4, 4), (3, 2, 2, 2, 2), True, {"padding": "same"}),  # even kernel: more padding at the end
    ((3, 3, 4, 4), (2, 3, 3, 1, 2), True, {"padding": [1, 0, 1]}),  # unbatched (C, D, H, W)
    ((1, 16, 2, 3, 3), (2, 16, 2, 2, 2), True, {"padding": 1}),  # wide: channels-last lowering
]
meta["conv3d"] = []
for i, (xs, ws, has_b, kw) in enumerate(CONV3D):
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[0]) if has_b else None
    xt, wt = t(x, True), t(w, True)
    bt = t(b, True) if has_b else None
    y = F.conv3d(xt, wt, bt, **kw)
    g = rand(*y.shape)
    y.backward(t(g))
    keys = store("conv3d", i, x=x, w=w, b=b, g=g, y=y.detach().numpy(), gx=xt.grad.numpy(), gw=wt.grad.numpy(),
                 gb=None if bt is None else bt.grad.numpy())
    meta["conv3d"].append({"kwargs": kw, "keys": keys})

CONV_T3D = [
    ((2, 4, 3, 3, 2), (4, 3, 2, 2, 2), True, {"stride": 2}),
    ((1, 4, 3, 2, 3), (4, 2, 3, 2, 2), True, {"stride": [2, 1, 2], "padding": [1, 0, 0], "output_padding": [1, 0, 1],
                                              "dilation": [1, 2, 1], "groups": 2}),
    ((1, 2, 4, 3, 4), (2, 3, 3, 3, 3), False, {"padding": 1}),  # stride 1, 'same'-like: the gathering path
    ((3, 3, 2, 2), (3, 2, 2, 3, 1), True, {"stride": [1, 2, 3], "output_padding": [0, 1, 2]}),  # unbatched
]
meta["conv_transpose3d"] = []
for i, (xs, ws, has_b, kw) in enumerate(CONV_T3D):
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[1] * kw.get("groups", 1)) if has_b else None
    xt, wt = t(x, True), t(w, True)
    bt = t(b, True) if has_b else None
    y = F.conv_transpose3d(xt, wt, bt, **kw)
    g = rand(*y.shape)
    y.backward(t(g))
    keys = store("conv_transpose3d", i, x=x, w=w, b=b, g=g, y=y.detach().numpy(), gx=xt.grad.numpy(),
                 gw=wt.grad.numpy(), gb=None if bt is None else bt.grad.numpy())
    meta["conv_transpose3d"].append({"kwargs": kw, "keys": keys})


# ---- pooling -----------------------------------------------------------------------------------
def pool_case(group: str, fn, xs, kw, indices=False):
    i = len(meta.setdefault(group, []))
    x = rand(*xs)
    xt = t(x, True)
    res = fn(xt, **kw)
    y, idx = (res if indices else (res, None))
    g = rand(*y.shape)
    y.backward(t(g))
    keys = store(group, i, x=x, g=g, y=y.detach().numpy(), gx=xt.grad.numpy(),
                 idx=None if idx is None else idx.numpy())
    meta[group].append({"kwargs": kw, "keys": keys})


for kw in [{"kernel_size": 2},
           {"kernel_size": [3, 2, 2], "stride": [2, 1, 2], "padding": [1, 0, 1], "dilation": [1, 2, 1],
            "ceil_mode": True},
           {"kernel_size": 3, "stride": 2, "padding": 1},
           {"kernel_size": [2, 3, 2], "stride": 1}]:  # overlapping windows: gradients add up
    pool_case("max_pool3d", lambda x, **k: F.max_pool3d(x, return_indices=True, **k), (1, 2, 5, 6, 5), kw, True)
pool_case("max_pool3d", lambda x, **k: F.max_pool3d(x, return_indices=True, **k), (2, 5, 4, 6), {"kernel_size": 2},
          True)  # unbatched

for kw in [{"kernel_size": 2},
           {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
           {"kernel_size": [3, 2, 3], "stride": [2, 2, 1], "padding": [1, 1, 0], "ceil_mode": True},
           {"kernel_size": 2, "stride": 1, "divisor_override": 5},
           {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True}]:
    pool_case("avg_pool3d", F.avg_pool3d, (1, 2, 5, 6, 5), kw)

for out in [1, [2, 3, None], [3, 4, 4], [5, 2, 7]]:
    pool_case("adaptive_avg_pool3d", F.adaptive_avg_pool3d, (1, 2, 5, 6, 7), {"output_size": out})
for out in [[2, 3, 4], 3, [5, 1, 7]]:
    pool_case("adaptive_max_pool3d", lambda x, **k: F.adaptive_max_pool3d(x, return_indices=True, **k),
              (1, 2, 5, 6, 7), {"output_size": out}, True)
pool_case("lp_pool3d", F.lp_pool3d, (1, 2, 4, 5, 4), {"norm_type": 2.0, "kernel_size": 2, "stride": [1, 2, 1]})

# BatchNorm3d: one training step, then eval with the updated running statistics.
x = (rand(3, 4, 2, 3, 2) * 2 + 1).astype(np.float32).astype(np.float64)  # exact in float32, as stored
bn = torch.nn.BatchNorm3d(4, momentum=0.3).double()
with torch.no_grad():
    bn.weight.copy_(t(rand(4)))
    bn.bias.copy_(t(rand(4)))
w0, b0 = bn.weight.detach().numpy().copy(), bn.bias.detach().numpy().copy()
xt = t(x, True)
y = bn(xt)
g = rand(*y.shape)
y.backward(t(g))
bn.eval()
keys = store("batch_norm3d", 0, x=x, weight=w0, bias=b0, g=g, y=y.detach().numpy(), gx=xt.grad.numpy(),
             gw=bn.weight.grad.numpy(), gb=bn.bias.grad.numpy(), running_mean=bn.running_mean.numpy(),
             running_var=bn.running_var.numpy(), y_eval=bn(t(x)).detach().numpy())
meta["batch_norm3d"] = [{"kwargs": {"momentum": 0.3}, "keys": keys}]


# ---- F.pad -------------------------------------------------------------------------------------
PADS = [
    ((2, 3, 5), (1, 2)), ((2, 3, 5), (-1, 2)), ((2, 3, 5), (2, -1)), ((2, 3, 5), (5, 0)), ((2, 3, 5), (0, 5)),
    ((2, 3, 5), (-2, -1)), ((2, 3, 5), (1, -4)), ((2, 3, 5), (6, 0)), ((2, 3, 5), (-4, -3)), ((2, 3, 5), (0, 0)),
    ((3, 5), (2, 1)), ((1, 1, 5), (-2, -3)), ((1, 2, 4, 5), (0, 0, -2, -2)),
    # Circular padding larger than the cropped input: PyTorch raises for a single contiguous plane (and
    # returns uninitialised memory for batched ones), so only the plane case is a reference.
    ((1, 1, 5), (4, -3)), ((1, 1, 5), (-3, 4)),
    ((1, 2, 4, 5), (1, 2, 0, 3)), ((1, 2, 4, 5), (2, 1, 3, 0)), ((1, 2, 4, 5), (-1, 2, 1, -2)),
    ((1, 2, 4, 5), (0, 0, 2, 1)), ((1, 2, 4, 5), (4, 0, 0, 3)), ((1, 2, 4, 5), (5, 1, 0, 0)),
    ((1, 2, 4, 5), (5, 0, 0, 4)), ((3, 4, 5), (1, 2, 3, 0)), ((2, 4, 5), (-2, 1, 0, -1)),
    ((1, 2, 3, 4, 5), (1, 2, 0, 1, 2, 0)), ((1, 2, 3, 4, 5), (0, 0, 0, 0, 1, 2)),
    ((1, 2, 3, 4, 5), (-1, 0, 1, -1, 2, -1)), ((2, 3, 4, 5), (2, 1, 0, 1, 1, 0)), ((1, 1, 3, 4, 5), (1, 3, 2, 1, 0, 2)),
]
meta["pad"] = []
for mode in ("circular", "reflect", "replicate"):
    for shape, amounts in PADS:
        i = len(meta["pad"])
        x = small_ints(*shape)
        xt = t(x, True)
        entry = {"mode": mode, "pad": list(amounts)}
        try:
            y = F.pad(xt, amounts, mode=mode)
        except Exception as e:  # noqa: BLE001 - the exception itself is the reference
            entry.update(error=type(e).__name__, message=str(e), keys=store("pad", i, x=x))
        else:
            g = small_ints(*y.shape)
            y.backward(t(g))
            entry["keys"] = store("pad", i, x=x, g=g, y=y.detach().numpy(), gx=xt.grad.numpy())
        meta["pad"].append(entry)


# ---- F.interpolate on uint8 --------------------------------------------------------------------
meta["interp_u8"] = []
images = {c: rng.integers(0, 256, (1, c, 6, 7)).astype(np.uint8) for c in (3, 5)}
# A high-contrast image: bicubic overshoots and the per-pass clamping shows.
images[1] = np.where(rng.random((1, 1, 5, 6)) > 0.5, 255, 0).astype(np.uint8)
for c, img in images.items():
    put(f"interp_u8/image{c}", img)
for mode in ("bilinear", "bicubic", "nearest", "nearest-exact"):
    for ac in ((False, True) if mode in ("bilinear", "bicubic") else (None,)):
        for size, sf in [(None, 2.0), (None, 1.5), (None, 0.6), (None, [0.5, 1.75]), (None, 1.1), ([9, 5], None),
                         ([6, 3], None), ([6, 7], None)]:
            for c in (3, 5, 1):
                if c == 1 and (mode not in ("bilinear", "bicubic") or size is not None):
                    continue
                i = len(meta["interp_u8"])
                y = F.interpolate(t(images[c]), size=size, scale_factor=sf, mode=mode, align_corners=ac)
                keys = store("interp_u8", i, y=y.numpy())
                keys["image"] = f"interp_u8/image{c}"
                meta["interp_u8"].append({"mode": mode, "align_corners": ac, "size": size, "scale_factor": sf,
                                          "keys": keys})


# ---- module state_dict keys and shapes ---------------------------------------------------------
modules = {
    "Conv3d(4, 6, (2, 3, 1), groups=2, padding=1, padding_mode='circular')":
        torch.nn.Conv3d(4, 6, (2, 3, 1), groups=2, padding=1, padding_mode="circular"),
    "Conv3d(2, 3, 3, bias=False)": torch.nn.Conv3d(2, 3, 3, bias=False),
    "ConvTranspose3d(4, 6, 3, groups=2, stride=2)": torch.nn.ConvTranspose3d(4, 6, 3, groups=2, stride=2),
    "BatchNorm3d(5)": torch.nn.BatchNorm3d(5),
}
meta["modules"] = {name: {k: list(v.shape) for k, v in m.state_dict().items()} for name, m in modules.items()}
meta["module_reprs"] = {name: repr(m) for name, m in modules.items()}

meta["index"] = index
data = {f"pool_{name}": np.concatenate(arrays) for name, arrays in pools.items()}
data["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
np.savez_compressed(OUT, **data)
print(f"wrote {OUT}: {len(index)} arrays in {len(data)} pools, {os.path.getsize(OUT) / 1024:.0f} KB")
