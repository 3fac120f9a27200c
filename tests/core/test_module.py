"""nn.Module registration, traversal, state_dict, modes, device/dtype moves, hooks and containers."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from ember.testing import assert_close


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.scale = nn.Parameter(ember.ones(1))
        self.register_buffer("running", ember.zeros(2))
        self.register_buffer("scratch", ember.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh()) * self.scale + self.running


def test_registration_and_traversal():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in net.named_buffers()] == ["running", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "fc2"]
    assert len(list(net.parameters())) == 4 and len(list(net.modules())) == 3
    assert net.get_submodule("fc1") is net.fc1 and net.get_parameter("fc1.bias") is net.fc1.bias
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' as parameter 'scale'"):
        net.scale = ember.ones(1)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    del net.fc2
    assert [n for n, _ in net.named_children()] == ["fc1"]


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Identity(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_state_dict_keys_and_round_trip():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["scale", "running", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert not sd["fc1.weight"].requires_grad
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = ember.randn(5, 4)
    assert_close(a(x), b(x))
    assert b.fc1.weight is not a.fc1.weight  # values copied, parameters kept


def test_load_state_dict_reports_missing_unexpected_and_size_mismatch():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["extra.weight"] = ember.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc1.bias".*\n.*Unexpected key\\(s\\) '
                                           'in state_dict: "extra.weight"'):
        net.load_state_dict(sd)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra.weight"]
    bad = Net().state_dict()
    bad["fc1.weight"] = ember.zeros(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight: copying a param with shape "
                                           "ember.Size\\(\\[2, 2\\]\\) from checkpoint, the shape in current "
                                           "model is ember.Size\\(\\[3, 4\\]\\)"):
        Net().load_state_dict(bad)


def test_train_eval_requires_grad_zero_grad():
    net = Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.fc1.training
    net.train()
    assert net.fc2.training
    net(ember.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_and_to_dtype_keep_parameter_objects():
    net = Net()
    w = net.fc1.weight
    net.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert float(net.fc1.weight.abs().sum()) == 0
    net.double()
    assert net.fc1.weight is w and w.dtype is ember.float64 and net.running.dtype is ember.float64
    net.to(ember.float32)
    assert w.dtype is ember.float32
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        net.to(ember.int64)


def test_to_device_moves_parameters_and_buffers(accel):
    net = Net().to("accel:1")
    assert all(p.device == "accel:1" for p in net.parameters())
    assert net.running.device == "accel:1"
    out = net(ember.randn(2, 4).to("accel:1"))
    assert out.device == "accel:1"
    out.sum().backward()
    assert net.fc1.weight.grad.device == "accel:1"


def test_repr_matches_pytorch():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 1)))
    assert repr(seq) == ("Sequential(\n"
                         "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
                         "  (1): Sequential(\n"
                         "    (0): Linear(in_features=3, out_features=1, bias=True)\n"
                         "  )\n"
                         ")")
    assert repr(nn.Identity()) == "Identity()"


def test_forward_pre_hook_and_forward_hook():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(ember.ones(1, 2))
    assert calls == [(1, 2)]
    assert_close(out, lin.bias.detach().reshape(1, 2) + 1)
    h1.remove()
    h2.remove()
    assert_close(lin(ember.zeros(1, 2)), lin.bias.detach().reshape(1, 2))


def test_full_backward_hook_sees_grad_input_and_grad_output():
    lin = nn.Linear(3, 2)
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["in"], seen["out"] = grad_input, grad_output
        return (grad_input[0] * 2,)

    lin.register_full_backward_hook(hook)
    x = ember.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert seen["out"][0].shape == (4, 2) and seen["in"][0].shape == (4, 3)
    expected = np.ones((4, 2), dtype=np.float32) @ lin.weight.detach().numpy()
    assert_close(x.grad, 2 * expected)


def test_missing_forward_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


def test_sequential_and_lists():
    seq = nn.Sequential(nn.Linear(2, 2), nn.Identity())
    assert len(seq) == 2 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Identity)
    assert isinstance(seq[:1], nn.Sequential) and len(seq[:1]) == 1
    seq.append(nn.Identity())
    assert list(seq._modules) == ["0", "1", "2"]
    named = nn.Sequential(OrderedDict(first=nn.Linear(1, 1)))
    assert list(named.state_dict()) == ["first.weight", "first.bias"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    with pytest.raises(IndexError, match="out of range"):
        ml[5]
    md = nn.ModuleDict({"a": nn.Linear(1, 2)})
    md["b"] = nn.Identity()
    assert list(md.keys()) == ["a", "b"] and "a" in md
    pl = nn.ParameterList([nn.Parameter(ember.ones(2)), ember.zeros(3)])
    assert len(list(pl.parameters())) == 2 and isinstance(pl[1], nn.Parameter)
    assert list(pl.state_dict()) == ["0", "1"]
    pd = nn.ParameterDict({"w": nn.Parameter(ember.ones(1))})
    assert list(pd.state_dict()) == ["w"]


def test_parameter_basics():
    p = nn.Parameter(ember.ones(2))
    assert p.requires_grad and p.is_leaf and isinstance(p, ember.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor([1., 1.], requires_grad=True)")
    q = nn.Parameter(ember.ones(2), requires_grad=False)
    assert not q.requires_grad
    t = ember.zeros(2)
    shared = nn.Parameter(t)
    with ember.no_grad():
        shared.add_(1)
    assert t.tolist() == [1.0, 1.0]
    assert type(p * 2) is ember.Tensor


def test_flatten_unflatten_identity():
    x = ember.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, -1)(x).shape == (24,)
    assert nn.Unflatten(1, (3, 1))(ember.randn(2, 3)).shape == (2, 3, 1)
    assert nn.Identity(1, foo=2)(x) is x


def test_linear_matches_numpy_and_gradcheck():
    lin = nn.Linear(3, 2).double()
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert_close(lin(x), x.detach().numpy() @ w.T + b)
    assert ember.autograd.gradcheck(lambda x, w, b: nn.functional.linear(x, w, b), (x, lin.weight, lin.bias))
    assert ember.autograd.gradgradcheck(lambda x, w, b: nn.functional.linear(x, w, b), (x, lin.weight, lin.bias))
    x3 = ember.randn(2, 2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: lin(x), (x3,))
    assert lin(ember.randn(3, dtype=ember.float64)).shape == (2,)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied \\(4x5 and 3x2\\)"):
        lin(ember.randn(4, 5, dtype=ember.float64))


def test_linear_default_init_bounds():
    lin = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-6 and np.abs(w).max() > 0.8 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound


def test_bilinear():
    bl = nn.Bilinear(2, 3, 4).double()
    x1 = ember.randn(5, 2, dtype=ember.float64, requires_grad=True)
    x2 = ember.randn(5, 3, dtype=ember.float64, requires_grad=True)
    ref = np.einsum("bi,kij,bj->bk", x1.detach().numpy(), bl.weight.detach().numpy(), x2.detach().numpy())
    assert_close(bl(x1, x2), ref + bl.bias.detach().numpy())
    assert list(bl.state_dict()) == ["weight", "bias"]
    assert ember.autograd.gradcheck(lambda a, b: bl(a, b), (x1, x2))
