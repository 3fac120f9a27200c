"""Dynamic int8 quantization (``ember.ao.quantization.quantize_dynamic``).

* exactness: the float BLAS product Ember uses for the int32 accumulation equals NumPy's int64 matmul
  at the float32 bound (K = 1032) and beyond it (the float64 path);
* the module against a NumPy reference of the same arithmetic, written here with integer matmul:
  equal bit for bit, on contiguous and non-contiguous inputs and an empty batch;
* against PyTorch 2.13's fbgemm kernels (tests/core/data/make_quantization_reference.py): the int8
  weights and scales are identical; outputs agree to 1e-6 relative to the output's magnitude. The
  integer sums are the same; the remaining difference is the last float32 rounding of the rescale
  (fbgemm fuses ``acc * scale + bias`` with FMA and vectorised sigmoid/tanh in the LSTM);
* the LSTM against the float LSTM (quantization error, stated bound), state_dict round trips through
  ember.save/ember.load, qconfig_spec forms, and PyTorch's errors.
"""
import io
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import nn
from ember.ao.nn.quantized import _kernels as K
from ember.ao.nn.quantized import dynamic as nnqd
from ember.ao.quantization import (MinMaxObserver, QConfig, default_dynamic_qconfig, float16_dynamic_qconfig,
                                   per_channel_dynamic_qconfig, quantize_dynamic)

REF = np.load(Path(__file__).parent / "data" / "quantization_reference.npz")
CONFIGS = {"per_tensor": default_dynamic_qconfig, "per_channel": per_channel_dynamic_qconfig,
           "fp16": float16_dynamic_qconfig}
INPUTS = ("offset", "positive", "tiny", "zeros", "batched3d")


def ref_linear():
    lin = nn.Linear(64, 32)
    with ember.no_grad():
        lin.weight.copy_(ember.from_numpy(REF["linear_weight"]))
        lin.bias.copy_(ember.from_numpy(REF["linear_bias"]))
    return lin


def ref_lstm():
    lstm = nn.LSTM(8, 6, num_layers=2, bidirectional=True, batch_first=True)
    with ember.no_grad():
        for name, p in lstm.named_parameters():
            p.copy_(ember.from_numpy(REF[f"lstm_param_{name}"]))
    return lstm


def quantized(module, qconfig=per_channel_dynamic_qconfig):
    return quantize_dynamic(nn.Sequential(module), {type(module): qconfig})[0]


def numpy_reference(x, w_q, w_scale, bias):
    """The dynamic int8 linear with NumPy integer arithmetic (int64 accumulation), independently of Ember."""
    lo, hi = min(float(x.min(initial=0)), 0.0), max(float(x.max(initial=0)), 0.0)
    scale = (hi - lo) / 127 or 0.1
    zp = int(np.clip(np.rint(-lo / scale), 0, 127))  # from the min end: the smaller error for these ranges
    s32 = np.float32(scale)
    qx = np.clip(np.rint(x * (np.float32(1) / s32)) + zp, 0, 127).astype(np.int64)
    acc = (qx - zp).reshape(-1, x.shape[-1]) @ w_q.astype(np.int64).T
    y = acc.astype(np.float32) * (s32 * w_scale.astype(np.float32)) + bias
    return y.reshape(x.shape[:-1] + (w_q.shape[0],))


# ---- exactness of the accumulation ----------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 1032, 1033, 3000])
def test_exact_int_matmul_equals_integer_matmul(k):
    rng = np.random.default_rng(k)
    # The extremes (|a| = 127, b = -128) with random signs, plus random values: the worst partial sums.
    a = rng.choice([-127, 127], size=(6, k)).astype(np.int64)
    a[3:] = rng.integers(-127, 128, size=(3, k))
    b = rng.choice([-128, 127], size=(k, 5)).astype(np.int64)
    b[:, 0] = -128
    a[0] = 127  # row 0 x column 0 reaches k * 127 * -128, the bound itself
    got = K.exact_int_matmul(a.astype(np.float32), b.astype(np.float32))
    want = a @ b
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want.astype(np.float32))
    if k <= 1032:  # below 2**24 the float32 result is the integer itself, not only its rounding
        np.testing.assert_array_equal(got.astype(np.int64), want)


def test_float32_path_would_round_beyond_its_bound():
    # Why the float64 path exists: at K = 3000 extreme sums pass 2**24 and float32 accumulation loses bits.
    a = np.full((1, 3000), 127, np.float32)
    b = np.full((3000, 1), -127, np.float32)
    b[::7] = 3
    exact = int((a.astype(np.int64) @ b.astype(np.int64))[0, 0])
    naive = np.cumsum(a[0] * b[:, 0], dtype=np.float32)[-1]
    assert int(naive) != exact
    assert float(K.exact_int_matmul(a, b)[0, 0]) == np.float32(exact)


# ---- against a NumPy reference of the same arithmetic ----------------------------------------------
def views(x):
    """``x`` (2-D) as contiguous, permuted, step-sliced and expanded views with the same values."""
    t = ember.from_numpy(x)
    big = ember.from_numpy(np.repeat(x, 2, axis=0))
    return {"contiguous": t, "permuted": ember.from_numpy(np.ascontiguousarray(x.T)).t(),
            "sliced": big[::2], "expanded": ember.from_numpy(x[:1]).expand(4, x.shape[1])}


@pytest.mark.parametrize("kind", ["contiguous", "permuted", "sliced", "expanded"])
def test_linear_matches_numpy_reference_exactly(kind):
    q = quantized(ref_linear())
    x = views(REF["linear_x_offset"])[kind]
    want = numpy_reference(x.numpy(), REF["linear_per_channel_int8"], REF["linear_per_channel_scale"],
                           REF["linear_bias"])
    got = q(x)
    assert got.dtype == ember.float32 and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), want)


def test_linear_empty_batch():
    q = quantized(ref_linear())
    y = q(ember.zeros(0, 64))
    assert tuple(y.shape) == (0, 32) and y.dtype == ember.float32


def test_float64_model_inputs_are_refused_but_model_double_keeps_int8():
    q = quantize_dynamic(nn.Sequential(ref_linear()), {nn.Linear}).double()
    assert q[0]._packed_params._weight.dtype == np.int8
    with pytest.raises(RuntimeError, match="expected scalar type Float but found ember.float64"):
        q(ember.zeros(2, 64, dtype=ember.float64))


# ---- against PyTorch ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["per_tensor", "per_channel"])
def test_weights_and_scales_match_pytorch(name):
    packed = quantized(ref_linear(), CONFIGS[name])._packed_params
    np.testing.assert_array_equal(packed._weight, REF[f"linear_{name}_int8"])
    np.testing.assert_array_equal(packed._scale, REF[f"linear_{name}_scale"])


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("inp", INPUTS)
def test_linear_matches_pytorch(name, inp):
    q = quantized(ref_linear(), CONFIGS[name])
    want = REF[f"linear_{name}_y_{inp}"]
    got = q(ember.from_numpy(REF[f"linear_x_{inp}"])).numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_lstm_matches_pytorch(name):
    q = quantized(ref_lstm(), CONFIGS[name])
    x, h0, c0 = (ember.from_numpy(REF[k]) for k in ("lstm_x", "lstm_h0", "lstm_c0"))
    y, (h, c) = q(x, (h0, c0))
    for got, key in ((y, "y"), (h, "h"), (c, "c")):
        np.testing.assert_allclose(got.numpy(), REF[f"lstm_{name}_{key}"], rtol=0, atol=2e-6)


def test_lstm_close_to_float():
    # int8 weights and 7-bit activations: the outputs (in (-1, 1)) move by a few hundredths at most.
    lstm = ref_lstm()
    x = ember.from_numpy(REF["lstm_x"])
    err = (quantized(lstm)(x)[0] - lstm(x)[0]).abs().max().item()
    assert 1e-4 < err < 0.03
    np.testing.assert_allclose(lstm(x, (ember.from_numpy(REF["lstm_h0"]), ember.from_numpy(REF["lstm_c0"])))[0]
                               .detach().numpy(), REF["lstm_float_y"], atol=1e-5)


def test_lstm_layouts():
    lstm = nn.LSTM(4, 3, num_layers=2)
    q = quantized(lstm)
    x = ember.randn(5, 2, 4)
    y, (h, c) = q(x)
    assert tuple(y.shape) == (5, 2, 3) and tuple(h.shape) == tuple(c.shape) == (2, 2, 3)
    np.testing.assert_array_equal(q(x.permute(1, 0, 2).contiguous().permute(1, 0, 2))[0].numpy(), y.numpy())
    assert (y - lstm(x)[0]).abs().max().item() < 0.03


# ---- state_dict -------------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)
        self.lstm = nn.LSTM(6, 5, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(10, 3, bias=False))

    def forward(self, x):
        return self.head(self.lstm(self.fc(x))[0])


def test_state_dict_round_trip_through_save_and_load():
    ember.manual_seed(0)
    q = quantize_dynamic(Net(), {nn.Linear, nn.LSTM})
    sd = q.state_dict()
    assert sd["fc._packed_params.weight"].dtype == ember.int8
    assert sd["fc._packed_params.weight_scale"].shape == (6,)
    assert sd["fc._packed_params.dtype"] is ember.qint8
    assert "head.1._packed_params.bias" not in sd
    assert sd["lstm._all_weight_values.1.hh.weight"].dtype == ember.int8
    buf = io.BytesIO()
    ember.save(sd, buf)
    buf.seek(0)
    loaded = ember.load(buf)  # weights_only=True: the native format holds ember.qint8 by name
    fresh = quantize_dynamic(Net(), {nn.Linear, nn.LSTM})
    x = ember.randn(2, 4, 8)
    assert not np.array_equal(fresh(x).numpy(), q(x).numpy())
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(fresh(x).numpy(), q(x).numpy())


def state_bytes(module) -> int:
    return sum(v.numel() * v.element_size() for v in module.state_dict().values() if isinstance(v, ember.Tensor))


def test_int8_state_dict_is_about_a_quarter_of_float():
    model = nn.Sequential(nn.Linear(256, 256), nn.LSTM(256, 64))
    ratio = state_bytes(quantize_dynamic(model)) / state_bytes(model)
    # int8 weights (1/4) plus float32 biases and, per output row, a float32 scale and an int64 zero point.
    assert 0.25 < ratio < 0.3


def test_load_state_dict_reports_missing_unexpected_and_dtype_mismatch():
    q = quantize_dynamic(Net(), {nn.Linear})
    sd = q.state_dict()
    del sd["fc._packed_params.weight_scale"]
    sd["fc._packed_params.extra"] = ember.zeros(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\).*fc._packed_params.weight_scale') as e:
        q.load_state_dict(sd)
    assert "fc._packed_params.extra" in str(e.value)
    half = quantize_dynamic(Net(), {nn.Linear}, dtype=ember.float16).state_dict()
    with pytest.raises(RuntimeError, match="holds ember.float16 weights, this module ember.qint8"):
        q.load_state_dict(half)


# ---- quantize_dynamic's semantics ---------------------------------------------------------------------
def test_spec_forms_and_what_is_swapped():
    model = Net()
    q = quantize_dynamic(model, {"head.1"})
    assert type(q.fc) is nn.Linear and type(q.head[1]) is nnqd.Linear
    assert type(model.head[1]) is nn.Linear  # inplace=False leaves the original alone
    q = quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig, "fc": None, nn.LSTM: default_dynamic_qconfig})
    assert type(q.fc) is nn.Linear and type(q.lstm) is nnqd.LSTM and q.lstm._all_weight_values[0].ih.qscheme \
        is ember.per_tensor_affine
    q = quantize_dynamic(model, {"head": default_dynamic_qconfig})  # inherited by the subtree
    assert type(q.head[1]) is nnqd.Linear and type(q.fc) is nn.Linear
    assert list(dict(q.named_children())) == ["fc", "lstm", "head"]  # positions kept
    root = nn.Linear(3, 3)
    assert quantize_dynamic(root, {nn.Linear}) is not root and type(quantize_dynamic(root)) is nn.Linear
    same = quantize_dynamic(model, inplace=True)
    assert same is model and type(model.fc) is nnqd.Linear and not model.training


def test_attention_out_proj_stays_float_and_transformer_runs():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2).eval()
    q = quantize_dynamic(enc, {nn.Linear})
    layer = q.layers[0]
    assert type(layer.linear1) is nnqd.Linear
    assert type(layer.self_attn.out_proj) is nn.modules.transformer.NonDynamicallyQuantizableLinear
    x = ember.randn(2, 5, 16)
    assert (q(x) - enc(x)).abs().max().item() < 0.1


def test_forward_hooks_are_carried_over():
    model = nn.Sequential(nn.Linear(4, 4))
    seen = []
    model[0].register_forward_hook(lambda m, i, o: seen.append(type(m).__name__))
    quantize_dynamic(model)(ember.randn(1, 4))
    assert seen == ["Linear"]


def test_repr_matches_pytorch():
    q = quantize_dynamic(Net(), {nn.Linear: default_dynamic_qconfig, nn.LSTM: default_dynamic_qconfig})
    assert repr(q.fc) == ("DynamicQuantizedLinear(in_features=8, out_features=6, dtype=ember.qint8, "
                          "qscheme=ember.per_tensor_affine)")
    assert repr(q.lstm) == "DynamicQuantizedLSTM(6, 5, batch_first=True, bidirectional=True)"


# ---- errors ---------------------------------------------------------------------------------------------
def test_errors():
    model = Net()
    with pytest.raises(RuntimeError, match="Unknown dtype specified for quantize_dynamic: ember.int8"):
        quantize_dynamic(model, {nn.Linear}, dtype=ember.int8)
    with pytest.raises(ValueError, match="Don't know how to quantize with default settings for ember.int8"):
        quantize_dynamic(model, dtype=ember.int8)
    with pytest.raises(NotImplementedError, match="ember.quint8"):
        quantize_dynamic(model, {nn.Embedding}, dtype=ember.quint8)
    with pytest.raises(NotImplementedError, match=r"GRU \(module 'rnn'\) is not supported"):
        quantize_dynamic(_with_gru())
    with pytest.raises(TypeError, match="qconfig_spec must be"):
        quantize_dynamic(model, nn.Linear)
    with pytest.raises(TypeError, match=r"qconfig_spec\[.*must be a QConfig"):
        quantize_dynamic(model, {nn.Linear: "int8"})
    affine = QConfig(activation=default_dynamic_qconfig.activation,
                     weight=MinMaxObserver.with_args(dtype=ember.qint8))
    with pytest.raises(NotImplementedError, match="symmetric int8 weights"):
        quantize_dynamic(model, {nn.Linear: affine})
    q = quantize_dynamic(model)
    with pytest.raises(RuntimeError, match="expected in_features=8"):
        q.fc(ember.zeros(2, 7))
    with pytest.raises(RuntimeError, match="larger than or equal to 2"):
        q.fc(ember.zeros(8))
    with pytest.raises(RuntimeError, match="input must have 3 dimensions, got 2"):
        q.lstm(ember.zeros(4, 6))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 1, 5\)"):
        q.lstm(ember.zeros(1, 4, 6), (ember.zeros(1, 1, 5), ember.zeros(2, 1, 5)))
    with pytest.raises(ValueError, match="observer instance"):
        QConfig(activation=None, weight=MinMaxObserver())


def _with_gru():
    m = nn.Sequential()
    m.add_module("rnn", nn.GRU(3, 3))
    return m


def test_dtype_objects():
    assert ember.qint8 is not ember.int8 and ember.qint8.itemsize == 1 and not ember.qint8.is_floating_point
    assert ember.qint8.is_signed and not ember.quint8.is_signed
    assert repr(ember.quint8) == "ember.quint8"
    import pickle
    assert pickle.loads(pickle.dumps(ember.qint8)) is ember.qint8
    assert pickle.loads(pickle.dumps(ember.per_channel_affine)) is ember.per_channel_affine


def test_whole_quantized_model_saves_and_copies(tmp_path):
    import copy
    q = quantize_dynamic(Net())
    x = ember.randn(1, 3, 8)
    ember.save(q, tmp_path / "q.pt")  # a whole module: PyTorch's zip layout
    back = ember.load(tmp_path / "q.pt", weights_only=False)
    for other in (back, copy.deepcopy(q)):
        assert type(other.lstm) is nnqd.LSTM
        np.testing.assert_array_equal(other(x).numpy(), q(x).numpy())


def test_pytorch_spelling_runs_unchanged():
    import ember as torch
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    qmodel = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    with torch.no_grad():
        out = qmodel(torch.randn(4, 16))
    assert out.shape == (4, 2)
    assert (out - model(torch.randn(4, 16)) * 0).dtype == torch.float32
