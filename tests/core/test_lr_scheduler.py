"""ember.optim.lr_scheduler: learning-rate sequences against closed-form / hand-computed values,
state_dict round trips, momentum cycling and ReduceLROnPlateau behaviour."""
import math
import pickle
import warnings
from bisect import bisect_right

import pytest

import ember
from ember import optim
from ember.nn import Parameter
from ember.optim import lr_scheduler as S

N = 20


def make_opt(cls=optim.SGD, lrs=(0.1,), **kwargs):
    groups = [{"params": [Parameter(ember.zeros(2))], "lr": lr} for lr in lrs]
    return cls(groups, **kwargs)


def lr_sequence(opt, sched, n=N):
    """The lrs (of every group) at epochs 0..n: optimizer.step() then scheduler.step(), as in training."""
    out = [sched.get_last_lr()]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


def check(got, expected, tol=1e-12):
    assert len(got) == len(expected)
    for e, (g, w) in enumerate(zip(got, expected)):
        assert g == pytest.approx(w, rel=tol, abs=tol), f"epoch {e}: {g} != {w}"


def test_step_multistep_exponential():
    opt = make_opt(lrs=(0.1, 1.0))
    check(lr_sequence(opt, S.StepLR(opt, step_size=3, gamma=0.5)),
          [[0.1 * 0.5 ** (e // 3), 1.0 * 0.5 ** (e // 3)] for e in range(N + 1)])
    ms = [2, 5, 5, 11]  # a repeated milestone decays twice
    opt = make_opt()
    check(lr_sequence(opt, S.MultiStepLR(opt, ms, gamma=0.3)),
          [[0.1 * 0.3 ** bisect_right(ms, e)] for e in range(N + 1)])
    opt = make_opt()
    check(lr_sequence(opt, S.ExponentialLR(opt, gamma=0.9)), [[0.1 * 0.9 ** e] for e in range(N + 1)])


def _cosine(base, eta_min, t, T):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2


@pytest.mark.parametrize("T_max,eta_min", [(7, 0.01), (10, 0.0), (1, 0.0)])
def test_cosine_annealing_follows_closed_form(T_max, eta_min):
    opt = make_opt(lrs=(0.1, 0.05))
    got = lr_sequence(opt, S.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min))
    check(got, [[_cosine(b, eta_min, e, T_max) for b in (0.1, 0.05)] for e in range(N + 1)], tol=1e-9)


def test_cosine_warm_restarts():
    opt = make_opt()
    got = lr_sequence(opt, S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.001))
    expected = []
    for e in range(N + 1):  # periods of 3, 6, 12 epochs starting at epochs 0, 3, 9
        start, T = (0, 3) if e < 3 else (3, 6) if e < 9 else (9, 12)
        expected.append([_cosine(0.1, 0.001, e - start, T)])
    check(got, expected)
    opt = make_opt()
    check(lr_sequence(opt, S.CosineAnnealingWarmRestarts(opt, T_0=4)),
          [[_cosine(0.1, 0, e % 4, 4)] for e in range(N + 1)])


def test_cosine_warm_restarts_fractional_epochs():
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for epoch, (t_cur, t_i) in [(0.5, (0.5, 3)), (2.9, (2.9, 3)), (3.0, (0.0, 6)), (4.5, (1.5, 6)), (9.0, (0.0, 12)),
                                (20.25, (11.25, 12)), (1.0, (1.0, 3))]:
        sched.step(epoch)  # the documented use: no deprecation warning here
        assert sched.last_epoch == math.floor(epoch)
        assert sched.get_last_lr()[0] == pytest.approx(_cosine(0.1, 0, t_cur, t_i), rel=1e-12)
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=5)
    sched.step(12.5)
    assert sched.get_last_lr()[0] == pytest.approx(_cosine(0.1, 0, 2.5, 5))


def test_linear_constant_polynomial():
    opt = make_opt()
    got = lr_sequence(opt, S.LinearLR(opt, start_factor=0.25, end_factor=0.9, total_iters=6))
    check(got, [[0.1 * (0.25 + 0.65 * min(e, 6) / 6)] for e in range(N + 1)])
    opt = make_opt()
    check(lr_sequence(opt, S.ConstantLR(opt, factor=0.5, total_iters=4)),
          [[0.05 if e < 4 else 0.1] for e in range(N + 1)])
    opt = make_opt()
    check(lr_sequence(opt, S.PolynomialLR(opt, total_iters=8, power=2.0)),
          [[0.1 * (1 - min(e, 8) / 8) ** 2] for e in range(N + 1)])


def test_lambda_and_multiplicative():
    opt = make_opt(lrs=(0.1, 0.2))
    sched = S.LambdaLR(opt, [lambda e: 1 / (1 + e), lambda e: 0.5 ** e])
    check(lr_sequence(opt, sched), [[0.1 / (1 + e), 0.2 * 0.5 ** e] for e in range(N + 1)])
    opt = make_opt()
    got = lr_sequence(opt, S.MultiplicativeLR(opt, lambda e: 0.9 if e % 2 else 1.0))
    check(got, [[0.1 * 0.9 ** ((e + 1) // 2)] for e in range(N + 1)])


def test_one_cycle_cos_with_adam_betas():
    opt = make_opt(optim.Adam)
    total, top = 20, 1.0
    sched = S.OneCycleLR(opt, max_lr=top, total_steps=total)
    lrs, betas = [sched.get_last_lr()], [opt.param_groups[0]["betas"]]
    for _ in range(total - 1):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        betas.append(opt.param_groups[0]["betas"])
    initial, low = top / 25, top / 25 / 1e4
    peak = 0.3 * total - 1  # the warm-up ends at step 5

    def cos_anneal(a, b, pct):
        return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2

    for s in range(total):
        if s <= peak:
            pct, lr_ab, m_ab = s / peak, (initial, top), (0.95, 0.85)
        else:
            pct, lr_ab, m_ab = (s - peak) / (total - 1 - peak), (top, low), (0.85, 0.95)
        assert lrs[s][0] == pytest.approx(cos_anneal(*lr_ab, pct), rel=1e-12)
        assert betas[s][0] == pytest.approx(cos_anneal(*m_ab, pct), rel=1e-12) and betas[s][1] == 0.999
    assert lrs[0][0] == pytest.approx(0.04) and max(l[0] for l in lrs) == pytest.approx(1.0)
    group = opt.param_groups[0]
    assert group["initial_lr"] == pytest.approx(0.04) and group["min_lr"] == pytest.approx(4e-6)
    opt.step()
    sched.step()  # step `total`: allowed; one more is an error
    with pytest.raises(ValueError, match="Tried to step 21 times. The specified number of total steps is 20"):
        opt.step()
        sched.step()


def test_one_cycle_linear_three_phase_with_sgd_momentum():
    opt = make_opt(optim.SGD, lrs=(0.1, 0.1), momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=[1.0, 2.0], epochs=2, steps_per_epoch=10, pct_start=0.25,
                         anneal_strategy="linear", three_phase=True, div_factor=10, final_div_factor=100)
    lrs, moms = [sched.get_last_lr()], [opt.param_groups[1]["momentum"]]
    for _ in range(19):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append(opt.param_groups[1]["momentum"])
    # phases end at steps 4 (up), 8 (back down to the initial lr), 19 (to initial / 100)
    for s in range(20):
        for g, top in enumerate((1.0, 2.0)):
            init = top / 10
            if s <= 4:
                want, mom = init + (top - init) * s / 4, 0.95 + (0.85 - 0.95) * s / 4
            elif s <= 8:
                want, mom = top + (init - top) * (s - 4) / 4, 0.85 + (0.95 - 0.85) * (s - 4) / 4
            else:
                want, mom = init + (init / 100 - init) * (s - 8) / 11, 0.95
            assert lrs[s][g] == pytest.approx(want, rel=1e-12)
        assert moms[s] == pytest.approx(mom, rel=1e-12)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic(mode):
    opt = make_opt(optim.SGD, momentum=0.9)
    base, top, half = 0.01, 0.1, 4
    sched = S.CyclicLR(opt, base_lr=base, max_lr=top, step_size_up=half, mode=mode, gamma=0.95,
                       base_momentum=0.8, max_momentum=0.9)
    lrs, moms = [sched.get_last_lr()], [opt.param_groups[0]["momentum"]]
    for _ in range(N):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append(opt.param_groups[0]["momentum"])
    for e in range(N + 1):  # the CLR paper's closed form
        cycle = math.floor(1 + e / (2 * half))
        x = abs(e / half - 2 * cycle + 1)
        scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": 0.95 ** e}[mode]
        assert lrs[e][0] == pytest.approx(base + (top - base) * max(0.0, 1 - x) * scale, rel=1e-12)
        assert moms[e] == pytest.approx(0.9 - (0.9 - 0.8) * max(0.0, 1 - x) * scale, rel=1e-12)


def test_cyclic_asymmetric_with_adam_and_custom_scale():
    opt = make_opt(optim.Adam, lrs=(1.0, 1.0))
    sched = S.CyclicLR(opt, base_lr=[0.0, 0.1], max_lr=1.0, step_size_up=2, step_size_down=6,
                       scale_fn=lambda x: 1.0, cycle_momentum=False)
    got = lr_sequence(opt, sched, 16)
    shape = [0, 0.5, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6]
    check(got, [[shape[e % 8], 0.1 + 0.9 * shape[e % 8]] for e in range(17)], tol=1e-12)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_sequential_and_chained():
    opt = make_opt()
    sched = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=4), S.ExponentialLR(opt, gamma=0.8),
                                 S.StepLR(opt, step_size=2, gamma=0.5)], milestones=[4, 10])
    expected = [[0.1 * (0.1 + 0.9 * e / 4)] if e < 4 else [0.1 * 0.8 ** (e - 4)] if e < 10
                else [0.1 * 0.5 ** ((e - 10) // 2)] for e in range(N + 1)]
    check(lr_sequence(opt, sched), expected)
    opt = make_opt()
    sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3), S.ExponentialLR(opt, gamma=0.9),
                                S.MultiStepLR(opt, [4, 8], gamma=0.1)])
    check(lr_sequence(opt, sched), [[0.1 * (0.5 if e < 3 else 1) * 0.9 ** e * 0.1 ** bisect_right([4, 8], e)]
                                    for e in range(N + 1)])


def test_initial_lr_and_resume_with_last_epoch():
    opt = make_opt(lrs=(0.1, 0.3))
    S.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]
    opt2 = make_opt()
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(opt2, step_size=2, last_epoch=4)
    opt2.param_groups[0]["initial_lr"] = 1.0
    sched = S.ExponentialLR(opt2, gamma=0.5, last_epoch=4)
    assert sched.last_epoch == 5 and sched.base_lrs == [1.0]


SCHEDULERS = {
    "step": lambda o: S.StepLR(o, 3, gamma=0.5),
    "multistep": lambda o: S.MultiStepLR(o, [2, 6]),
    "cos": lambda o: S.CosineAnnealingLR(o, 5, eta_min=0.001),
    "warm": lambda o: S.CosineAnnealingWarmRestarts(o, 2, T_mult=2),
    "linear": lambda o: S.LinearLR(o, 0.2, total_iters=5),
    "poly": lambda o: S.PolynomialLR(o, 6),
    "onecycle": lambda o: S.OneCycleLR(o, 1.0, total_steps=30),
    "cyclic": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3),
    "seq": lambda o: S.SequentialLR(o, [S.ConstantLR(o, 0.5, total_iters=2), S.ExponentialLR(o, 0.9)], [3]),
    "chain": lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.9), S.StepLR(o, 2)]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_state_dict_round_trip(name):
    opt1 = make_opt(optim.SGD, momentum=0.9)
    s1 = SCHEDULERS[name](opt1)
    for _ in range(7):
        opt1.step()
        s1.step()
    sd = pickle.loads(pickle.dumps(s1.state_dict()))
    assert "optimizer" not in sd
    opt2 = make_opt(optim.SGD, momentum=0.9)
    s2 = SCHEDULERS[name](opt2)
    s2.load_state_dict(sd)
    opt2.load_state_dict(opt1.state_dict())  # the lrs (and momenta) live in the optimizer's state
    assert s2.get_last_lr() == s1.get_last_lr()
    for _ in range(8):
        opt1.step()
        s1.step()
        opt2.step()
        s2.step()
        assert s2.get_last_lr() == s1.get_last_lr()
        assert opt2.param_groups[0]["momentum"] == opt1.param_groups[0]["momentum"]


def test_lambda_state_dict_saves_only_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = make_opt(lrs=(0.1, 0.1))
    sched = S.LambdaLR(opt, [lambda e: 1.0, Decay(0.5)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"rate": 0.5}] and "optimizer" not in sd
    other = S.LambdaLR(make_opt(lrs=(0.1, 0.1)), [lambda e: 2.0, Decay(0.9)])
    other.load_state_dict(sd)
    assert other.lr_lambdas[1].rate == 0.5 and other.lr_lambdas[0](3) == 2.0
    assert "lr_lambdas" in sd  # loading does not consume the dict
    sd = S.MultiplicativeLR(make_opt(), lambda e: 0.9).state_dict()
    assert sd["lr_lambdas"] == [None]
    cyc = S.CyclicLR(make_opt(optim.SGD, momentum=0.9), 0.1, 1.0, scale_fn=lambda x: 1.0)
    assert cyc.state_dict()["_scale_fn_custom"] is None


def test_reduce_lr_on_plateau_min_mode():
    opt = make_opt(lrs=(0.1, 0.04))
    sched = S.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=[0.01, 0.03], threshold=0.01)
    metrics = [1.0, 0.9, 0.895, 0.894, 0.9, 0.95, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1]
    got = []
    for m in metrics:
        sched.step(ember.tensor(m) if m == 0.5 else m)  # a 0-d tensor metric works too
        got.append(sched.get_last_lr())
    # 0.895 and 0.894 don't beat 0.9 by 1% (rel): bad epochs 1, 2; then 0.9 makes 3 > patience: halve at
    # index 4 and cool down one epoch (0.95 is ignored). 0.5 is the new best; 0.6, 0.7, 0.8 halve at index 9;
    # 0.9 is ignored (cooldown); 1, 1, 1 halve at index 13. Group 1 is clipped at its min_lr 0.03, then stays.
    expected = [[0.1, 0.04]] * 4 + [[0.05, 0.03]] * 5 + [[0.025, 0.03]] * 4 + [[0.0125, 0.03]] * 3
    check(got, expected)
    assert sched.best == 0.5 and sched.last_epoch == len(metrics)


def test_reduce_lr_on_plateau_max_abs_floor_and_state_dict():
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=0, threshold_mode="abs", threshold=0.1, min_lr=0.004)
    got = []
    for m in [1.0, 1.05, 1.2, 1.1, 1.35, 1.3, 1.3, 1.3]:
        sched.step(m)
        got.append(sched.get_last_lr()[0])
    check([[x] for x in got], [[x] for x in [0.1, 0.01, 0.01, 0.004, 0.004, 0.004, 0.004, 0.004]])
    sd = pickle.loads(pickle.dumps(sched.state_dict()))
    fresh = S.ReduceLROnPlateau(make_opt())
    fresh.load_state_dict(sd)
    assert (fresh.mode, fresh.threshold_mode, fresh.best, fresh.patience) == ("max", "abs", 1.35, 0)
    # eps: an update smaller than eps is skipped.
    opt = make_opt(lrs=(1e-8,))
    sched = S.ReduceLROnPlateau(opt, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    assert opt.param_groups[0]["lr"] == 1e-8


def test_warnings():
    opt = make_opt()
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="epoch parameter"):
        opt.step()
        sched.step(3)  # deprecated everywhere else
    assert sched.get_last_lr() == [0.1 * 0.1]  # closed form: 0.1 * 0.1 ** (3 // 2)
    opt = make_opt()
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    opt = make_opt()
    sched = S.ExponentialLR(opt, 0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_errors():
    opt = make_opt()
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], 2)
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1"):
        S.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater than 0"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        S.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        S.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.CyclicLR(make_opt(optim.Adagrad), 0.01, 0.1)
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        S.CyclicLR(opt, 0.01, 0.1, mode="sawtooth", cycle_momentum=False)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        S.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        S.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode pct is unknown"):
        S.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        S.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    a, b = S.StepLR(opt, 2), S.StepLR(opt, 3)
    with pytest.raises(ValueError, match="number of schedulers provided to be one more than the number of milestone"):
        S.SequentialLR(opt, [a, b], milestones=[2, 4])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.ChainedScheduler([a, S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        S.SequentialLR(opt, [a, S.StepLR(make_opt(), 2)], milestones=[2])
