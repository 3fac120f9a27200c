"""RNN / LSTM / GRU layers and cells, packed sequences, and a tiny character-level LSTM language model.

Forward results are checked against a plain NumPy reference below (one sequence at a time, a Python
loop over time steps); gradients with gradcheck/gradgradcheck in float64 on tiny sizes.
"""

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn._functional import rnn as R
from ember.nn.utils import rnn as U
from ember.testing import assert_close

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


# ---- NumPy reference ----------------------------------------------------------------------------
def _sig(x):
    return 1 / (1 + np.exp(-x))


def ref_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step; returns (h', c') (c' None except for LSTM)."""
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0 if b_hh is None else b_hh)
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0), None
    H = h.shape[-1]
    if mode == "LSTM":
        a = gi + gh
        i, f, g, o = (a[..., k * H:(k + 1) * H] for k in range(4))
        c2 = _sig(f) * c + _sig(i) * np.tanh(g)
        return _sig(o) * np.tanh(c2), c2
    r = _sig(gi[..., :H] + gh[..., :H])
    z = _sig(gi[..., H:2 * H] + gh[..., H:2 * H])
    n = np.tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
    return (1 - z) * n + z * h, None


def ref_rnn(mode, seqs, weights, num_layers, bidirectional, h0=None, c0=None):
    """Multi-layer (bi)directional recurrence over a list of (T_b, I) arrays, one sequence at a time.

    weights: per layer-direction (w_ih, w_hh, b_ih, b_hh). Returns (outputs list, h_n, c_n)."""
    dirs = 2 if bidirectional else 1
    H = weights[0][1].shape[1]
    B = len(seqs)
    hn = np.zeros((num_layers * dirs, B, H))
    cn = np.zeros((num_layers * dirs, B, H))
    outs = []
    for b, x in enumerate(seqs):
        inp = x
        for layer in range(num_layers):
            per_dir = []
            for d in range(dirs):
                k = layer * dirs + d
                h = np.zeros(H) if h0 is None else h0[k, b]
                c = np.zeros(H) if c0 is None else c0[k, b]
                ys = np.zeros((len(inp), H))
                order = range(len(inp)) if d == 0 else reversed(range(len(inp)))
                for t in order:
                    h, c = ref_cell(mode, inp[t], h, c, *weights[k])
                    ys[t] = h
                hn[k, b] = h
                if c is not None:
                    cn[k, b] = c
                per_dir.append(ys)
            inp = np.concatenate(per_dir, -1)
        outs.append(inp)
    return outs, hn, cn


def _module(mode, I, H, **kw):
    cls = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(mode)
    if cls is None:
        return nn.RNN(I, H, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kw).double()
    return cls(I, H, **kw).double()


def _np_weights(m):
    bias = m.bias
    out = []
    for names in m._all_weights:
        ws = [getattr(m, n).detach().numpy() for n in names]
        out.append(tuple(ws) if bias else (ws[0], ws[1], None, None))
    return out


def _call(m, mode, x, h0, c0):
    if h0 is None:
        return m(x)
    return m(x, (h0, c0) if mode == "LSTM" else h0)


def _split(out, mode):
    y, state = out
    return (y, state[0], state[1]) if mode == "LSTM" else (y, state, None)


# ---- forward against the reference ----------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,bias,with_state",
                         [(1, False, False, True, False), (2, True, False, True, True),
                          (2, False, True, False, True), (1, True, True, True, False)])
def test_forward_matches_numpy_reference(mode, num_layers, bidirectional, batch_first, bias, with_state):
    ember.manual_seed(0)
    T, B, I, H = 4, 3, 3, 5
    m = _module(mode, I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(T, B, I))
    L = num_layers * (2 if bidirectional else 1)
    h0 = rng.normal(size=(L, B, H)) if with_state else None
    c0 = rng.normal(size=(L, B, H)) if with_state else None
    xin = x.transpose(1, 0, 2) if batch_first else x
    y, hn, cn = _split(_call(m, mode, ember.tensor(xin.copy()), None if h0 is None else ember.tensor(h0),
                             None if c0 is None else ember.tensor(c0)), mode)
    outs, rh, rc = ref_rnn(mode, [x[:, b] for b in range(B)], _np_weights(m), num_layers, bidirectional, h0, c0)
    expected = np.stack(outs, 0 if batch_first else 1)
    assert y.shape == expected.shape
    assert_close(y, expected, rtol=1e-10, atol=1e-10)
    assert_close(hn, rh, rtol=1e-10, atol=1e-10)
    if mode == "LSTM":
        assert_close(cn, rc, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_reference_per_sequence(mode, enforce_sorted):
    ember.manual_seed(0)
    I, H = 3, 4
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 3]
    m = _module(mode, I, H, num_layers=2, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(n, I)) for n in lengths]
    h0, c0 = rng.normal(size=(4, len(seqs), H)), rng.normal(size=(4, len(seqs), H))
    padded = U.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True)
    packed = U.pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    y, hn, cn = _split(_call(m, mode, packed, ember.tensor(h0), ember.tensor(c0)), mode)
    assert isinstance(y, U.PackedSequence)
    out, out_lens = U.pad_packed_sequence(y, batch_first=True, padding_value=-7.0)
    assert out_lens.tolist() == lengths
    ref, rh, rc = ref_rnn(mode, seqs, _np_weights(m), 2, True, h0, c0)
    for b, n in enumerate(lengths):
        assert_close(out[b, :n], ref[b], rtol=1e-10, atol=1e-10)
        assert (out[b, n:] == -7.0).all()
    assert_close(hn, rh, rtol=1e-10, atol=1e-10)
    if mode == "LSTM":
        assert_close(cn, rc, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input_and_default_state(mode):
    m = _module(mode, 3, 4, num_layers=2)
    x = np.random.default_rng(3).normal(size=(6, 3))
    h0 = np.random.default_rng(4).normal(size=(2, 4))
    y, hn, cn = _split(_call(m, mode, ember.tensor(x), ember.tensor(h0), ember.tensor(h0 * 0.5)), mode)
    assert y.shape == (6, 4) and hn.shape == (2, 4)
    ref, rh, rc = ref_rnn(mode, [x], _np_weights(m), 2, False, h0[:, None], h0[:, None] * 0.5)
    assert_close(y, ref[0], rtol=1e-10, atol=1e-10)
    assert_close(hn, rh[:, 0], rtol=1e-10, atol=1e-10)
    # no state given: zeros
    y0 = _split(m(ember.tensor(x)), mode)[0]
    assert_close(y0, ref_rnn(mode, [x], _np_weights(m), 2, False)[0][0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls,mode", [(nn.RNNCell, "RNN_TANH"), (nn.LSTMCell, "LSTM"), (nn.GRUCell, "GRU")])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_reference(cls, mode, bias):
    cell = cls(3, 4, bias=bias).double()
    rng = np.random.default_rng(5)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    w = (cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy(),
         None if not bias else cell.bias_ih.detach().numpy(), None if not bias else cell.bias_hh.detach().numpy())
    rh, rc = ref_cell(mode, x, h, c, *w)
    out = cell(ember.tensor(x), (ember.tensor(h), ember.tensor(c)) if mode == "LSTM" else ember.tensor(h))
    got = out[0] if mode == "LSTM" else out
    assert_close(got, rh, rtol=1e-12, atol=1e-12)
    if mode == "LSTM":
        assert_close(out[1], rc, rtol=1e-12, atol=1e-12)
    # unbatched input, no state (zeros)
    out1 = cell(ember.tensor(x[0]))
    r1, _ = ref_cell(mode, x[0], np.zeros(4), np.zeros(4), *w)
    assert_close(out1[0] if mode == "LSTM" else out1, r1, rtol=1e-12, atol=1e-12)


def test_relu_cell_and_rnn_relu_layer_agree_with_cell_loop():
    ember.manual_seed(0)
    cell = nn.RNNCell(3, 4, nonlinearity="relu").double()
    layer = nn.RNN(3, 4, nonlinearity="relu").double()
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = ember.randn(5, 2, 3, dtype=ember.float64)
    h = ember.zeros(2, 4, dtype=ember.float64)
    for t in range(5):
        h = cell(x[t], h)
    assert_close(layer(x)[1][0], h, rtol=1e-12, atol=1e-12)
    assert repr(cell) == "RNNCell(3, 4, nonlinearity=relu)"


# ---- gradients ------------------------------------------------------------------------------------
def _weights(mode, I, H, layers, dirs, bias, seed):
    g = {"LSTM": 4, "GRU": 3}.get(mode, 1) * H
    rng = np.random.default_rng(seed)
    out = []
    for layer in range(layers):
        for _ in range(dirs):
            i = I if layer == 0 else H * dirs
            ws = [rng.uniform(-0.8, 0.8, size=s) for s in ((g, i), (g, H), (g,), (g,))]
            ws = [ember.tensor(w, requires_grad=True) for w in ws]
            out.append(tuple(ws) if bias else (ws[0], ws[1], None, None))
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["plain", "bidirectional_2_layers", "packed_with_state"])
def test_gradcheck_layers(mode, case):
    I, H = 2, 2
    layers, dirs, bias = {"plain": (1, 1, True), "bidirectional_2_layers": (2, 2, False),
                          "packed_with_state": (1, 2, True)}[case]
    batch_sizes = (2, 2, 1) if case == "packed_with_state" else (2, 2)
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.normal(size=(sum(batch_sizes), I)), requires_grad=True)
    ws = _weights(mode, I, H, layers, dirs, bias, 8)
    flat = [w for group in ws for w in group if w is not None]
    states = []
    if case == "packed_with_state":
        states = [ember.tensor(rng.normal(size=(layers * dirs, 2, H)), requires_grad=True)
                  for _ in range(2 if mode == "LSTM" else 1)]
    if mode == "RNN_RELU":  # keep pre-activations away from the kink
        x = ember.tensor(np.abs(x.detach().numpy()) + 0.5, requires_grad=True)

    def fn(x, *args):
        st, rest = args[:len(states)], list(args[len(states):])
        it = iter(rest)
        w = [tuple(next(it) if a is not None else None for a in group) for group in ws]
        hx = st[0] if st else None
        cx = st[1] if len(st) > 1 else None
        y, hn, cn = R.recurrent_layers(mode, x, batch_sizes, hx, cx, w, layers, dirs == 2, 0.0, False)
        return (y, hn) if cn is None else (y, hn, cn)

    assert gradcheck(fn, (x, *states, *flat))


@pytest.mark.parametrize("mode", MODES)
def test_gradgradcheck_layer(mode):
    rng = np.random.default_rng(9)
    x = ember.tensor(rng.normal(size=(3, 2)) + (1.0 if mode == "RNN_RELU" else 0.0), requires_grad=True)
    h0 = ember.tensor(rng.normal(size=(2, 2)), requires_grad=True)
    ((w_ih, w_hh, b_ih, b_hh),) = _weights(mode, 2, 2, 1, 1, True, 10)
    cell = R.CELLS[mode]

    def fn(x, h0, w_ih, w_hh):
        y, hn, _ = R.Recurrence.apply(x, h0, None, w_ih, w_hh, b_ih, b_hh, cell, (2, 1), True)
        return y, hn

    assert gradgradcheck(fn, (x, h0, w_ih, w_hh))


@pytest.mark.parametrize("fn,gates", [(F.rnn_tanh_cell, 1), (F.lstm_cell, 4), (F.gru_cell, 3)])
def test_gradcheck_and_gradgradcheck_cells(fn, gates):
    rng = np.random.default_rng(11)

    def t(*shape):
        return ember.tensor(rng.normal(size=shape), requires_grad=True)
    x, h, c = t(2, 2), t(2, 2), t(2, 2)
    w_ih, w_hh, b_ih, b_hh = t(gates * 2, 2), t(gates * 2, 2), t(gates * 2), t(gates * 2)

    def f(x, h, c, w_ih, w_hh, b_ih, b_hh):
        return fn(x, (h, c) if gates == 4 else h, w_ih, w_hh, b_ih, b_hh)

    args = (x, h, c, w_ih, w_hh, b_ih, b_hh)
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("layout", ["batch_first", "unbatched"])
def test_gradcheck_through_the_module(mode, layout):
    ember.manual_seed(0)
    m = _module(mode, 2, 2, bidirectional=True, batch_first=layout == "batch_first")
    rng = np.random.default_rng(12)
    shape = (2, 3, 2) if layout == "batch_first" else (3, 2)
    x = ember.tensor(rng.normal(size=shape), requires_grad=True)
    h0 = ember.tensor(rng.normal(size=(2, 2, 2) if layout == "batch_first" else (2, 2)), requires_grad=True)

    def fn(x, h0):
        y, state = m(x, (h0, h0 * 0.5) if mode == "LSTM" else h0)
        return (y, state[0], state[1]) if mode == "LSTM" else (y, state)

    assert gradcheck(fn, (x, h0))


def test_runs_on_another_device(accel):
    ember.manual_seed(0)
    m = nn.LSTM(3, 4, bidirectional=True).double()
    x = ember.randn(5, 2, 3, dtype=ember.float64)
    y_cpu, (h_cpu, _) = m(x)
    m.to("accel:1")
    xa = x.to("accel:1").requires_grad_()
    y, (h, c) = m(xa)
    assert y.device == ember.device("accel:1") and h.device == ember.device("accel:1")
    assert_close(y.cpu(), y_cpu, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    assert xa.grad.device == ember.device("accel:1") and m.weight_hh_l0.grad.device == ember.device("accel:1")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        m(x)


def test_empty_batch_and_empty_sequence():
    m = nn.GRU(3, 4)
    y, h = m(ember.zeros(2, 0, 3))
    assert y.shape == (2, 0, 4) and h.shape == (1, 0, 4)
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        m(ember.zeros(0, 2, 3))


def test_module_backward_accumulates_parameter_grads_and_state_grads():
    ember.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    x = ember.randn(5, 2, 3, dtype=ember.float64, requires_grad=True)
    h0 = ember.zeros(4, 2, 4, dtype=ember.float64, requires_grad=True)
    c0 = ember.zeros(4, 2, 4, dtype=ember.float64, requires_grad=True)
    y, (hn, cn) = m(x, (h0, c0))
    (y.sum() + hn.sum() + cn.sum()).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())
    assert x.grad.shape == x.shape and h0.grad.shape == h0.shape and c0.grad.shape == c0.shape


def test_no_grad_forward_builds_no_graph_and_float32_runs():
    m = nn.GRU(3, 4)
    x = ember.randn(6, 2, 3)
    with ember.no_grad():
        y, h = m(x)
    assert y.grad_fn is None and y.dtype == ember.float32
    y2, _ = m(x)
    assert y2.requires_grad and y2.dtype == ember.float32
    assert_close(y, y2.detach())


# ---- module API: parameters, state_dict keys, init, errors ----------------------------------------
def test_state_dict_keys_are_pytorchs():
    assert list(nn.LSTM(3, 4, num_layers=2, bidirectional=True).state_dict()) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"]
    assert list(nn.GRU(3, 4, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(nn.RNN(3, 4, num_layers=2).state_dict()) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    for cls in (nn.RNNCell, nn.LSTMCell, nn.GRUCell):
        assert list(cls(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    sd = nn.LSTM(3, 4, num_layers=2, bidirectional=True).state_dict()
    assert tuple(sd["weight_ih_l0"].shape) == (16, 3) and tuple(sd["weight_ih_l1"].shape) == (16, 8)
    assert tuple(sd["weight_hh_l1_reverse"].shape) == (16, 4) and tuple(sd["bias_hh_l0"].shape) == (16,)
    assert tuple(nn.GRU(3, 4).weight_ih_l0.shape) == (12, 3)
    assert tuple(nn.GRUCell(3, 4).weight_hh.shape) == (12, 4)


def test_init_is_uniform_in_inverse_sqrt_hidden():
    ember.manual_seed(0)
    m = nn.LSTM(10, 25, num_layers=2)
    vals = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(vals).max() <= 0.2 and np.abs(vals).max() > 0.19
    assert abs(vals.mean()) < 0.01


def test_reprs():
    assert repr(nn.LSTM(3, 4, 2, bidirectional=True, batch_first=True, dropout=0.2)) == \
        "LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.2, bidirectional=True)"
    assert repr(nn.RNN(3, 4, bias=False)) == "RNN(3, 4, bias=False)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"


def test_dropout_between_layers_only_in_training():
    ember.manual_seed(0)
    m = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = ember.randn(4, 2, 3)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert_close(a, b)
    m.train()
    ember.manual_seed(1)
    c = m(x)[0]
    ember.manual_seed(2)
    d = m(x)[0]
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


def test_input_and_state_errors():
    m = nn.LSTM(10, 20)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        m(ember.zeros(2, 3, 4, 10))
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. Expected 10, got 5"):
        m(ember.zeros(2, 3, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 3, 20\), got \[1, 2, 20\]"):
        m(ember.zeros(2, 3, 10), (ember.zeros(1, 2, 20), ember.zeros(1, 3, 20)))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 3, 20\), got \[1, 2, 20\]"):
        m(ember.zeros(2, 3, 10), (ember.zeros(1, 3, 20), ember.zeros(1, 2, 20)))
    with pytest.raises(RuntimeError, match=r"For unbatched 2-D input, hx and cx should also be 2-D but got "
                                           r"\(3-D, 3-D\) tensors"):
        m(ember.zeros(2, 10), (ember.zeros(1, 3, 20), ember.zeros(1, 3, 20)))
    with pytest.raises(ValueError, match=r"RNN input dtype \(ember.float64\) does not match weight dtype"):
        m(ember.zeros(2, 3, 10, dtype=ember.float64))
    g = nn.GRU(10, 20)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 20\), got \[1, 2, 20\]"):
        g(ember.zeros(2, 3, 10), ember.zeros(1, 2, 20))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D tensor"):
        g(ember.zeros(2, 3, 10), ember.zeros(2, 20))
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sig'"):
        nn.RNN(3, 4, nonlinearity="sig")
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    c = nn.LSTMCell(10, 20)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 10"):
        c(ember.zeros(3, 5))
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden0 batch size 2"):
        c(ember.zeros(3, 10), (ember.zeros(2, 20), ember.zeros(3, 20)))
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D instead"):
        c(ember.zeros(3, 4, 10))
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 19, expected 20"):
        nn.GRUCell(10, 20)(ember.zeros(3, 10), ember.zeros(3, 19))


def test_double_backward_goes_through_recomputation():
    # create_graph=True: the gradient is itself differentiable (a gradient penalty on an LSTM).
    ember.manual_seed(0)
    m = nn.LSTM(2, 3).double()
    x = ember.randn(4, 2, 2, dtype=ember.float64, requires_grad=True)
    (gx,) = ember.autograd.grad(m(x)[0].pow(2).sum(), x, create_graph=True)
    gx.pow(2).sum().backward()
    assert m.weight_hh_l0.grad is not None and float(m.weight_hh_l0.grad.abs().sum()) > 0


# ---- nn.utils.rnn -----------------------------------------------------------------------------------
def test_pack_and_pad_against_numpy():
    rng = np.random.default_rng(12)
    lengths = [2, 4, 1]
    seqs = [rng.normal(size=(n, 3)) for n in lengths]
    padded = U.pad_sequence([ember.tensor(s) for s in seqs], padding_value=-1.0)
    expected = np.full((4, 3, 3), -1.0)
    for b, s in enumerate(seqs):
        expected[:len(s), b] = s
    assert_close(padded, expected)
    left = U.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True, padding_side="left")
    for b, s in enumerate(seqs):
        assert_close(left[b, 4 - len(s):], s)
        assert (left[b, :4 - len(s)] == 0).all()
    packed = U.pack_padded_sequence(padded, lengths, enforce_sorted=False)
    order = [1, 0, 2]
    exp_data = [seqs[b][t] for t in range(4) for b in order if t < lengths[b]]
    assert_close(packed.data, np.array(exp_data))
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1] and packed.batch_sizes.dtype == ember.int64
    assert packed.sorted_indices.tolist() == order and packed.unsorted_indices.tolist() == [1, 0, 2]
    back, lens = U.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0, total_length=6)
    assert back.shape == (3, 6, 3) and lens.tolist() == lengths
    assert_close(back[:, :4], expected.transpose(1, 0, 2))
    assert (back[:, 4:] == -1.0).all()
    unpacked = U.unpack_sequence(U.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False))
    for a, s in zip(unpacked, seqs):
        assert_close(a, s)


def test_pack_pad_errors():
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
        U.pack_padded_sequence(ember.zeros(3, 2), [1, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        U.pack_padded_sequence(ember.zeros(3, 2), [3, 0])
    p = U.pack_sequence([ember.zeros(3, 2), ember.zeros(2, 2)])
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of the longest"):
        U.pad_packed_sequence(p, total_length=2)


def test_pack_pad_gradcheck():
    x = ember.tensor(np.random.default_rng(13).normal(size=(3, 2, 2)), requires_grad=True)

    def fn(x):
        packed = U.pack_padded_sequence(x, [2, 3], batch_first=False, enforce_sorted=False)
        return U.pad_packed_sequence(packed, batch_first=True, padding_value=0.5)[0]

    assert gradcheck(fn, (x,))
    seqs = [ember.tensor(np.ones((n, 2)) * n, requires_grad=True) for n in (1, 3)]
    assert gradcheck(lambda a, b: U.pad_sequence([a, b], batch_first=True), tuple(seqs))


def test_packed_sequence_to_and_module_roundtrip_of_sorting():
    # hidden states of an enforce_sorted=False packed batch come back in the caller's order
    ember.manual_seed(0)
    m = nn.GRU(2, 3).double()
    seqs = [ember.randn(n, 2, dtype=ember.float64) for n in (1, 4, 2)]
    _, h_packed = m(U.pack_sequence(seqs, enforce_sorted=False))
    for b, s in enumerate(seqs):
        assert_close(h_packed[0, b], m(s)[1][0], rtol=1e-12, atol=1e-12)
    p = U.pack_sequence(seqs, enforce_sorted=False).to(ember.float32)
    assert p.data.dtype == ember.float32 and isinstance(p, U.PackedSequence) and not p.is_cuda


# ---- a tiny character-level language model ----------------------------------------------------------
TEXT = ("the quick brown fox jumps over the lazy dog. a stitch in time saves nine. "
        "all that glitters is not gold. the early bird catches the worm. ") * 2


def test_char_lstm_language_model_learns_a_short_text():
    """An embedding -> LSTM(48) -> linear character model, trained with Adam (lr 0.02) on a fixed
    276-character text (34 overlapping chunks of 40 characters, full batch) for 60 steps from fixed
    seeds. The cross-entropy starts near ln(28 characters) ~ 3.3 nats/char and must fall below
    0.3 nats/char (it reaches ~0.05; about 1 s of CPU time)."""
    ember.manual_seed(0)
    chars = sorted(set(TEXT))
    idx = np.array([chars.index(ch) for ch in TEXT])
    V, T = len(chars), 40
    starts = np.arange(0, len(idx) - T - 1, 7)
    xs = ember.tensor(np.stack([idx[s:s + T] for s in starts]))
    ys = ember.tensor(np.stack([idx[s + 1:s + T + 1] for s in starts]))

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, 16)
            self.lstm = nn.LSTM(16, 48, batch_first=True)
            self.head = nn.Linear(48, V)

        def forward(self, x):
            return self.head(self.lstm(self.emb(x))[0])

    model = CharLM()
    opt = ember.optim.Adam(model.parameters(), lr=0.02)

    def loss_fn():
        logits = model(xs)
        return F.cross_entropy(logits.reshape(-1, V), ys.reshape(-1))

    first = float(loss_fn())
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    final = float(loss_fn())
    assert first > 2.5
    assert final < 0.3, f"loss {first:.3f} -> {final:.3f}"


def test_changing_the_output_in_place_before_backward_is_reported():
    m = nn.RNN(2, 3)
    y, _ = m(ember.randn(4, 1, 2, requires_grad=True))
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
