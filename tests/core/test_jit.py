"""ember.jit.trace: the recorded graph (ops, arguments, shapes, dtypes, parameters by name, scopes), its
replay on new inputs, and the tracer's warnings and errors (PyTorch's TracerWarning cases)."""
from __future__ import annotations

import warnings

import pytest

import ember
from ember import nn
from ember.jit import TracerWarning
from ember.testing import assert_close


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_graph_of_a_module_names_parameters_and_scopes():
    m = _mlp()
    traced = ember.jit.trace(m, ember.randn(2, 4))
    g = traced.graph
    assert [n.op for n in g.nodes] == ["linear", "relu", "linear"]
    assert list(g.params) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n.scope for n in g.nodes] == ["0", "1", "2"]
    assert [v.name for v in g.inputs] == ["input"] and g.inputs[0].shape == (2, 4)
    out = g.nodes[-1].outputs[0]
    assert out.shape == (2, 3) and out.dtype is ember.float32 and out.depends_on_input
    text = str(g)
    assert text.startswith("graph(%input : Float(2, 4),") and "= relu(%0)  # 1" in text
    assert text.rstrip().endswith("return %2")
    assert list(traced.state_dict()) == list(m.state_dict())


def test_replay_gives_the_module_outputs_on_new_inputs_and_follows_new_weights():
    m = _mlp()
    traced = ember.jit.trace(m, ember.randn(2, 4))
    x = ember.randn(2, 4)
    assert_close(traced(x), m(x))
    with ember.no_grad():
        m[0].weight.mul_(2)            # parameters are shared: the replay reads the current values
    assert_close(traced(x), m(x))


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_replay_of_attention_recurrent_and_inplace_models(dtype):
    ember.manual_seed(1)
    models = [
        (nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2).eval(), (2, 5, 8)),
        (nn.LSTM(4, 5, num_layers=2, batch_first=True), (2, 3, 4)),
        (nn.GRU(4, 5, bidirectional=True), (3, 2, 4)),
    ]
    for m, shape in models:
        m = m.to(dtype)
        traced = ember.jit.trace(m, ember.randn(*shape, dtype=dtype))
        x = ember.randn(*shape, dtype=dtype)
        for got, want in zip(_flat(traced(x)), _flat(m(x)), strict=True):
            assert_close(got, want)


def _flat(out) -> list:
    return [out] if isinstance(out, ember.Tensor) else [t for o in out for t in _flat(o)]


def test_functions_inplace_ops_setitem_and_constants():
    scale = ember.tensor([1.0, 2.0, 3.0])

    def f(x):
        y = x.clone()
        y[0] = 5.0
        y.relu_()
        return y * scale, x.sum(0)

    traced = ember.jit.trace(f, ember.randn(3, 3))
    assert [n.op for n in traced.graph.nodes] == ["clone", "__setitem__", "relu_", "__mul__", "sum"]
    assert len(traced.graph.constants) == 1 and traced.graph.constants[0].shape == (3,)
    x = ember.randn(3, 3)
    for got, want in zip(traced(x), f(x)):
        assert_close(got, want)


def test_tensor_to_python_conversions_warn():
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x

    with pytest.warns(TracerWarning, match="Converting a tensor to a Python boolean") as rec:
        ember.jit.trace(f, ember.ones(2))
    assert sum(issubclass(w.category, TracerWarning) for w in rec) == 1   # bool() reads item(): one warning
    with pytest.warns(TracerWarning, match="Python number"):
        ember.jit.trace(lambda x: x * x.max().item(), ember.ones(2), check_trace=False)


@pytest.mark.filterwarnings("ignore:Converting a tensor to a Python float")
def test_check_trace_warns_when_the_replay_differs_on_check_inputs():
    def f(x):
        return x * float(x.sum())      # the factor is frozen at the example's value

    with pytest.warns(TracerWarning, match="Output nr 1. of the traced function does not match"):
        ember.jit.trace(f, ember.ones(2), check_inputs=[(ember.full((2,), 3.0),)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TracerWarning)
        ember.jit.trace(lambda x: x.exp() + 1, ember.ones(2), check_inputs=[(ember.full((2,), 3.0),)])


def test_unseen_tensors_warn_and_strict_refuses_mutable_outputs():
    def hidden(x):
        return x + x.detach() * 2      # detach is not an op: its result is a constant of the trace

    with pytest.warns(TracerWarning, match="no traced op made"):
        ember.jit.trace(hidden, ember.ones(2), check_trace=False)
    with pytest.warns(TracerWarning, match="to a NumPy array"):
        ember.jit.trace(lambda x: x + ember.from_numpy(x.numpy() * 2), ember.ones(2), check_trace=False)
    with pytest.raises(RuntimeError, match="Encountering a list at the output of the tracer"):
        ember.jit.trace(lambda x: [x + 1], ember.ones(2))
    traced = ember.jit.trace(lambda x: {"y": x + 1}, ember.ones(2), strict=False)
    assert_close(traced(ember.zeros(2))["y"], ember.ones(2))
    with pytest.raises(RuntimeError, match="example_inputs"):
        ember.jit.trace(lambda x: x)


def test_replay_on_non_contiguous_and_empty_inputs():
    ember.manual_seed(3)
    m = nn.Sequential(nn.Linear(4, 3), nn.Tanh()).double()
    traced = ember.jit.trace(m, ember.randn(5, 4, dtype=ember.float64))
    base = ember.randn(4, 10, dtype=ember.float64)
    for x in (base.t()[::2], ember.randn(1, 4, dtype=ember.float64).expand(5, 4)):   # permuted+strided, expanded
        assert not x.is_contiguous()
        assert_close(traced(x), m(x))
    empty = ember.jit.trace(lambda x: (x * 2).sum(0), ember.zeros(0, 3))
    assert_close(empty(ember.zeros(0, 3)), ember.zeros(3))


def test_is_tracing_inside_the_traced_call_only():
    seen = []
    ember.jit.trace(lambda x: seen.append(ember.jit.is_tracing()) or x * 2, ember.ones(1), check_trace=False)
    assert seen == [True] and ember.jit.is_tracing() is False
