"""ember.optim: every optimizer against an independent NumPy reference of its documented algorithm,
plus the Optimizer machinery (param groups, state_dict, closure, hooks, errors)."""
import copy
import pickle

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from ember.testing import assert_close

# ---- the problem: two parameters, a loss whose gradient depends on them ------------------------
RNG = np.random.default_rng(7)
W0 = RNG.standard_normal((3, 2))
B0 = RNG.standard_normal(4)
A = RNG.standard_normal((3, 2))
C = RNG.standard_normal((3, 2))
D = RNG.uniform(0.5, 2.0, 4)


def loss_fn(w, b):
    return ((w * ember.tensor(A) - ember.tensor(C)) ** 2).sum() + (b * b * ember.tensor(D)).sum() * 0.5


def np_grads(ps):
    w, b = ps
    return [2 * A * (w * A - C), D * b]


def run_ember(cls, kwargs, steps, dtype=ember.float64, groups=None):
    w = Parameter(ember.tensor(W0, dtype=dtype))
    b = Parameter(ember.tensor(B0, dtype=dtype))
    params = [w, b] if groups is None else [dict(g, params=[[w, b][i]]) for i, g in enumerate(groups)]
    opt = cls(params, **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w.to(ember.float64), b.to(ember.float64)).backward()
        opt.step()
        out.append([w.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64)])
    return out


def run_ref(update, kwargs, steps, groups=None):
    """Drive a reference ``update(p, g, state, t, **hyper)`` (float64 NumPy) over the same problem."""
    ps = [W0.copy(), B0.copy()]
    states = [{}, {}]
    out = []
    for t in range(1, steps + 1):
        gs = np_grads(ps)
        for i in range(2):
            hyper = dict(kwargs, **(groups[i] if groups else {}))
            ps[i] = update(ps[i], gs[i], states[i], t, **hyper)
        out.append([p.copy() for p in ps])
    return out


def _pre(g, p, maximize, weight_decay):
    g = -g if maximize else g
    return g + weight_decay * p if weight_decay else g


# ---- reference algorithms (from the documented pseudo-code) ------------------------------------
def ref_sgd(p, g, s, t, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    g = _pre(g, p, maximize, weight_decay)
    if momentum:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def _adam_like(p, g, s, t, lr, betas, weight_decay, maximize, decoupled):
    g = -g if maximize else g
    if decoupled:
        p = p - lr * weight_decay * p
    elif weight_decay:
        g = g + weight_decay * p
    b1, b2 = betas
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    return p, g


def ref_adam(p, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
             decoupled_weight_decay=False):
    p, g = _adam_like(p, g, s, t, lr, betas, weight_decay, maximize, decoupled_weight_decay)
    m_hat = s["m"] / (1 - betas[0] ** t)
    v = s["v"]
    if amsgrad:
        s["vmax"] = np.maximum(s.get("vmax", 0), v)
        v = s["vmax"]
    v_hat = v / (1 - betas[1] ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(p, g, s, t, weight_decay=1e-2, **kw):
    return ref_adam(p, g, s, t, weight_decay=weight_decay, decoupled_weight_decay=True, **kw)


def ref_rmsprop(p, g, s, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                maximize=False):
    g = _pre(g, p, maximize, weight_decay)
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
    v = s["v"]
    if centered:
        s["ga"] = alpha * s.get("ga", 0) + (1 - alpha) * g
        v = v - s["ga"] ** 2
    if momentum > 0:
        s["b"] = momentum * s.get("b", 0) + g / (np.sqrt(v) + eps)
        return p - lr * s["b"]
    return p - lr * g / (np.sqrt(v) + eps)


def ref_adagrad(p, g, s, t, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                maximize=False):
    g = _pre(g, p, maximize, weight_decay)
    clr = lr / (1 + (t - 1) * lr_decay)
    s["sum"] = s.get("sum", initial_accumulator_value) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def ref_adadelta(p, g, s, t, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    g = _pre(g, p, maximize, weight_decay)
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    dx = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * dx * dx
    return p - lr * dx


def ref_adamax(p, g, s, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
    g = _pre(g, p, maximize, weight_decay)
    s["m"] = betas[0] * s.get("m", 0) + (1 - betas[0]) * g
    s["u"] = np.maximum(betas[1] * s.get("u", 0), np.abs(g) + eps)
    return p - lr * s["m"] / ((1 - betas[0] ** t) * s["u"])


def ref_nadam(p, g, s, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    p, g = _adam_like(p, g, s, t, lr, betas, weight_decay, maximize, decoupled_weight_decay)
    b1, b2 = betas

    def mu(k):
        return b1 * (1 - 0.5 * 0.96 ** (k * momentum_decay))

    prod_t = np.prod([mu(k) for k in range(1, t + 1)])
    m_hat = mu(t + 1) * s["m"] / (1 - prod_t * mu(t + 1)) + (1 - mu(t)) * g / (1 - prod_t)
    v_hat = s["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_radam(p, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
              maximize=False):
    p, g = _adam_like(p, g, s, t, lr, betas, weight_decay, maximize, decoupled_weight_decay)
    b1, b2 = betas
    m_hat = s["m"] / (1 - b1 ** t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    if rho_t > 5:
        adaptive = np.sqrt(1 - b2 ** t) / (np.sqrt(s["v"]) + eps)
        rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return p - lr * m_hat * rect * adaptive
    return p - lr * m_hat


REFS = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "RMSprop": ref_rmsprop, "Adagrad": ref_adagrad,
        "Adadelta": ref_adadelta, "Adamax": ref_adamax, "NAdam": ref_nadam, "RAdam": ref_radam}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.2, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.3, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.7, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.3, initial_accumulator_value=0.2, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-3)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.6, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.8), weight_decay=0.2, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.1, weight_decay=0.2)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.2)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.2, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_reference_float64(name, kwargs):
    steps = 8
    got = run_ember(getattr(optim, name), kwargs, steps)
    want = run_ref(REFS[name], kwargs, steps)
    # NAdam keeps its running product of momentum coefficients in float32 (as PyTorch does).
    rtol = 1e-6 if name == "NAdam" else 1e-10
    for step, (g, w) in enumerate(zip(got, want)):
        for a, e in zip(g, w):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-12, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("name", sorted(REFS))
def test_float32_parameters_follow_reference(name):
    kwargs = dict(lr=0.05) if name not in ("Adadelta",) else {}
    got = run_ember(getattr(optim, name), kwargs, 5, dtype=ember.float32)
    want = run_ref(REFS[name], kwargs, 5)
    for g, w in zip(got, want):
        for a, e in zip(g, w):
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


def test_param_groups_with_different_hyperparameters():
    groups = [dict(lr=0.1), dict(lr=0.01, momentum=0.5)]
    got = run_ember(optim.SGD, dict(lr=1.0, momentum=0.9), 4, groups=groups)
    want = run_ref(ref_sgd, dict(lr=1.0, momentum=0.9), 4, groups=groups)
    for g, w in zip(got, want):
        for a, e in zip(g, w):
            np.testing.assert_allclose(a, e, rtol=1e-10)
    opt = optim.Adam([{"params": [Parameter(ember.zeros(2))]}, {"params": [Parameter(ember.zeros(1))], "lr": 0.5}],
                     lr=0.1, betas=(0.5, 0.6))
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["betas"] == (0.5, 0.6) and g["eps"] == 1e-8 for g in opt.param_groups)


def test_defaults_match_pytorch():
    p = [Parameter(ember.zeros(1))]
    expect = {"SGD": dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False),
              "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                           decoupled_weight_decay=False),
              "AdamW": dict(lr=1e-3, weight_decay=1e-2, decoupled_weight_decay=True),
              "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, momentum=0, centered=False),
              "Adagrad": dict(lr=1e-2, lr_decay=0, initial_accumulator_value=0, eps=1e-10),
              "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6),
              "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8),
              "NAdam": dict(lr=2e-3, momentum_decay=4e-3, decoupled_weight_decay=False),
              "RAdam": dict(lr=1e-3, decoupled_weight_decay=False)}
    for name, kv in expect.items():
        group = getattr(optim, name)(p).param_groups[0]
        for k, v in kv.items():
            assert group[k] == v, (name, k)
        assert group["maximize"] is False and group["foreach"] is None and group["differentiable"] is False


def test_state_layout_and_step_counter():
    w = Parameter(ember.ones(2, 3))
    opt = optim.Adam([w], amsgrad=True)
    (w * w).sum().backward()
    opt.step()
    opt.step()
    st = opt.state[w]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert st["step"].dtype is ember.float32 and st["step"].shape == () and st["step"].item() == 2.0
    assert st["exp_avg"].shape == (2, 3) and st["exp_avg"].dtype is ember.float32
    # SGD without momentum keeps no state; with momentum only the buffer.
    p = Parameter(ember.ones(2))
    sgd = optim.SGD([p], lr=0.1)
    p.grad = ember.ones(2)
    sgd.step()
    assert len(sgd.state) == 0
    # Adagrad creates its state eagerly, with the initial accumulator value.
    ada = optim.Adagrad([p], initial_accumulator_value=0.25)
    assert ada.state[p]["sum"].tolist() == [0.25, 0.25] and ada.state[p]["step"].item() == 0.0


def test_update_is_in_place_and_bumps_version_once():
    w = Parameter(ember.ones(3))
    data = w._data
    v0 = w._version
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.NAdam):
        opt = cls([w], lr=0.1)
        w.grad = ember.tensor([1.0, -2.0, 3.0])
        grad_before = w.grad.tolist()
        opt.step()
        assert w._data is data  # updated in place
        assert w.grad.tolist() == grad_before  # the gradient itself is never modified
    assert w._version == v0 + 4
    assert not w.grad.requires_grad and w.requires_grad and w.is_leaf and w.grad_fn is None


def test_params_without_grad_are_skipped():
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(2))
    frozen = Parameter(ember.ones(2), requires_grad=False)  # allowed, as in PyTorch (fine-tuning)
    opt = optim.Adam([a, b, frozen], lr=0.1)
    a.grad = ember.ones(2)
    opt.step()
    assert a.tolist() != [1.0, 1.0] and b.tolist() == [1.0, 1.0] and frozen.tolist() == [1.0, 1.0]
    assert b not in opt.state and frozen not in opt.state


def test_zero_grad():
    p = Parameter(ember.ones(3))
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and g.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()  # no gradients: nothing to do


def test_closure_is_evaluated_with_grad_and_loss_returned():
    w = Parameter(ember.tensor([1.0, -2.0]))
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        assert loss.requires_grad
        loss.backward()
        calls.append(loss.item())
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert calls == [5.0] and loss.item() == 5.0
    assert_close(w, ember.tensor([0.8, -1.6]))
    for cls in (optim.Adam, optim.RMSprop, optim.Adagrad, optim.Adadelta, optim.Adamax, optim.NAdam, optim.RAdam,
                optim.AdamW):
        assert cls([w]).step(closure).item() == calls[-1]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.1, amsgrad=True)), ("AdamW", dict(lr=0.1)),
                                         ("RMSprop", dict(momentum=0.5, centered=True)), ("Adagrad", dict()),
                                         ("Adadelta", dict()), ("Adamax", dict()), ("NAdam", dict()),
                                         ("RAdam", dict())])
def test_state_dict_round_trip_into_fresh_optimizer(name, kwargs):
    cls = getattr(optim, name)

    def make():
        w = Parameter(ember.tensor(W0, dtype=ember.float32))
        b = Parameter(ember.tensor(B0, dtype=ember.float32))
        return [w, b], cls([{"params": [w]}, {"params": [b], "lr": 0.05}], **kwargs)

    def train(ps, opt, n):
        for _ in range(n):
            opt.zero_grad()
            loss_fn(*ps).backward()
            opt.step()

    ps1, opt1 = make()
    train(ps1, opt1, 3)
    sd = opt1.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]] and set(sd["state"]) == {0, 1}
    ps2, opt2 = make()
    with ember.no_grad():
        for a, b in zip(ps2, ps1):
            a.copy_(b)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.05 and opt2.param_groups[0]["params"][0] is ps2[0]
    train(ps1, opt1, 3)
    train(ps2, opt2, 3)
    for a, b in zip(ps1, ps2):
        assert a.tolist() == b.tolist()
    for key, value in opt1.state[ps1[0]].items():
        assert value.tolist() == opt2.state[ps2[0]][key].tolist()


def test_loaded_state_is_not_shared_with_the_source():
    p1, p2 = Parameter(ember.ones(2)), Parameter(ember.ones(2))
    o1, o2 = optim.Adam([p1]), optim.Adam([p2])
    p1.grad = ember.ones(2)
    o1.step()
    o2.load_state_dict(o1.state_dict())
    p2.grad = ember.ones(2)
    o2.step()
    assert o1.state[p1]["step"].item() == 1.0 and o2.state[p2]["step"].item() == 2.0


def test_state_dict_survives_pickle_and_deepcopy():
    w = Parameter(ember.ones(2))
    opt = optim.RMSprop([w], momentum=0.9)
    w.grad = ember.tensor([0.5, -1.0])
    opt.step()
    sd = pickle.loads(pickle.dumps(opt.state_dict()))
    fresh = optim.RMSprop([Parameter(ember.ones(2))], momentum=0.9)
    fresh.load_state_dict(sd)
    assert fresh.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    clone = copy.deepcopy(opt)
    (w2,) = clone.param_groups[0]["params"]
    assert w2 is not w and w2.tolist() == w.tolist()
    assert clone.state[w2]["square_avg"].tolist() == opt.state[w]["square_avg"].tolist()


def test_load_state_dict_casts_and_moves_state(accel):
    p = Parameter(ember.ones(3))
    src = optim.Adam([p])
    p.grad = ember.ones(3)
    src.step()
    q = Parameter(ember.ones(3, dtype=ember.float64).to("accel:1"))
    dst = optim.Adam([q])
    dst.load_state_dict(src.state_dict())
    st = dst.state[q]
    assert st["exp_avg"].device == ember.device("accel:1") and st["exp_avg"].dtype is ember.float64
    assert st["step"].device == ember.device("cpu") and st["step"].dtype is ember.float32
    q.grad = ember.ones(3, dtype=ember.float64).to("accel:1")
    dst.step()
    assert q.device == ember.device("accel:1") and st["step"].item() == 2.0


def test_load_state_dict_errors():
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(3))
    one_group = optim.SGD([a, b], momentum=0.9)
    two_groups = optim.SGD([{"params": [a]}, {"params": [b]}], momentum=0.9)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        one_group.load_state_dict(two_groups.state_dict())
    small = optim.SGD([a], momentum=0.9)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        one_group.load_state_dict(small.state_dict())
    a.grad, b.grad = ember.ones(2), ember.ones(3)
    one_group.step()
    swapped = optim.SGD([b, a], momentum=0.9)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of shape \(2,\) for parameter 0.*shape \(3,\)"):
        swapped.load_state_dict(one_group.state_dict())


def test_old_checkpoints_with_float_steps_and_missing_keys():
    p = Parameter(ember.ones(2))
    opt = optim.NAdam([p])
    p.grad = ember.ones(2)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1.0  # as stored by old PyTorch versions
    sd["state"][0]["mu_product"] = float(sd["state"][0]["mu_product"].item())
    del sd["param_groups"][0]["maximize"]
    fresh = optim.NAdam([Parameter(ember.ones(2))])
    fresh.load_state_dict(sd)
    st = fresh.state[fresh.param_groups[0]["params"][0]]
    assert isinstance(st["step"], ember.Tensor) and st["step"].dtype is ember.float32
    assert isinstance(st["mu_product"], ember.Tensor)
    assert fresh.param_groups[0]["maximize"] is False


def test_construction_errors():
    p = Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        optim.SGD([p], momentum=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], nesterov=True)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.5"):
        optim.SGD([p], weight_decay=-0.5)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: -0.1"):
        optim.NAdam([p], betas=(-0.1, 0.9))
    with pytest.raises(ValueError, match="Invalid epsilon value: -1e-08"):
        optim.AdamW([p], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid alpha value: -0.9"):
        optim.RMSprop([p], alpha=-0.9)
    with pytest.raises(ValueError, match="Invalid lr_decay value: -1"):
        optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid initial_accumulator_value value: -1"):
        optim.Adagrad([p], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -1"):
        optim.NAdam([p], momentum_decay=-1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.RAdam([p], lr=-1)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD([p], lr=ember.tensor([0.1, 0.2]))
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adam([p], differentiable=True)


def test_parameter_errors():
    p = Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got .*Parameter"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="Please use a list instead"):
        optim.SGD([{"params": {p}}])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        optim.SGD([p, 3])
    nonleaf = p * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([nonleaf])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    opt = optim.SGD([p])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": p})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([p])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p])


def test_add_param_group_and_named_params():
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(3))
    opt = optim.Adagrad([a], lr=0.5)
    opt.add_param_group({"params": b, "lr": 0.1})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["eps"] == 1e-10
    b.grad = ember.ones(3)
    opt.step()  # state of a parameter added later is created lazily
    assert opt.state[b]["step"].item() == 1.0
    named = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        named.add_param_group({"params": [Parameter(ember.ones(1))]})


def test_required_hyperparameter_and_custom_optimizer_with_hooks():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, dict(lr=lr))

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(p.grad * group["lr"])

    class Child(Plain):
        def step(self, closure=None):
            return super().step(closure)

    p = Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Plain([p])
    opt = Child([p], lr=0.5)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    h3 = optim.register_optimizer_step_pre_hook(lambda o, args, kwargs: calls.append(("global", type(o).__name__)))
    p.grad = ember.ones(2)
    opt.step()
    assert p.tolist() == [0.5, 0.5]
    assert calls == [("global", "Child"), ("pre", True), ("post", True)]  # once, despite super().step()
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert len(calls) == 3


def test_state_dict_hooks_and_repr():
    p = Parameter(ember.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    seen = []
    opt.register_load_state_dict_post_hook(lambda o: seen.append(o))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert seen == [opt]
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9\n" in text and text.endswith(")")


def test_tensor_learning_rate():
    p = Parameter(ember.ones(2))
    opt = optim.SGD([p], lr=ember.tensor(0.5))
    p.grad = ember.ones(2)
    opt.step()
    assert p.tolist() == [0.5, 0.5]


def test_optimizer_trains_a_small_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    w = Parameter(ember.zeros(3, dtype=ember.float64))
    b = Parameter(ember.zeros(1, dtype=ember.float64))
    opt = optim.Adam([w, b], lr=0.1)
    Xt, yt = ember.tensor(X), ember.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        loss = (((Xt * w).sum(1) + b - yt) ** 2).sum() * (1 / 32)
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [1.0, -2.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(b.item(), 0.3, atol=1e-3)


def test_step_after_backward_invalidates_saved_graph():
    w = Parameter(ember.ones(2))
    opt = optim.SGD([w], lr=0.1)
    w.grad = ember.ones(2)
    loss = (w * w).sum()  # saves w for backward
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RAdam", "NAdam", "Adamax", "Adadelta", "Adagrad", "RMSprop",
                                  "Rprop", "ASGD"])
def test_zero_dim_parameters_step_like_one_element_ones(name):
    """A 0-d parameter (a learnable scale) takes exactly the steps of a 1-element one."""
    scalar, vector = ember.nn.Parameter(ember.tensor(1.5)), ember.nn.Parameter(ember.tensor([1.5]))
    opts = [getattr(ember.optim, name)([p], lr=0.1) for p in (scalar, vector)]
    for g in (0.3, -0.7, 0.2):
        scalar.grad, vector.grad = ember.tensor(g), ember.tensor([g])
        for opt in opts:
            opt.step()
    assert scalar.shape == () and scalar.item() == vector.item()
