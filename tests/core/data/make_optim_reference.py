"""Reference trajectories from PyTorch for LBFGS, Rprop, ASGD, SparseAdam and ``optim.swa_utils``
(read by ``tests/core/test_optim_extra.py``).

Re-run from the repository root with the reference environment (PyTorch 2.13, CPU)::

    /work/refvenv/bin/python tests/core/data/make_optim_reference.py

It writes ``tests/core/data/optim_reference.npz``: every input (initial parameters, data, index
sequences, drawn here from NumPy with fixed seeds), the cases as JSON (``cases``: optimizer, keyword
arguments, problem, number of steps, dtype) and, per case, the parameters after every step, the values
``step`` returned and the final per-parameter state. The test replays each case in Ember.
"""
from __future__ import annotations

import json
import os

import numpy as np
import torch
from torch import nn
from torch.optim import swa_utils

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "optim_reference.npz")

rng = np.random.default_rng(2024)
INPUTS = {
    "rosen_x0": np.array([-1.5, 2.0, -0.5, 1.2]),
    "lin_w": rng.standard_normal((2, 3)),
    "lin_b": rng.standard_normal(2),
    "lin_x": rng.standard_normal((8, 3)),
    "lin_y": rng.standard_normal((8, 2)),
    "cplx_z": rng.standard_normal(4) + 1j * rng.standard_normal(4),
    "cplx_a": rng.uniform(0.5, 2.0, 4) + 1j * rng.uniform(-0.5, 0.5, 4),
    "cplx_c": rng.standard_normal(4) + 1j * rng.standard_normal(4),
    "emb_w": rng.standard_normal((10, 3)),
    "emb_idx": rng.integers(0, 6, (12, 5)),  # rows 6..9 are never looked up
    "emb_target": rng.standard_normal((12, 5, 3)),
    "mlp_w1": rng.standard_normal((8, 4)) * 0.5,
    "mlp_b1": rng.standard_normal(8) * 0.1,
    "mlp_w2": rng.standard_normal((1, 8)) * 0.5,
    "mlp_b2": rng.standard_normal(1) * 0.1,
}
# The classic sequence-prediction use of LBFGS: predict the next sample of a sine wave from the last 4.
_wave = np.sin(np.linspace(0, 4 * np.pi, 40))
INPUTS["seq_x"] = np.stack([_wave[i:i + 4] for i in range(30)])
INPUTS["seq_y"] = _wave[4:34, None]

CASES = [
    # LBFGS
    dict(name="lbfgs_rosen", opt="LBFGS", kwargs=dict(lr=0.05, max_iter=5), problem="rosen", steps=6),
    # Converges (loss 1e-11) in the 4th step, where the state is differences of ~1e-4 gradients: its
    # final state is not stored (``keep_state=False``), only the trajectory.
    dict(name="lbfgs_rosen_wolfe", opt="LBFGS", kwargs=dict(line_search_fn="strong_wolfe"), problem="rosen",
         steps=4, keep_state=False),
    dict(name="lbfgs_rosen_wolfe_hist", opt="LBFGS",
         kwargs=dict(line_search_fn="strong_wolfe", history_size=3, max_iter=10, max_eval=12,
                     tolerance_change=1e-6), problem="rosen", steps=5),
    dict(name="lbfgs_rosen_wolfe_f32", opt="LBFGS", kwargs=dict(line_search_fn="strong_wolfe", max_iter=10),
         problem="rosen", steps=2, dtype="float32"),
    dict(name="lbfgs_seq", opt="LBFGS", kwargs=dict(lr=0.5, max_iter=8, history_size=4), problem="seq", steps=4),
    dict(name="lbfgs_seq_wolfe", opt="LBFGS", kwargs=dict(line_search_fn="strong_wolfe", max_iter=10),
         problem="seq", steps=4),
    # Rprop
    dict(name="rprop", opt="Rprop", kwargs={}, problem="linear", steps=15),
    dict(name="rprop_custom", opt="Rprop", kwargs=dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1)),
         problem="linear", steps=15),
    dict(name="rprop_maximize", opt="Rprop", kwargs=dict(maximize=True, foreach=False), problem="linear", steps=12),
    dict(name="rprop_complex", opt="Rprop", kwargs=dict(lr=0.1), problem="complex", steps=12),
    # ASGD
    dict(name="asgd", opt="ASGD", kwargs={}, problem="linear", steps=15),
    dict(name="asgd_t0", opt="ASGD", kwargs=dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1),
         problem="linear", steps=15),
    dict(name="asgd_maximize", opt="ASGD", kwargs=dict(lr=0.02, t0=3, maximize=True, foreach=False),
         problem="linear", steps=10),
    dict(name="asgd_complex", opt="ASGD", kwargs=dict(lr=0.05, t0=4), problem="complex", steps=10),
    # SparseAdam on an embedding table (sparse gradients in PyTorch)
    dict(name="sparse_adam", opt="SparseAdam", kwargs=dict(lr=0.05), problem="embedding", steps=12),
    dict(name="sparse_adam_custom", opt="SparseAdam", kwargs=dict(lr=0.1, betas=(0.8, 0.95), eps=1e-6,
                                                                   maximize=True), problem="embedding", steps=12),
]

DTYPES = {"float64": torch.float64, "float32": torch.float32}


# ---- the problems: (parameters, closure builder) -----------------------------------------------
def _t(key, dtype):
    return torch.tensor(INPUTS[key], dtype=dtype)


def rosen_problem(dtype):
    x = nn.Parameter(_t("rosen_x0", dtype))

    def loss_fn(step):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    return [x], loss_fn, None


def linear_problem(dtype):
    w, b = nn.Parameter(_t("lin_w", dtype)), nn.Parameter(_t("lin_b", dtype))
    x, y = _t("lin_x", dtype), _t("lin_y", dtype)

    def loss_fn(step):
        return ((x @ w.T + b - y) ** 2).mean()
    return [w, b], loss_fn, None


def seq_problem(dtype):
    params = [nn.Parameter(_t(k, dtype)) for k in ("mlp_w1", "mlp_b1", "mlp_w2", "mlp_b2")]
    x, y = _t("seq_x", dtype), _t("seq_y", dtype)

    def loss_fn(step):
        w1, b1, w2, b2 = params
        return ((torch.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()
    return params, loss_fn, None


def embedding_problem(dtype):
    emb = nn.Embedding(10, 3, sparse=True, dtype=dtype)
    with torch.no_grad():
        emb.weight.copy_(_t("emb_w", dtype))
    idx = torch.tensor(INPUTS["emb_idx"])
    target = _t("emb_target", dtype)

    def loss_fn(step):
        return ((emb(idx[step]) - target[step]) ** 2).sum()
    return [emb.weight], loss_fn, None


def complex_problem(dtype):
    """A complex parameter with the gradient set by hand: ``g = a * z + c`` (elementwise)."""
    ctype = torch.complex128 if dtype == torch.float64 else torch.complex64
    z = nn.Parameter(torch.tensor(INPUTS["cplx_z"], dtype=ctype))
    a, c = torch.tensor(INPUTS["cplx_a"], dtype=ctype), torch.tensor(INPUTS["cplx_c"], dtype=ctype)

    def set_grad(step):
        z.grad = a * z.detach() + c
    return [z], None, set_grad


PROBLEMS = {"rosen": rosen_problem, "linear": linear_problem, "seq": seq_problem, "embedding": embedding_problem,
            "complex": complex_problem}


def _state_arrays(opt, params, prefix):
    """The final state of every parameter: tensors as arrays, numbers as 0-d arrays."""
    out = {}
    for i, p in enumerate(params):
        for k, v in opt.state[p].items():
            if isinstance(v, torch.Tensor):
                out[f"{prefix}/state{i}/{k}"] = v.detach().numpy().copy()
            elif isinstance(v, (int, float)):
                out[f"{prefix}/state{i}/{k}"] = np.array(v)
            elif isinstance(v, list) and k in ("old_dirs", "old_stps", "ro") and v:
                out[f"{prefix}/state{i}/{k}"] = np.stack([t.detach().numpy() for t in v])
    return out


def run_case(case):
    dtype = DTYPES[case.get("dtype", "float64")]
    params, loss_fn, set_grad = PROBLEMS[case["problem"]](dtype)
    opt = getattr(torch.optim, case["opt"])(params, **case["kwargs"])
    traj, losses = [], []
    for step in range(case["steps"]):
        if case["opt"] == "LBFGS":
            def closure():
                opt.zero_grad()
                loss = loss_fn(step)
                loss.backward()
                return loss
            losses.append(opt.step(closure).item())
        else:
            opt.zero_grad()
            if set_grad is not None:
                set_grad(step)
            else:
                loss_fn(step).backward()
            opt.step()
        traj.append([p.detach().numpy().copy() for p in params])
    name = case["name"]
    out = {f"{name}/p{i}": np.stack([t[i] for t in traj]) for i in range(len(params))}
    if losses:
        out[f"{name}/losses"] = np.array(losses)
    if case.get("keep_state", True):
        out.update(_state_arrays(opt, params, name))
    return out


# ---- state_dict layouts and defaults ------------------------------------------------------------
def _describe(v):
    if isinstance(v, torch.Tensor):
        return f"Tensor[{v.dim()}d,{str(v.dtype).replace('torch.', '')}]"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def layouts():
    """Per optimizer: the param-group keys and defaults, and the state entries' kinds after 2 steps."""
    out = {}
    for cls, problem in (("LBFGS", "rosen"), ("Rprop", "linear"), ("ASGD", "linear"), ("SparseAdam", "embedding")):
        params, loss_fn, _ = PROBLEMS[problem](torch.float64)
        opt = getattr(torch.optim, cls)(params)
        for step in range(2):
            def closure():
                opt.zero_grad()
                loss = loss_fn(step)
                loss.backward()
                return loss
            if cls == "LBFGS":
                opt.step(closure)
            else:
                closure()
                opt.step()
        sd = opt.state_dict()
        group = {k: (list(v) if isinstance(v, tuple) else v) for k, v in sd["param_groups"][0].items()}
        out[cls] = {"group": group, "state": {k: _describe(v) for k, v in sd["state"][0].items()}}
    return out


# ---- SWA utilities ------------------------------------------------------------------------------
def swalr_cases():
    out = {}
    configs = {"cos": dict(swa_lr=0.01, anneal_epochs=4),
               "linear_list": dict(swa_lr=[0.01, 0.2], anneal_epochs=3, anneal_strategy="linear"),
               "zero_epochs": dict(swa_lr=0.02, anneal_epochs=0)}
    for name, kw in configs.items():
        p1, p2 = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))
        opt = torch.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.05}], lr=0.1)
        sched = swa_utils.SWALR(opt, **kw)
        lrs = [[g["lr"] for g in opt.param_groups]]
        for _ in range(7):
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        out[f"swalr/{name}"] = np.array(lrs)
        out[f"swalr/{name}/state_keys"] = np.array(sorted(sched.state_dict()))
    return out


def bn_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2))
    model = model.double()
    state = {k: torch.tensor(INPUTS_SWA[f"init/{k}"]) for k in model.state_dict()}
    model.load_state_dict(state)
    return model


rng_swa = np.random.default_rng(7)
INPUTS_SWA = {
    "init/0.weight": rng_swa.standard_normal((4, 3)), "init/0.bias": rng_swa.standard_normal(4),
    "init/1.weight": rng_swa.uniform(0.5, 1.5, 4), "init/1.bias": rng_swa.standard_normal(4),
    "init/1.running_mean": np.zeros(4), "init/1.running_var": np.ones(4), "init/1.num_batches_tracked": np.array(0),
    "init/3.weight": rng_swa.standard_normal((2, 4)), "init/3.bias": rng_swa.standard_normal(2),
    "init/4.weight": rng_swa.uniform(0.5, 1.5, 2), "init/4.bias": rng_swa.standard_normal(2),
    "init/4.running_mean": np.zeros(2), "init/4.running_var": np.ones(2), "init/4.num_batches_tracked": np.array(0),
    "deltas": rng_swa.standard_normal((5, 4, 3)) * 0.1,   # added to the first layer's weight before each update
    "batches": rng_swa.standard_normal((5, 6, 3)),        # forward passes (train mode) before each update
}


def averaged_model_cases():
    """AveragedModel over a model whose first weight drifts and whose BatchNorm statistics move."""
    out = {}
    from torch.optim.swa_utils import (AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn, get_swa_avg_fn,
                                       get_swa_multi_avg_fn)
    configs = {"swa": {}, "ema_multi_buffers": dict(multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True),
               "ema_avg_fn": dict(avg_fn=get_ema_avg_fn(0.8)), "swa_multi": dict(multi_avg_fn=get_swa_multi_avg_fn()),
               "swa_avg_fn_buffers": dict(avg_fn=get_swa_avg_fn(), use_buffers=True)}
    for name, kw in configs.items():
        model = bn_model()
        avg = AveragedModel(model, **kw)
        for k in range(5):
            with torch.no_grad():
                model[0].weight.add_(torch.tensor(INPUTS_SWA["deltas"][k]))
            model.train()
            model(torch.tensor(INPUTS_SWA["batches"][k]))
            avg.update_parameters(model)
        for key, v in avg.state_dict().items():
            out[f"avg/{name}/{key}"] = v.detach().numpy().copy()
    return out


def update_bn_case():
    out = {}
    model = bn_model()
    model.eval()
    for m in (model[1], model[4]):
        m.running_mean.fill_(3.0)  # stale statistics, to be recomputed
    model[4].momentum = 0.3
    batches = INPUTS_SWA["batches"]
    loader = [torch.tensor(batches[0])] + [(torch.tensor(b), torch.zeros(6)) for b in batches[1:]]
    swa_utils.update_bn(loader, model)
    for key, v in model.state_dict().items():
        out[f"update_bn/{key}"] = v.detach().numpy().copy()
    out["update_bn/training"] = np.array(model.training)
    out["update_bn/momenta"] = np.array([model[1].momentum, model[4].momentum])
    return out


def main():
    data = {f"in/{k}": v for k, v in INPUTS.items()}
    data.update({f"in_swa/{k}": v for k, v in INPUTS_SWA.items()})
    data["cases"] = np.array(json.dumps(CASES))
    for case in CASES:
        data.update(run_case(case))
    data["layouts"] = np.array(json.dumps(layouts()))
    data.update(swalr_cases())
    data.update(averaged_model_cases())
    data.update(update_bn_case())
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT}: {len(data)} arrays, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
