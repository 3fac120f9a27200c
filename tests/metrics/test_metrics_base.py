"""The Metric base class: states, update/compute/forward, reset, state_dict, devices, syncing,
merging, metric arithmetic, MetricCollection and the aggregation metrics."""
import warnings

import numpy as np
import pytest

import ember
from ember.testing import assert_close
from ember_metrics import (Accuracy, BinaryAUROC, CatMetric, CompositionalMetric, MaxMetric, MeanAbsoluteError,
                           MeanMetric, MeanSquaredError, Metric, MetricCollection, MinMetric,
                           MulticlassAccuracy, PearsonCorrCoef, R2Score, SumMetric)
from ember_metrics.metric import MetricsUserError
from ember_metrics.utilities import dim_zero_cat, gather_uneven


def T(x, dtype=None):
    return ember.tensor(np.asarray(x), dtype=dtype)


class Stats(Metric):
    """One state per reduction kind, so every merge/sync path is exercised."""

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_state("total", ember.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("avg", ember.tensor(0.0), dist_reduce_fx="mean")
        self.add_state("hi", ember.tensor(-float("inf")), dist_reduce_fx="max")
        self.add_state("lo", ember.tensor(float("inf")), dist_reduce_fx="min")
        self.add_state("values", [], dist_reduce_fx="cat")

    def update(self, x):
        x = ember.as_tensor(x, dtype=ember.float32)
        self.total = self.total + x.sum()
        if x.numel():
            self.avg = x.mean()  # the batch mean; "mean" merging averages it over updates/processes
            self.hi = ember.maximum(self.hi, x.max())
            self.lo = ember.minimum(self.lo, x.min())
        self.values.append(x.reshape(-1))

    def compute(self):
        values = dim_zero_cat(self.values) if self.values else ember.zeros(0)
        return {"total": self.total, "avg": self.avg, "hi": self.hi, "lo": self.lo, "n": ember.tensor(values.numel())}


class FullStats(Stats):
    full_state_update = True


BATCHES = [[1.0, 2.0, 3.0], [10.0], [], [-4.0, 5.0]]


def _expected(batches):
    flat = [v for b in batches for v in b]
    means = [np.mean(b) if b else 0.0 for b in batches]
    return {"total": sum(flat), "avg": np.mean(means), "hi": max(flat), "lo": min(flat), "n": len(flat)}


def _check(result, expected):
    for k, v in expected.items():
        assert_close(result[k], np.asarray(v, dtype=result[k].numpy().dtype), rtol=1e-6, atol=1e-6, msg=k)


# ---- states, update, compute ------------------------------------------------------------------------------
def test_add_state_rejects_bad_defaults_and_reductions():
    m = Stats()
    with pytest.raises(ValueError, match="state variable must be a tensor or any empty list"):
        m.add_state("bad", [ember.tensor(1.0)])
    with pytest.raises(ValueError, match="state variable must be a tensor"):
        m.add_state("bad", 3.0)
    with pytest.raises(ValueError, match="`dist_reduce_fx` must be callable or one of"):
        m.add_state("bad", ember.tensor(0.0), dist_reduce_fx="median")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: bogus"):
        Stats(bogus=1)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # 0 / 0 before any update
def test_compute_is_cached_until_update_and_warns_before_update():
    m = MeanSquaredError()
    with pytest.warns(UserWarning, match="called before the ``update`` method"):
        m.compute()
    m.update(T([1.0, 2.0]), T([1.0, 4.0]))
    first = m.compute()
    assert m.compute() is first
    m.update(T([0.0]), T([3.0]))
    assert m.compute() is not first
    assert_close(m.compute(), 13.0 / 3)
    assert m.update_count == 2 and m.update_called


@pytest.mark.parametrize("cls", [Stats, FullStats])
def test_forward_returns_batch_value_and_accumulates(cls):
    m = cls()
    for b in BATCHES:
        if b:
            _check(m(T(b)), _expected([b]))
        else:
            m(T(b, dtype=ember.float32))
    expected = _expected(BATCHES)
    if cls is FullStats:  # the global state saw plain updates: the last batch mean
        expected["avg"] = np.mean(BATCHES[-1])
    _check(m.compute(), expected)
    assert m.update_count == len(BATCHES)


def test_forward_default_full_state_update_for_user_metrics():
    class UserSum(Metric):  # full_state_update left None: the safe two-update path
        def __init__(self):
            super().__init__()
            self.add_state("s", ember.tensor(0.0), dist_reduce_fx="sum")
            self.calls = 0

        def update(self, x):
            self.calls += 1
            self.s = self.s + x.sum()

        def compute(self):
            return self.s

    m = UserSum()
    assert_close(m(T([1.0, 2.0])), 3.0)
    assert_close(m(T([4.0])), 4.0)
    assert_close(m.compute(), 7.0)
    assert m.calls == 4 and m.update_count == 2


def test_subclass_calling_super_update_counts_once():
    class Twice(MeanSquaredError):
        def update(self, preds, target):
            super().update(preds, target)

    m = Twice()
    m.update(T([1.0]), T([2.0]))
    assert m.update_count == 1
    assert_close(m.compute(), 1.0)


def test_forward_keeps_gradient_of_differentiable_metric_but_not_in_state():
    m = MeanSquaredError()
    p = ember.tensor([1.0, 2.0, 4.0], requires_grad=True)
    val = m(p, T([0.0, 0.0, 0.0]))
    val.backward()
    assert_close(p.grad, [2 / 3, 4 / 3, 8 / 3])
    assert m.sum_squared_error.grad_fn is None and not m.sum_squared_error.requires_grad
    m.update(p, T([0.0, 0.0, 0.0]))   # plain update records no graph
    assert m.compute().grad_fn is None
    with ember.no_grad():
        assert m(p, T([0.0, 0.0, 0.0])).grad_fn is None


def test_reset_restores_fresh_independent_defaults():
    m = Stats()
    m.update(T([1.0, 2.0]))
    m.total += 5.0  # in-place on a state must not leak into the default
    m.reset()
    assert m.update_count == 0 and m.values == []
    assert_close(m.total, 0.0)
    m.update(T([3.0]))
    assert_close(m.total, 3.0)
    c = m.clone()
    c.update(T([1.0]))
    assert_close(m.total, 3.0)
    assert_close(c.total, 4.0)


def test_iteration_is_refused():
    with pytest.raises(NotImplementedError, match="does not support iteration"):
        iter(MeanSquaredError())


# ---- state_dict ----------------------------------------------------------------------------------------------
def test_state_dict_only_persistent_states_and_roundtrip():
    m = Stats()
    for b in BATCHES:
        m.update(T(b, dtype=ember.float32))
    assert dict(m.state_dict()) == {}
    m.persistent(True)
    sd = m.state_dict()
    assert set(sd) == {"total", "avg", "hi", "lo", "values"}
    assert_close(sd["values"], [1.0, 2.0, 3.0, 10.0, -4.0, 5.0])  # list states saved concatenated
    fresh = Stats()
    fresh.persistent(True)
    fresh.load_state_dict(sd)
    assert isinstance(fresh.values, list)
    _check(fresh.compute(), {k: v for k, v in _expected(BATCHES).items() if k != "avg"})
    partial = Stats()
    partial.persistent(True)
    with pytest.raises(RuntimeError, match="Missing key"):
        partial.load_state_dict({"total": ember.tensor(1.0)})


def test_persistent_state_inside_a_model():
    class Model(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = ember.nn.Linear(2, 1)
            self.mse = MeanSquaredError()
            self.mse.persistent(True)

    model = Model()
    model.mse.update(T([1.0, 3.0]), T([0.0, 0.0]))
    sd = model.state_dict()
    assert {"fc.weight", "fc.bias", "mse.sum_squared_error", "mse.total"} <= set(sd)
    other = Model()
    other.load_state_dict(sd)
    assert_close(other.mse.compute(), 5.0)
    assert "mse.total" not in dict(model.named_buffers())  # states are not buffers (DDP won't broadcast them)


def test_empty_list_state_in_state_dict():
    c = CatMetric()
    c.persistent(True)
    sd = c.state_dict()
    assert sd["value"].numel() == 0
    d = CatMetric()
    d.persistent(True)
    d.load_state_dict(sd)
    assert d.value == []


# ---- devices and dtypes ------------------------------------------------------------------------------------------
def test_to_moves_tensor_and_list_states(accel):
    m = Stats().to("accel:1")
    assert m.device == ember.device("accel:1")
    assert m.total.device == ember.device("accel:1")
    m.update(T([1.0, 2.0]).to("accel:1"))
    assert m.values[0].device == ember.device("accel:1")
    res = m.compute()
    assert res["total"].device == ember.device("accel:1")
    m.reset()
    assert m.total.device == ember.device("accel:1")
    m.update(T([4.0]).to("accel:1"))
    m.cpu()
    assert m.total.device == ember.device("cpu") and m.values[0].device == ember.device("cpu")
    assert_close(m.compute()["total"], 4.0)


def test_compute_on_cpu_moves_list_states(accel):
    m = BinaryAUROC(compute_on_cpu=True).to("accel:0")
    m.update(T([0.1, 0.9, 0.4]).to("accel:0"), T([0, 1, 1]).to("accel:0"))
    assert m.preds[0].device == ember.device("cpu") and m.device == ember.device("accel:0")
    m.update(T([0.5]).to("accel:0"), T([0]).to("accel:0"))
    assert_close(m.compute(), 3 / 4)  # positive/negative pairs ranked right: 3 of 4


def test_inputs_on_another_device_raise_naming_both(accel):
    m = MeanSquaredError().to("accel:0")
    with pytest.raises(RuntimeError, match="accel:0") as err:
        m.update(T([1.0]), T([2.0]))
    assert "cpu" in str(err.value)
    acc = MulticlassAccuracy(num_classes=3).to("accel:0")
    with pytest.raises(RuntimeError, match="accel"):
        acc.update(T([0, 1]), T([0, 2]))


def test_precision_casts_are_no_ops_but_set_dtype_casts():
    m = MeanSquaredError()
    m.update(T([1.0]), T([2.0]))
    assert m.half() is m and m.double() is m and m.float() is m
    assert m.sum_squared_error.dtype == ember.float32
    m.set_dtype(ember.float64)
    assert m.sum_squared_error.dtype == ember.float64 and m.total.dtype == ember.int64
    m.update(T([0.0]), T([3.0]))
    assert m.compute().dtype == ember.float64
    assert_close(m.compute(), 5.0)


# ---- syncing across (simulated) processes ---------------------------------------------------------------------------
RANK_BATCHES = [[[1.0, 2.0, 3.0], [7.0]], [[], [-2.0, 0.5]]]  # uneven, and rank 1 starts with an empty batch


def test_sync_two_processes_all_reductions(world):
    def job(rank):
        m = Stats(dist_sync_fn=world.gather)
        for b in RANK_BATCHES[rank]:
            m.update(T(b, dtype=ember.float32))
        synced = m.compute()
        local_total = float(m.total)  # unsynced again after compute
        return synced, local_total

    results = world.run(job)
    flat = [v for r in RANK_BATCHES for b in r for v in b]
    for rank, (synced, local_total) in enumerate(results):
        assert_close(synced["total"], sum(flat))
        assert_close(synced["hi"], 7.0)
        assert_close(synced["lo"], -2.0)
        assert int(synced["n"]) == len(flat)
        assert local_total == pytest.approx(sum(v for b in RANK_BATCHES[rank] for v in b))
    # "mean" states average over processes (each holds its last batch mean here)
    assert_close(results[0][0]["avg"], (7.0 + np.mean([-2.0, 0.5])) / 2, rtol=1e-6, atol=1e-6)


def test_sync_with_an_entirely_empty_cat_state_on_one_process(world):
    def job(rank):
        m = CatMetric(dist_sync_fn=world.gather)
        m.update(T([[1.0, 2.0], [3.0, 4.0]]) if rank == 0 else T([], dtype=ember.float32))
        return m.compute()

    for res in world.run(job):
        assert_close(res, [1.0, 2.0, 3.0, 4.0])


def test_sync_jointly_merged_and_ranking_metrics_match_one_shot(world, rng):
    x, y = rng.normal(size=50) + 100, rng.normal(size=50)
    y = x * 0.3 + y
    s, yb = rng.random(50), rng.integers(0, 2, 50)
    parts = [slice(0, 13), slice(13, 50)]

    def job(rank):
        ms = [R2Score(dist_sync_fn=world.gather), PearsonCorrCoef(dist_sync_fn=world.gather),
              BinaryAUROC(dist_sync_fn=world.gather)]
        sl = parts[rank]
        ms[0].update(T(x[sl]), T(y[sl]))
        ms[1].update(T(x[sl]), T(y[sl]))
        ms[2].update(T(s[sl]), T(yb[sl]))
        return [m.compute() for m in ms]

    one = [R2Score(), PearsonCorrCoef(), BinaryAUROC()]
    one[0].update(T(x), T(y))
    one[1].update(T(x), T(y))
    one[2].update(T(s), T(yb))
    expected = [m.compute() for m in one]
    for res in world.run(job):
        for r, e in zip(res, expected):
            assert_close(r, e, rtol=1e-5, atol=1e-6)


def test_sync_and_unsync_errors():
    m = MeanSquaredError()
    m.update(T([1.0]), T([2.0]))
    with pytest.raises(MetricsUserError, match="already been un-synced"):
        m.unsync()
    m.sync(dist_sync_fn=lambda t, group=None: [t, t])
    assert_close(m.total, 2)  # "sum" over the two (identical) processes
    with pytest.raises(MetricsUserError, match="already been synced"):
        m.sync(dist_sync_fn=lambda t, group=None: [t, t])
    with pytest.raises(MetricsUserError, match="shouldn't be synced when performing ``forward``"):
        m(T([1.0]), T([1.0]))
    m.unsync()
    assert_close(m.total, 1)
    m.sync()  # no gather function and no process group: nothing happens
    assert not m._is_synced
    m.sync(dist_sync_fn=lambda t, group=None: [t, t], distributed_available=lambda: False)
    assert not m._is_synced


def test_custom_and_none_reductions_stack_the_processes():
    class Custom(Metric):
        full_state_update = False

        def __init__(self, **kw):
            super().__init__(**kw)
            self.add_state("a", ember.tensor([1.0, 2.0]), dist_reduce_fx=lambda s: s.prod(0))
            self.add_state("b", ember.tensor(3.0), dist_reduce_fx=None)

        def update(self):
            pass

        def compute(self):
            return self.a, self.b

    m = Custom()
    m.sync(dist_sync_fn=lambda t, group=None: [t, 2 * t])
    assert_close(m.a, [2.0, 8.0])
    assert_close(m.b, [3.0, 6.0])


def test_gather_uneven_pads_trims_and_handles_empty_states(world):
    locals_ = [ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), ember.zeros(0)]

    def job(rank):
        return gather_uneven(locals_[rank], world.all_gather_equal)

    for out in world.run(job):
        assert_close(out[0], locals_[0])
        assert tuple(out[1].shape) == (0, 2)

    scalars = [ember.tensor(3, dtype=ember.int64), ember.tensor(4, dtype=ember.int64)]
    for out in world.run(lambda r: gather_uneven(scalars[r], world.all_gather_equal)):
        assert [int(v) for v in out] == [3, 4]


def test_merge_state_equals_one_shot(rng):
    a, b = MeanSquaredError(), MeanSquaredError()
    a.update(T([1.0, 2.0]), T([0.0, 0.0]))
    b.update(T([3.0]), T([0.0]))
    a.merge_state(b)
    assert_close(a.compute(), 14.0 / 3)
    x, y = rng.normal(size=20) + 50, rng.normal(size=20)
    r1, r2, full = R2Score(), R2Score(), R2Score()
    r1.update(T(x[:7]), T(y[:7] + x[:7]))
    r2.update(T(x[7:]), T(y[7:] + x[7:]))
    full.update(T(x), T(y + x))
    r1.merge_state(r2)
    assert_close(r1.compute(), full.compute(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Expected incoming state to be an instance of MeanSquaredError"):
        a.merge_state(R2Score())
    c = CatMetric()
    c.merge_state({"value": [ember.tensor([1.0, 2.0])]})
    c.merge_state({"value": ember.tensor([3.0])})  # a concatenated list state (as in a state_dict)
    assert_close(c.compute(), [1.0, 2.0, 3.0])


# ---- arithmetic ----------------------------------------------------------------------------------------------------
def test_metric_arithmetic_builds_compositional_metrics():
    mse, mae = MeanSquaredError(), MeanAbsoluteError()
    exprs = {"add": mse + mae, "radd": 1 + mse, "sub": mse - mae, "rsub": 10 - mse, "mul": mse * 2,
             "rmul": 3 * mae, "div": mse / mae, "rdiv": 1 / mse, "pow": mse ** 2, "neg": -mse, "abs": abs(-mse),
             "floordiv": mse // mae, "mod": mse % 3, "gt": mse > mae}
    preds, target = T([1.0, 3.0, 0.0]), T([0.0, 0.0, 0.0])
    mse.update(preds, target)
    mae.update(preds, target)
    v_mse, v_mae = 10.0 / 3, 4.0 / 3
    expected = {"add": v_mse + v_mae, "radd": 1 + v_mse, "sub": v_mse - v_mae, "rsub": 10 - v_mse,
                "mul": 2 * v_mse, "rmul": 3 * v_mae, "div": v_mse / v_mae, "rdiv": 1 / v_mse, "pow": v_mse ** 2,
                "neg": -v_mse, "abs": v_mse, "floordiv": v_mse // v_mae, "mod": v_mse % 3, "gt": True}
    for name, metric in exprs.items():
        assert isinstance(metric, CompositionalMetric)
        assert_close(metric.compute(), np.asarray(expected[name], dtype=np.float32 if name != "gt" else bool),
                     rtol=1e-6, atol=1e-6, msg=name)


def test_compositional_update_forward_and_reset_reach_operands():
    mse, mae = MeanSquaredError(), MeanAbsoluteError()
    combo = mse + mae * 2
    assert_close(combo(T([2.0]), T([0.0])), 4.0 + 4.0)
    combo.update(T([1.0]), T([0.0]))
    assert_close(combo.compute(), 2.5 + 2 * 1.5)
    combo.reset()
    assert mse.update_count == 0 and mae.update_count == 0
    assert (mse == mse) is True  # identity semantics preserved (no CompositionalMetric for ==)


# ---- MetricCollection ---------------------------------------------------------------------------------------------
def test_collection_prefix_postfix_and_kwargs_routing():
    mc = MetricCollection([MeanSquaredError(), MeanMetric()], prefix="val_", postfix="_x")
    assert list(mc.keys()) == ["val_MeanSquaredError_x", "val_MeanMetric_x"]
    assert list(mc.keys(keep_base=True)) == ["MeanSquaredError", "MeanMetric"]
    # MeanMetric.update(value, weight) gets ``weight`` only; MSE takes (preds, target)
    mse, mean = mc["MeanSquaredError"], mc["val_MeanMetric_x"]
    mse.update(T([1.0]), T([0.0]))
    mean.update(T([1.0, 3.0]), weight=T([3.0, 1.0]))
    out = mc.compute()
    assert_close(out["val_MeanSquaredError_x"], 1.0)
    assert_close(out["val_MeanMetric_x"], 1.5)
    assert "val_MeanMetric_x" in mc and "MeanMetric" in mc


def test_collection_update_forward_reset_and_clone():
    mc = MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError()})
    assert list(mc.keys()) == ["mae", "mse"]
    batch = mc(T([2.0, 0.0]), T([0.0, 0.0]))
    assert_close(batch["mse"], 2.0)
    assert_close(batch["mae"], 1.0)
    mc.update(T([1.0]), T([0.0]))
    assert_close(mc.compute()["mse"], 5.0 / 3)
    val = mc.clone(prefix="val_")
    assert list(val.keys()) == ["val_mae", "val_mse"] and val["mse"] is not mc["mse"]
    mc.reset()
    assert mc["mse"].update_count == 0 and val["mse"].update_count == 2


def test_collection_members_do_not_share_state_and_nested_collections_flatten():
    a = Accuracy(task="multiclass", num_classes=3, average="micro")
    b = Accuracy(task="multiclass", num_classes=3, average="macro")
    inner = MetricCollection([MeanSquaredError()], prefix="in_")
    mc = MetricCollection({"micro": a, "macro": b, "nested": inner})
    assert sorted(mc.keys()) == ["macro", "micro", "nested_in_MeanSquaredError"]
    a.update(T([0, 0, 0]), T([0, 0, 1]))
    assert b.update_count == 0 and a.tp is not b.tp
    with pytest.raises(ValueError, match="Encountered two metrics both named MeanSquaredError"):
        MetricCollection([MeanSquaredError(), MeanSquaredError()])
    with pytest.raises(ValueError, match="is not a instance of"):
        MetricCollection([MeanSquaredError(), 3])
    with pytest.raises(ValueError, match="Expected input `prefix` to be a string"):
        MetricCollection([MeanSquaredError()], prefix=1)


# ---- aggregation ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,expected", [(SumMetric, 6.0), (MaxMetric, 3.0), (MinMetric, 1.0), (MeanMetric, 2.0)])
def test_aggregators_accumulate(cls, expected):
    m = cls()
    m.update(T([1.0, 2.0]))
    m.update(3.0)
    m.update(T([], dtype=ember.float32))
    assert_close(m.compute(), expected)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
def test_aggregators_before_any_value():
    assert float(MaxMetric().compute()) == -np.inf
    assert float(MinMetric().compute()) == np.inf
    assert float(SumMetric().compute()) == 0.0
    assert np.isnan(float(MeanMetric().compute()))
    assert CatMetric().compute().numel() == 0


def test_mean_metric_weights_and_forward():
    m = MeanMetric()
    assert_close(m(T([1.0, 2.0]), weight=T([1.0, 3.0])), 1.75)
    assert_close(m(T([4.0]), weight=2.0), 4.0)
    assert_close(m.compute(), (1 + 6 + 8) / 6.0)


def test_nan_strategies():
    data = T([1.0, float("nan"), 3.0])
    with pytest.raises(RuntimeError, match="Encountered `nan` values in tensor"):
        SumMetric(nan_strategy="error").update(data)
    with pytest.warns(UserWarning, match="Will be removed"):
        m = SumMetric()
        m.update(data)
    assert_close(m.compute(), 4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ign = MeanMetric(nan_strategy="ignore")
        ign.update(data, weight=T([1.0, 1.0, float("nan")]))  # a NaN weight drops its value too
        assert_close(ign.compute(), 1.0)
    rep = CatMetric(nan_strategy=0.0)
    rep.update(data)
    assert_close(rep.compute(), [1.0, 0.0, 3.0])
    dis = MaxMetric(nan_strategy="disable")
    dis.update(data)
    assert np.isnan(float(dis.compute()))
    with pytest.raises(ValueError, match="Arg `nan_strategy` should either be a float or one of"):
        MeanMetric(nan_strategy="drop")
