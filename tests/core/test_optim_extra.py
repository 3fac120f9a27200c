"""LBFGS, Rprop, ASGD, SparseAdam and ``optim.swa_utils`` against PyTorch.

The trajectories (parameters after every step, the losses LBFGS returns, the final optimizer state),
the state_dict layouts, SWALR's learning rates, AveragedModel's averages and update_bn's statistics
come from ``data/make_optim_reference.py`` (PyTorch 2.13), which also stores every input; each case
is replayed here in Ember. SparseAdam is also checked against a NumPy version of PyTorch's algorithm.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import warnings

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.optim import swa_utils

DATA = np.load(os.path.join(os.path.dirname(__file__), "data", "optim_reference.npz"))
IN = {k[len("in/"):]: DATA[k] for k in DATA.files if k.startswith("in/")}
IN_SWA = {k[len("in_swa/"):]: DATA[k] for k in DATA.files if k.startswith("in_swa/")}
CASES = json.loads(str(DATA["cases"]))
LAYOUTS = json.loads(str(DATA["layouts"]))
DTYPES = {"float64": ember.float64, "float32": ember.float32}
HAS_COMPLEX = hasattr(ember, "complex128")


# ---- the problems of the reference script, in Ember -------------------------------------------
def _t(key, dtype, device=None):
    return ember.tensor(IN[key], dtype=dtype, device=device)


def rosen_problem(dtype, device=None):
    x = nn.Parameter(_t("rosen_x0", dtype, device))

    def loss_fn(step):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    return [x], loss_fn, None


def linear_problem(dtype, device=None):
    w, b = nn.Parameter(_t("lin_w", dtype, device)), nn.Parameter(_t("lin_b", dtype, device))
    x, y = _t("lin_x", dtype, device), _t("lin_y", dtype, device)

    def loss_fn(step):
        return ((x @ w.T + b - y) ** 2).mean()
    return [w, b], loss_fn, None


def seq_problem(dtype):
    params = [nn.Parameter(_t(k, dtype)) for k in ("mlp_w1", "mlp_b1", "mlp_w2", "mlp_b2")]
    x, y = _t("seq_x", dtype), _t("seq_y", dtype)

    def loss_fn(step):
        w1, b1, w2, b2 = params
        return ((ember.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()
    return params, loss_fn, None


def embedding_problem(dtype, device=None):
    # PyTorch's side uses Embedding(sparse=True); Ember's gradient is dense with zero rows where no
    # index looked up, which SparseAdam skips in the same way.
    emb = nn.Embedding(10, 3, dtype=dtype, device=device)
    with ember.no_grad():
        emb.weight.copy_(_t("emb_w", dtype, device))
    idx = ember.tensor(IN["emb_idx"], device=device)
    target = _t("emb_target", dtype, device)

    def loss_fn(step):
        return ((emb(idx[step]) - target[step]) ** 2).sum()
    return [emb.weight], loss_fn, None


def complex_problem(dtype):
    ctype = ember.complex128 if dtype is ember.float64 else ember.complex64
    z = nn.Parameter(ember.tensor(IN["cplx_z"], dtype=ctype))
    a, c = ember.tensor(IN["cplx_a"], dtype=ctype), ember.tensor(IN["cplx_c"], dtype=ctype)

    def set_grad(step):
        z.grad = a * z.detach() + c
    return [z], None, set_grad


PROBLEMS = {"rosen": rosen_problem, "linear": linear_problem, "seq": seq_problem, "embedding": embedding_problem,
            "complex": complex_problem}


def make_closure(opt, loss_fn, step):
    def closure():
        opt.zero_grad()
        loss = loss_fn(step)
        loss.backward()
        return loss
    return closure


def take_step(opt, loss_fn, set_grad, step):
    """One optimizer step on the problem: LBFGS through a closure, the others on a fresh gradient."""
    if isinstance(opt, optim.LBFGS):
        return opt.step(make_closure(opt, loss_fn, step))
    opt.zero_grad()
    if set_grad is not None:
        set_grad(step)
    else:
        loss_fn(step).backward()
    return opt.step()


def _tolerances(case):
    # float32 LBFGS on Rosenbrock amplifies one-ulp differences (summation order) along the way.
    return dict(rtol=2e-3, atol=1e-4) if case.get("dtype") == "float32" else dict(rtol=1e-6, atol=1e-10)


def _case_ids(cases):
    return [c["name"] for c in cases]


def _needs_complex(case):
    return pytest.mark.skipif(case["problem"] == "complex" and not HAS_COMPLEX, reason="Ember has no complex dtype")


# ---- trajectories against PyTorch ------------------------------------------------------------
@pytest.mark.parametrize("case", [pytest.param(c, marks=_needs_complex(c)) for c in CASES], ids=_case_ids(CASES))
def test_trajectory_matches_pytorch(case):
    dtype = DTYPES[case.get("dtype", "float64")]
    params, loss_fn, set_grad = PROBLEMS[case["problem"]](dtype)
    opt = getattr(optim, case["opt"])(params, **case["kwargs"])
    tol = _tolerances(case)
    name = case["name"]
    losses = []
    for step in range(case["steps"]):
        out = take_step(opt, loss_fn, set_grad, step)
        losses.append(None if out is None else out.item())
        for i, p in enumerate(params):
            ref = DATA[f"{name}/p{i}"][step]
            assert p.dtype is dtype or p.dtype.is_complex
            np.testing.assert_allclose(p.detach().numpy(), ref, **tol, err_msg=f"{name}: param {i}, step {step}")
    if f"{name}/losses" in DATA:
        np.testing.assert_allclose(losses, DATA[f"{name}/losses"], **tol)
    _check_final_state(opt, params, name, tol)


def _check_final_state(opt, params, name, tol):
    """The state entries the reference stored: values, and dtypes of the tensor entries."""
    prefix_len = len(name) + 1
    for key in DATA.files:
        if not key.startswith(f"{name}/state"):
            continue
        index, entry = key[prefix_len + len("state"):].split("/", 1)
        ref = DATA[key]
        value = opt.state[params[int(index)]][entry]
        if isinstance(value, list):
            got = np.stack([v.numpy() for v in value])
        elif isinstance(value, ember.Tensor):
            got = value.numpy()
            assert got.dtype == ref.dtype, f"{name}: state {entry} has dtype {got.dtype}, PyTorch {ref.dtype}"
        else:
            got = np.array(value)
            assert type(value) is type(ref.item()), f"{name}: state {entry} is {type(value).__name__}"
        # Looser than the parameters, relative to the entry's scale: near an optimum LBFGS's curvature
        # pairs are differences of tiny gradients (ro = 1/(y.s) of a converged run holds 1e8).
        rtol = 10 * tol["rtol"]
        atol = max(tol["atol"], rtol * float(np.max(np.abs(ref))))
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=f"{name}: state {entry}")


# ---- state_dict layout and round trip ----------------------------------------------------------
LAYOUT_PROBLEMS = {"LBFGS": "rosen", "Rprop": "linear", "ASGD": "linear", "SparseAdam": "embedding"}


def _describe(v):
    if isinstance(v, ember.Tensor):
        return f"Tensor[{v.dim()}d,{str(v.dtype).replace('ember.', '')}]"
    return "list" if isinstance(v, list) else type(v).__name__


@pytest.mark.parametrize("cls", sorted(LAYOUT_PROBLEMS))
def test_state_dict_layout_matches_pytorch(cls):
    params, loss_fn, set_grad = PROBLEMS[LAYOUT_PROBLEMS[cls]](ember.float64)
    opt = getattr(optim, cls)(params)
    for step in range(2):
        take_step(opt, loss_fn, set_grad, step)
    sd = opt.state_dict()
    group = {k: (list(v) if isinstance(v, tuple) else v) for k, v in sd["param_groups"][0].items()}
    assert group == LAYOUTS[cls]["group"]
    assert {k: _describe(v) for k, v in sd["state"][0].items()} == LAYOUTS[cls]["state"]


ROUND_TRIP = [("LBFGS", dict(line_search_fn="strong_wolfe", history_size=3, max_iter=4), "rosen"),
              ("LBFGS", dict(lr=0.5, max_iter=3), "seq"),
              ("Rprop", dict(lr=0.05), "linear"),
              ("ASGD", dict(lr=0.05, t0=2), "linear"),
              ("SparseAdam", dict(lr=0.05), "embedding")]


@pytest.mark.parametrize("cls, kwargs, problem", ROUND_TRIP, ids=[f"{c}-{p}" for c, _, p in ROUND_TRIP])
def test_state_dict_round_trip_continues_the_same(cls, kwargs, problem):
    """Save after 3 steps (through ember.save/load), load into a fresh optimizer over fresh parameters
    holding the same values: the next 3 steps are those of the uninterrupted run."""
    params, loss_fn, set_grad = PROBLEMS[problem](ember.float64)
    opt = getattr(optim, cls)(params, **kwargs)
    for step in range(3):
        take_step(opt, loss_fn, set_grad, step)
    buf = io.BytesIO()
    ember.save(opt.state_dict(), buf)
    values = [p.detach().clone() for p in params]
    for step in range(3, 6):
        take_step(opt, loss_fn, set_grad, step)

    params2, loss_fn2, set_grad2 = PROBLEMS[problem](ember.float64)
    with ember.no_grad():
        for p, v in zip(params2, values):
            p.copy_(v)
    opt2 = getattr(optim, cls)(params2, **kwargs)
    buf.seek(0)
    opt2.load_state_dict(ember.load(buf))
    for step in range(3, 6):
        take_step(opt2, loss_fn2, set_grad2, step)
    for p, p2 in zip(params, params2):
        if cls == "ASGD":
            # eta is float32 state; loading casts it to the parameter's float64 (as PyTorch does), so
            # the etas computed after the load keep more digits than the uninterrupted run's.
            np.testing.assert_allclose(p2.detach().numpy(), p.detach().numpy(), rtol=1e-7, atol=0)
        else:
            np.testing.assert_array_equal(p2.detach().numpy(), p.detach().numpy())


DEVICE_CASES = [("LBFGS", dict(line_search_fn="strong_wolfe", max_iter=5), "rosen"),
                ("LBFGS", dict(lr=0.05, max_iter=3), "linear"),
                ("Rprop", {}, "linear"), ("ASGD", dict(t0=2), "linear"), ("SparseAdam", dict(lr=0.1), "embedding")]


@pytest.mark.parametrize("cls, kwargs, problem", DEVICE_CASES, ids=[f"{c}-{p}" for c, _, p in DEVICE_CASES])
def test_parameters_on_another_device(accel, cls, kwargs, problem):
    """On a (stand-in) accelerator: the same steps as on the CPU; state follows the parameters,
    except the step counters, which stay on the CPU as in PyTorch."""
    runs = []
    for device in (None, "accel:1"):
        params, loss_fn, set_grad = PROBLEMS[problem](ember.float64, device)
        opt = getattr(optim, cls)(params, **kwargs)
        for step in range(3):
            take_step(opt, loss_fn, set_grad, step)
        runs.append((params, opt))
    (cpu_params, _), (dev_params, dev_opt) = runs
    for p, q in zip(cpu_params, dev_params):
        assert q.device == ember.device("accel:1")
        np.testing.assert_array_equal(q.detach().cpu().numpy(), p.detach().numpy())
    for key, value in dev_opt.state[dev_params[0]].items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, ember.Tensor):
                expected = "cpu" if key == "step" else "accel:1"
                assert v.device == ember.device(expected), key


# ---- LBFGS specifics ----------------------------------------------------------------------------
def test_lbfgs_survives_pickle():
    """The optimizer finds its parameters through param_groups, so an unpickled copy keeps working."""
    params, loss_fn, _ = rosen_problem(ember.float64)
    opt = optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=3)
    opt.step(make_closure(opt, loss_fn, 0))
    clone = pickle.loads(pickle.dumps(opt))
    (x2,) = clone.param_groups[0]["params"]
    opt.step(make_closure(opt, loss_fn, 1))
    clone.step(make_closure(clone, lambda s: (100 * (x2[1:] - x2[:-1] ** 2) ** 2 + (1 - x2[:-1]) ** 2).sum(), 1))
    np.testing.assert_array_equal(x2.detach().numpy(), params[0].detach().numpy())
    assert clone.state[x2]["n_iter"] == opt.state[params[0]]["n_iter"] > 3


def test_lbfgs_step_needs_a_closure():
    x = nn.Parameter(ember.ones(3))
    opt = optim.LBFGS([x])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'closure'"):
        opt.step()
    with pytest.raises(TypeError, match="'NoneType' object is not callable"):
        opt.step(None)


def test_lbfgs_rejects_several_param_groups():
    a, b = nn.Parameter(ember.ones(2)), nn.Parameter(ember.ones(3))
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = optim.LBFGS([a])
    opt.add_param_group({"params": [b]})
    with pytest.raises(AssertionError, match="Expected exactly one param_group, but got 2"):
        opt.step(lambda: (a * a).sum())


def test_lbfgs_arguments():
    x = nn.Parameter(ember.ones(2))
    expected = {k: v for k, v in LAYOUTS["LBFGS"]["group"].items() if k != "params"}
    assert optim.LBFGS([x]).defaults == expected
    assert optim.LBFGS([x], max_iter=8).defaults["max_eval"] == 10
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([x], lr=-1)
    opt = optim.LBFGS([x], line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(make_closure(opt, lambda s: (x * x).sum(), 0))


def test_lbfgs_returns_first_loss_and_stops_at_optimum():
    x = nn.Parameter(ember.tensor([1.0, 1.0, 1.0], dtype=ember.float64))
    opt = optim.LBFGS([x])
    loss = opt.step(make_closure(opt, lambda s: ((x - 1) ** 2).sum(), 0))
    assert loss.item() == 0.0
    assert x.tolist() == [1.0, 1.0, 1.0]  # the gradient is zero: no iteration at all
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}


def test_lbfgs_parameter_without_gradient_is_left_alone():
    x = nn.Parameter(ember.tensor([3.0, -2.0], dtype=ember.float64))
    unused = nn.Parameter(ember.tensor([5.0], dtype=ember.float64))
    opt = optim.LBFGS([x, unused], line_search_fn="strong_wolfe")
    opt.step(make_closure(opt, lambda s: ((x - 1) ** 2).sum(), 0))
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-8)
    assert unused.item() == 5.0
    assert opt.state[x]["d"].shape == (3,)  # one flat vector over all parameters


def test_lbfgs_fits_a_sequence_model():
    """The classic use: a small network predicting the next sample of a sine wave, full batch."""
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    with ember.no_grad():
        for p, key in zip(model.parameters(), ("mlp_w1", "mlp_b1", "mlp_w2", "mlp_b2")):
            p.copy_(ember.tensor(IN[key]))
    x, y = ember.tensor(IN["seq_x"]), ember.tensor(IN["seq_y"])
    opt = optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe", max_iter=10)

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss
    first = opt.step(closure).item()
    for _ in range(3):
        last = opt.step(closure).item()
    np.testing.assert_allclose([first, last], DATA["lbfgs_seq_wolfe/losses"][[0, 3]], rtol=1e-6)
    assert last < first / 1e4


@pytest.mark.skipif(not HAS_COMPLEX, reason="Ember has no complex dtype")
def test_lbfgs_complex_parameter_is_a_pair_of_reals():
    """A complex parameter behaves as its (real, imag) pairs: same path as the real problem."""
    c = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    z = nn.Parameter(ember.tensor(np.array([3.0 - 1.0j, 2.0 + 2.0j])))
    r = nn.Parameter(ember.tensor(np.array([[3.0, -1.0], [2.0, 2.0]])))
    cr = ember.tensor(np.stack([c.real, c.imag], -1))
    opt_z = optim.LBFGS([z], line_search_fn="strong_wolfe")
    opt_r = optim.LBFGS([r], line_search_fn="strong_wolfe")

    def closure_z():
        opt_z.zero_grad()
        diff = z.detach().numpy() - c
        z.grad = ember.tensor(2 * diff)  # PyTorch's gradient convention for a real loss
        return ember.tensor(float(np.sum(np.abs(diff) ** 2)))
    opt_z.step(closure_z)
    opt_r.step(make_closure(opt_r, lambda s: ((r - cr) ** 2).sum(), 0))
    np.testing.assert_allclose(np.stack([z.detach().numpy().real, z.detach().numpy().imag], -1),
                               r.detach().numpy(), rtol=1e-12)


# ---- Rprop / ASGD / SparseAdam specifics -------------------------------------------------------
def test_constructor_errors():
    p = nn.Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="Invalid eta values: 1.5, 2"):
        optim.Rprop([p], etas=(1.5, 2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Rprop([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.ASGD([p], weight_decay=-1)
    with pytest.raises(ValueError, match="Invalid learning rate: 0"):
        optim.SparseAdam([p], lr=0)
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.SparseAdam([p], eps=0)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.SparseAdam([p], betas=(0.9, 1.0))
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.ASGD([p], differentiable=True)


@pytest.mark.parametrize("cls, kwargs", [(optim.Rprop, dict(lr=0.05)), (optim.ASGD, dict(lr=0.1, t0=1)),
                                         (optim.SparseAdam, dict(lr=0.1))])
def test_non_contiguous_gradients(cls, kwargs):
    """Gradients given as transposed, strided or broadcast views update exactly as their copies."""
    base = np.arange(1.0, 13.0).reshape(3, 4) / 7
    grads = [np.ascontiguousarray(base.T).T, np.arange(24.0).reshape(3, 8)[:, ::2] / 9 - 1,
             np.broadcast_to(np.array([0.5, -1.0, 2.0, 0.0]), (3, 4))]
    views = [ember.tensor(np.ascontiguousarray(base.T)).T, ember.tensor(np.arange(24.0).reshape(3, 8) / 9 - 1)[:, ::2],
             ember.tensor([0.5, -1.0, 2.0, 0.0], dtype=ember.float64).expand(3, 4)]
    p, q = nn.Parameter(ember.tensor(base)), nn.Parameter(ember.tensor(base))
    opt_p, opt_q = cls([p], **kwargs), cls([q], **kwargs)
    for g, v in zip(grads, views):
        p.grad = ember.tensor(np.array(g))
        q.grad = v
        opt_p.step()
        opt_q.step()
    assert not views[0].is_contiguous() and not views[1].is_contiguous()
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
    assert not np.array_equal(p.detach().numpy(), base)


@pytest.mark.parametrize("cls", [optim.Rprop, optim.ASGD, optim.SparseAdam])
def test_float32_parameters_keep_their_dtype(cls):
    p = nn.Parameter(ember.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=ember.float32))
    opt = cls([p], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((p * p).sum() + p.sum()).backward()
        opt.step()
    assert p.dtype is ember.float32
    for v in opt.state[p].values():
        if isinstance(v, ember.Tensor) and v.dim() > 0:
            assert v.dtype is ember.float32


def test_asgd_scalar_state_follows_the_default_dtype():
    """PyTorch keeps eta and mu in float64 when the default dtype is float64."""
    previous = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        p = nn.Parameter(ember.tensor([1.0, 2.0]))
        opt = optim.ASGD([p], lr=0.01)
        p.grad = ember.tensor([0.5, -0.5])
        opt.step()
    finally:
        ember.set_default_dtype(previous)
    assert opt.state[p]["eta"].dtype is ember.float64
    assert opt.state[p]["eta"].item() == 0.01 / (1 + 1e-4 * 0.01) ** 0.75
    assert opt.state[p]["step"].dtype is ember.float32


def np_sparse_adam(param, grads, lr, betas, eps, maximize=False):
    """PyTorch's SparseAdam on the rows a sparse (embedding) gradient carries, in NumPy."""
    p = param.copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    b1, b2 = betas
    out = []
    for t, g in enumerate(grads, 1):
        rows = np.flatnonzero(np.any(g != 0, axis=1))
        g = -g[rows] if maximize else g[rows]
        m[rows] += (1 - b1) * (g - m[rows])
        v[rows] += (1 - b2) * (g * g - v[rows])
        step_size = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p[rows] -= step_size * m[rows] / (np.sqrt(v[rows]) + eps)
        out.append(p.copy())
    return out, m, v


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, maximize=True)])
def test_sparse_adam_matches_numpy_on_zero_row_gradients(kwargs):
    rng = np.random.default_rng(11)
    weight = rng.standard_normal((8, 3))
    grads = []
    for _ in range(6):  # embedding-lookup gradients: rows 6 and 7 are never looked up
        g = np.zeros((8, 3))
        np.add.at(g, rng.integers(0, 6, 4), rng.standard_normal((4, 3)))
        grads.append(g)
    ref, m_ref, v_ref = np_sparse_adam(weight, grads, kwargs["lr"], kwargs.get("betas", (0.9, 0.999)),
                                       kwargs.get("eps", 1e-8), kwargs.get("maximize", False))
    p = nn.Parameter(ember.tensor(weight))
    opt = optim.SparseAdam([p], **kwargs)
    for g, expected in zip(grads, ref):
        p.grad = ember.tensor(g)
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(p.detach().numpy()[6:], weight[6:])
    np.testing.assert_allclose(opt.state[p]["exp_avg"].numpy(), m_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(opt.state[p]["exp_avg_sq"].numpy(), v_ref, rtol=1e-12, atol=1e-15)
    assert opt.state[p]["step"] == 6


def test_sparse_adam_skips_zero_entries_and_counts_empty_steps():
    """The documented deviation: a zero inside a touched row is not updated; an all-zero gradient
    updates nothing but still counts as a step (PyTorch's empty sparse gradient)."""
    p = nn.Parameter(ember.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ember.float64))
    opt = optim.SparseAdam([p], lr=0.1)
    p.grad = ember.tensor([[0.5, 0.0], [0.0, 0.0]], dtype=ember.float64)
    opt.step()
    assert p.tolist()[0][1] == 2.0 and p.tolist()[1] == [3.0, 4.0]
    assert p.tolist()[0][0] == pytest.approx(0.9)
    p.grad = ember.zeros(2, 2, dtype=ember.float64)
    opt.step()
    assert opt.state[p]["step"] == 2 and p.tolist()[0][0] == pytest.approx(0.9)


def test_sparse_adam_state_dict_keeps_int_step():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    opt = optim.SparseAdam([p])
    p.grad = ember.tensor([1.0, 0.0])
    opt.step()
    opt2 = optim.SparseAdam([nn.Parameter(ember.tensor([1.0, 2.0]))])
    opt2.load_state_dict(opt.state_dict())
    assert next(iter(opt2.state.values()))["step"] == 1


# ---- SWALR ---------------------------------------------------------------------------------------
SWALR_CONFIGS = {"cos": dict(swa_lr=0.01, anneal_epochs=4),
                 "linear_list": dict(swa_lr=[0.01, 0.2], anneal_epochs=3, anneal_strategy="linear"),
                 "zero_epochs": dict(swa_lr=0.02, anneal_epochs=0)}


def _swalr_setup(kwargs):
    p1, p2 = nn.Parameter(ember.zeros(2)), nn.Parameter(ember.zeros(3))
    opt = optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.05}], lr=0.1)
    return opt, swa_utils.SWALR(opt, **kwargs)


@pytest.mark.parametrize("name", sorted(SWALR_CONFIGS))
def test_swalr_learning_rates_match_pytorch(name):
    opt, sched = _swalr_setup(SWALR_CONFIGS[name])
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(7):
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(lrs, DATA[f"swalr/{name}"], rtol=1e-12, atol=1e-15)
    assert sched.get_last_lr() == lrs[-1]
    assert sorted(sched.state_dict()) == DATA[f"swalr/{name}/state_keys"].tolist()


def test_swalr_state_dict_round_trip():
    opt, sched = _swalr_setup(dict(swa_lr=0.01, anneal_epochs=5, anneal_strategy="linear"))
    for _ in range(2):
        opt.step()
        sched.step()
    saved = sched.state_dict()
    assert "anneal_func" not in saved and "optimizer" not in saved
    opt2, sched2 = _swalr_setup(dict(swa_lr=0.5, anneal_epochs=1))  # overwritten by the load
    for g, g_saved in zip(opt2.param_groups, opt.param_groups):
        g["lr"], g["swa_lr"] = g_saved["lr"], g_saved["swa_lr"]
    sched2.load_state_dict(saved)
    assert sched2.anneal_func is swa_utils.SWALR._linear_anneal
    for _ in range(4):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


def test_swalr_errors_and_warning():
    p = nn.Parameter(ember.zeros(2))
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
        swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])
    sched = swa_utils.SWALR(opt, swa_lr=0.1)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


# ---- AveragedModel and update_bn ---------------------------------------------------------------
def bn_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2)).double()
    model.load_state_dict({k: ember.tensor(IN_SWA[f"init/{k}"]) for k in model.state_dict()})
    return model


AVERAGING = {"swa": lambda: {},
             "ema_multi_buffers": lambda: dict(multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True),
             "ema_avg_fn": lambda: dict(avg_fn=swa_utils.get_ema_avg_fn(0.8)),
             "swa_multi": lambda: dict(multi_avg_fn=swa_utils.get_swa_multi_avg_fn()),
             "swa_avg_fn_buffers": lambda: dict(avg_fn=swa_utils.get_swa_avg_fn(), use_buffers=True)}


@pytest.mark.parametrize("name", sorted(AVERAGING))
def test_averaged_model_matches_pytorch(name):
    model = bn_model()
    avg = swa_utils.AveragedModel(model, **AVERAGING[name]())
    for k in range(5):
        with ember.no_grad():
            model[0].weight.add_(ember.tensor(IN_SWA["deltas"][k]))
        model.train()
        model(ember.tensor(IN_SWA["batches"][k]))
        avg.update_parameters(model)
    prefix = f"avg/{name}/"
    ref_keys = [k[len(prefix):] for k in DATA.files if k.startswith(prefix)]
    sd = avg.state_dict()
    assert list(sd) == ref_keys
    for key in ref_keys:
        ref = DATA[prefix + key]
        got = sd[key].numpy()
        assert got.dtype == ref.dtype, key
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14, err_msg=key)
    # The average is a deep copy: the model's own weights moved on.
    assert not np.allclose(avg.module[0].weight.detach().numpy(), model[0].weight.detach().numpy())


def test_averaged_model_on_cuda_averages_in_place(fake_cuda):
    """On CUDA the default running mean is PyTorch's foreach path, get_swa_multi_avg_fn (an in-place
    lerp by a float32 weight 1/(n+1)): the averages of the CPU reference run with that function."""
    model = bn_model().to("cuda")
    avg = swa_utils.AveragedModel(model)
    for k in range(5):
        with ember.no_grad():
            model[0].weight.add_(ember.tensor(IN_SWA["deltas"][k], device="cuda"))
        model(ember.tensor(IN_SWA["batches"][k], device="cuda"))
        avg.update_parameters(model)
    for key, value in avg.state_dict().items():
        # n_averaged stays where AveragedModel(device=None) made it: on the CPU, as in PyTorch.
        assert value.device == ember.device("cpu" if key == "n_averaged" else "cuda:0"), key
        np.testing.assert_allclose(value.cpu().numpy(), DATA[f"avg/swa_multi/{key}"], rtol=1e-12, atol=1e-14, err_msg=key)


def test_averaged_model_forward_device_and_errors():
    model = bn_model().eval()
    avg = swa_utils.AveragedModel(model, device="cpu")
    x = ember.tensor(IN_SWA["batches"][0])
    np.testing.assert_array_equal(avg.eval()(x).detach().numpy(), model(x).detach().numpy())
    assert avg.n_averaged.dtype is ember.int64 and avg.n_averaged.item() == 0
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    for factory in (swa_utils.get_ema_multi_avg_fn, swa_utils.get_ema_avg_fn):
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"):
            factory(1.5)
    # PyTorch refuses the in-place running mean on integer buffers too.
    ints = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_swa_multi_avg_fn(), use_buffers=True)
    ints.update_parameters(model)
    with pytest.raises(RuntimeError, match="floating-point"):
        ints.update_parameters(model)


def test_update_bn_matches_pytorch():
    model = bn_model()
    model.eval()
    with ember.no_grad():
        for m in (model[1], model[4]):
            m.running_mean.fill_(3.0)
    model[4].momentum = 0.3
    batches = IN_SWA["batches"]
    loader = [ember.tensor(batches[0])] + [(ember.tensor(b), ember.zeros(6)) for b in batches[1:]]
    swa_utils.update_bn(loader, model)
    for key, value in model.state_dict().items():
        ref = DATA[f"update_bn/{key}"]
        assert value.numpy().dtype == ref.dtype, key
        np.testing.assert_allclose(value.numpy(), ref, rtol=1e-12, atol=1e-14, err_msg=key)
    assert model.training == bool(DATA["update_bn/training"])
    assert [model[1].momentum, model[4].momentum] == DATA["update_bn/momenta"].tolist()


def test_update_bn_without_batchnorm_and_with_device():
    model = nn.Linear(3, 2).double()
    before = model.weight.detach().clone()
    swa_utils.update_bn([ember.ones(2, 3, dtype=ember.float64)], model)  # no BatchNorm: nothing to do
    np.testing.assert_array_equal(model.weight.detach().numpy(), before.numpy())
    bn = nn.BatchNorm1d(3).double()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        swa_utils.update_bn([ember.tensor(IN_SWA["batches"][0])], bn, device="cpu")
    np.testing.assert_allclose(bn.running_mean.numpy(), IN_SWA["batches"][0].mean(0), rtol=1e-12)
    assert bn.training and bn.momentum == 0.1
