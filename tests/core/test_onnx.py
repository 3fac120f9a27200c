"""ember.onnx.export: each exported model passes onnx.checker and onnxruntime reproduces Ember's outputs
(within 1e-5 in float32), on the example batch and, through a dynamic batch axis, on another batch size.
The vision and text models are exported in tests/vision/test_vision_onnx_export.py and tests/text/test_text_onnx_export.py."""
from __future__ import annotations

import io

import pytest

import ember
from ember import nn
from ember.onnx import UnsupportedOperatorError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from ember.testing.onnx_check import check_onnx_export as export_and_compare  # noqa: E402


def test_mlp_with_a_dynamic_batch_names_and_initializers():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(-1)).eval()
    proto, _ = export_and_compare(m, [(ember.randn(2, 4),), (ember.randn(5, 4),)], ["x"], output_names=["probs"])
    assert [i.name for i in proto.graph.input] == ["x"] and [o.name for o in proto.graph.output] == ["probs"]
    assert {i.name for i in proto.graph.initializer} >= set(m.state_dict())
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    assert proto.opset_import[0].version == 17 and proto.producer_name == "ember"


def test_float64_and_an_explicit_opset_without_dynamic_axes():
    ember.manual_seed(1)
    m = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.LayerNorm(4)).double().eval()   # (onnxruntime has no float64 Erf)
    x = ember.randn(2, 3, dtype=ember.float64)
    proto, err = export_and_compare(m, [(x,)], ["x"], dynamic=False, tol=1e-10, opset_version=18)
    assert proto.opset_import[0].version == 18 and err < 1e-10
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_as_onnx_nodes(kind):
    ember.manual_seed(2)
    cls = getattr(nn, kind)
    m = cls(4, 5, num_layers=2, batch_first=True, bidirectional=True).eval()
    proto, _ = export_and_compare(m, [(ember.randn(2, 3, 4),), (ember.randn(4, 3, 4),)], ["x"])
    assert sum(n.op_type == kind for n in proto.graph.node) == 2    # one node per layer, both directions


def test_lstm_with_an_initial_state():
    ember.manual_seed(3)
    m = nn.LSTM(3, 4).eval()

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = m

        def forward(self, x, h, c):
            return self.lstm(x, (h, c))

    args = [(ember.randn(5, 2, 3), ember.randn(1, 2, 4), ember.randn(1, 2, 4))]
    export_and_compare(WithState(), args, ["x", "h", "c"], dynamic=False)


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, src, padding):
        return self.encoder(src, src_key_padding_mask=padding)


def test_transformer_encoder_with_a_padding_mask_and_dynamic_batch():
    ember.manual_seed(4)
    m = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2, enable_nested_tensor=False)
    export_and_compare(m.eval(), [(ember.randn(2, 5, 8),), (ember.randn(3, 5, 8),)], ["src"])
    pad = ember.tensor([[False, False, False, False, True], [False, False, False, True, True],
                        [False, False, False, False, False]])
    examples = [(ember.randn(2, 5, 8), pad[:2]), (ember.randn(3, 5, 8), pad)]   # the mask is an input
    export_and_compare(_Encoder().eval(), examples, ["src", "padding"])


def test_a_function_indexing_and_broadcasting():
    def f(x, y):
        z = x[:, 1:, None] * y.unsqueeze(1) + x.mean(-1, keepdim=True)[..., None]
        return ember.cat([z, z.exp()], dim=1).permute(0, 2, 1).reshape(x.shape[0], -1).sum(-1)

    ember.manual_seed(5)
    examples = [(ember.randn(2, 3), ember.randn(2, 4)), (ember.randn(6, 3), ember.randn(6, 4))]
    export_and_compare(f, examples, ["x", "y"])


def test_export_writes_paths_and_returns_the_proto_without_a_file(tmp_path):
    m = nn.Linear(2, 2)
    path = tmp_path / "lin.onnx"
    assert ember.onnx.export(m, (ember.randn(1, 2),), str(path)) is None
    assert onnx.load(str(path)).graph.node[0].op_type == "Gemm"
    proto = ember.onnx.export(m, ember.randn(1, 2), None)
    assert isinstance(proto, onnx.ModelProto)
    assert m.training   # exported in eval mode, then put back
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5).eval())
    ember.onnx.export(mixed, ember.randn(1, 2), None)
    assert mixed.training and not mixed[1].training   # each module's own mode


def test_is_in_onnx_export_during_the_export():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(ember.onnx.is_in_onnx_export())
            return x * 2

    ember.onnx.export(Probe(), ember.ones(1), io.BytesIO())
    assert seen == [True] and ember.onnx.is_in_onnx_export() is False


def test_unsupported_ops_name_the_op_and_the_module():
    class Inner(nn.Module):
        def forward(self, x):
            return ember.cumsum(x, 0)

    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), Inner()))
    with pytest.raises(UnsupportedOperatorError, match=r"operator 'cumsum' .* module '1\.1' \(Inner\)"):
        ember.onnx.export(m, ember.randn(3, 2), io.BytesIO())
    drop = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with pytest.raises(UnsupportedOperatorError, match=r"'dropout' .* training mode .* module '1' \(Dropout\)"):
        ember.onnx.export(drop, ember.randn(3, 2), io.BytesIO(), training=ember.onnx.TrainingMode.PRESERVE)
    with pytest.raises(ValueError, match="opset"):
        ember.onnx.export(nn.Linear(2, 2), ember.randn(1, 2), io.BytesIO(), opset_version=11)


def test_the_readme_deploy_example_runs(toy_plugin, tmp_path, monkeypatch, capsys):
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Deploy", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) < 15
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md (Deploy)", "exec"), namespace)   # noqa: S102
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    with ember.no_grad():
        expected = namespace["model"](ember.from_numpy(namespace["points"])).argmax(1)
    assert printed == str(expected.numpy())


class _ManyOps(nn.Module):
    """Ops of the table that the model tests do not reach."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3, padding="same")
        self.bn = nn.BatchNorm1d(6)
        self.emb = nn.Embedding(10, 6)

    def forward(self, x, ids):
        y = self.bn(self.conv(x)).sigmoid() + nn.functional.leaky_relu(x.mean(1, keepdim=True), 0.2)
        y = nn.functional.avg_pool1d(y, 2, count_include_pad=False) - nn.functional.max_pool1d(y, 3, 2, padding=1)
        a, b = y.chunk(2, dim=1)
        first, *_ = ember.unbind(b, dim=2)
        z = ember.where(a > 0, a, ember.tanh(a) * 0.5).flatten(1)
        w = ember.stack([first, first.clamp(-0.1, 0.1)], dim=-1).flatten(1)
        e = self.emb(ids).sum(1)
        return nn.functional.log_softmax(ember.cat([z, w, e], 1), dim=1), nn.functional.hardtanh(w, -0.5, 0.5)


def test_more_ops_of_the_table():
    ember.manual_seed(6)
    m = _ManyOps().eval()
    with ember.no_grad():
        m.bn.running_mean.normal_()
        m.bn.running_var.uniform_(0.5, 2.0)
    examples = [(ember.randn(2, 4, 8), ember.tensor([[1, 2, 3], [4, 5, 9]])),
                (ember.randn(3, 4, 8), ember.tensor([[1, 2, 3], [4, 5, 9], [0, 0, 7]]))]
    proto, _ = export_and_compare(m, examples, ["x", "ids"])
    used = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "AveragePool", "MaxPool", "Split", "Where", "Gather", "LogSoftmax"} <= used


class _AsymmetricConv(nn.Module):
    """A strided convolution with (before, after) padding pairs (TensorFlow's "same"), as Conv2dSame calls it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, bias=True)

    def forward(self, x):
        return ember.nn.functional.conv2d(x, self.conv.weight, self.conv.bias, 2, ((0, 1), (1, 2)))


def test_padding_pairs_export_as_asymmetric_conv_pads():
    ember.manual_seed(7)
    m = _AsymmetricConv().eval()
    proto, _ = export_and_compare(m, [(ember.randn(2, 3, 8, 9),), (ember.randn(1, 3, 8, 9),)], ["x"])
    conv = next(n for n in proto.graph.node if n.op_type == "Conv")
    assert [a.ints for a in conv.attribute if a.name == "pads"] == [[0, 1, 1, 2]]
    assert not any(n.op_type == "Pad" for n in proto.graph.node)
