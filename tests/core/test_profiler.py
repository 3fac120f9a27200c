"""ember.profiler: the event tree and self times (on a fake clock), PyTorch's table text (against tables
PyTorch printed for the same events, tests/core/data/make_profiler_reference.py), the chrome trace, schedules
and stepping, record_function as a decorator and across threads, and the torch.autograd.profiler names.
No assertion depends on how long anything really took."""
import gzip
import json
import pathlib
import threading
import warnings

import pytest

import ember
import ember.autograd.profiler
from ember import _op_hooks, nn, profiler
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule
from ember.profiler import _recorder
from ember.profiler._events import build_events

REF = json.loads((pathlib.Path(__file__).parent / "data" / "profiler_reference.json").read_text())


@pytest.fixture
def fake_clock(monkeypatch):
    """Every reading of the profiler's clock is 1 microsecond after the last."""
    ticks = iter(range(0, 10**12, 1000))
    monkeypatch.setattr(_recorder, "now_ns", lambda: next(ticks))


def by_name(events):
    out = {}
    for e in events:
        out.setdefault(e.name, []).append(e)
    return out


# -- the tree and self time -----------------------------------------------------------------------------

def test_nested_ranges_self_time_on_a_fake_clock(fake_clock):
    with profile() as prof:
        with record_function("outer"):        # clock readings: recorder 0, outer 1 ... outer end 8
            with record_function("a"):
                pass
            with record_function("b"):
                with record_function("c"):
                    pass
    ev = by_name(prof.events())
    outer, a, b, c = ev["outer"][0], ev["a"][0], ev["b"][0], ev["c"][0]
    assert [e.name for e in prof.events()] == ["outer", "a", "b", "c"]   # start order
    assert [x.name for x in outer.cpu_children] == ["a", "b"] and b.cpu_children == [c]
    assert c.cpu_parent is b and outer.cpu_parent is None
    assert (outer.cpu_time_total, a.cpu_time_total, b.cpu_time_total, c.cpu_time_total) == (7.0, 1.0, 3.0, 1.0)
    assert outer.self_cpu_time_total == 7.0 - 1.0 - 3.0 and b.self_cpu_time_total == 2.0
    assert prof.events().self_cpu_time_total == outer.cpu_time_total   # self times partition the top range
    assert all(e.is_user_annotation and e.count == 1 for e in prof.events())


def test_key_averages_sum_calls_and_keep_first_run_order(fake_clock):
    with profile() as prof:
        for _ in range(3):
            with record_function("step"):
                with record_function("inner"):
                    pass
    avg = prof.key_averages()
    assert [(a.key, a.count) for a in avg] == [("step", 3), ("inner", 3)]
    step = avg[0]
    assert step.cpu_time_total == 9.0 and step.self_cpu_time_total == 6.0 and step.cpu_time == 3.0
    assert all(a.self_cpu_time_total <= a.cpu_time_total for a in avg)
    total = prof.events().total_average()
    assert total.key == "Total" and total.count == 6


def test_real_clock_structure_and_self_at_most_total():
    with profile() as prof:
        with record_function("outer"):
            for _ in range(2):
                with record_function("inner"):
                    sum(range(1000))
    ev = prof.events()
    assert [e.name for e in ev] == ["outer", "inner", "inner"]
    for e in ev:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
    assert ev[0].cpu_time_total >= sum(c.cpu_time_total for c in ev[0].cpu_children)


def test_record_function_as_a_decorator_recursion_and_args(fake_clock):
    @record_function("fib")
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    with profile() as prof:
        assert fib(4) == 3
        with record_function("tagged", args="x=1"):
            pass
    fibs = [e for e in prof.events() if e.name == "fib"]
    assert len(fibs) == 9                              # the calls of fib(4)
    assert len(fibs[0].cpu_children) == 2 and fibs[0].cpu_parent is None
    assert by_name(prof.events())["tagged"][0].args == "x=1"


def test_ranges_on_threads_nest_per_thread():
    def work():
        with record_function("worker"):
            with record_function("worker_inner"):
                pass

    with profile() as prof:
        with record_function("main"):
            t = threading.Thread(target=work)
            t.start()
            t.join()
    ev = by_name(prof.events())
    main, worker = ev["main"][0], ev["worker"][0]
    assert main.thread != worker.thread
    assert worker.cpu_parent is None and main.cpu_children == []   # no parent across threads
    assert ev["worker_inner"][0].cpu_parent is worker


def test_nothing_is_recorded_outside_a_profile():
    with record_function("before"):
        pass
    assert _recorder.ACTIVE.recorder is None
    with profile() as prof:
        assert _recorder.ACTIVE.recorder is not None
        with record_function("inside"):
            pass
    assert _recorder.ACTIVE.recorder is None
    with record_function("after"):
        pass
    assert [e.name for e in prof.events()] == ["inside"]


# -- PyTorch's table text, from the same events -----------------------------------------------------------

def _events_of(tree_name, profile_memory=False):
    """The reference tree as Ember events, built by the recorder's tree builder from the time ranges."""
    tree = REF["trees"][tree_name]
    rec = _recorder.Recorder(record_shapes=True, profile_memory=profile_memory)
    for i, (name, start, end, parent, shapes, mem) in enumerate(tree):
        raw = _recorder.RawEvent(name, _recorder.CPU_OP, 1, round(start * 1000))
        raw.end = round(end * 1000)
        raw.shapes, raw.dtypes = shapes, ["float"] * len(shapes)
        inner = sum(t[5] for t in tree if t[3] == i)
        raw.outputs = [(i, mem - inner)]   # the bytes this range itself allocated
        rec.events.append(raw)
    events = build_events(rec)
    assert [(e.cpu_parent.id - 1 if e.cpu_parent else None) for e in events] == [t[3] for t in tree]
    return events


@pytest.mark.parametrize("case", REF["tables"], ids=lambda c: f"{c['tree']}-{c['options']}")
def test_table_text_is_pytorchs(case):
    events = _events_of(case["tree"], case.get("profile_memory", False))
    if case["averages"]:
        events = events.key_averages(group_by_input_shapes=case.get("group_by_input_shape", False))
    assert events.table(**case["options"]) == case["text"]


def test_table_of_nothing_is_empty_and_bad_sort_key_raises():
    with profile() as prof:
        pass
    assert prof.key_averages().table() == ""
    with profile() as prof:
        with record_function("x"):
            pass
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="no_such_column")
    with pytest.raises(ValueError, match="time_unit"):
        prof.key_averages().table(time_unit="minutes")


def test_stacks_source_location_and_export_stacks(fake_clock, tmp_path):
    with profile(with_stack=True) as prof:
        with record_function("here"):
            ember.ones(2).sum()
    ev = prof.events()[0]
    assert ev.stack and "test_profiler.py" in ev.stack[0] and "test_stacks_source_location" in ev.stack[0]
    assert not any("core/ember/" in s for e in prof.events() for s in e.stack)
    text = prof.key_averages(group_by_stack_n=2).table()
    assert "Source Location" in text.splitlines()[1] and "test_profiler.py" in text
    prof.export_stacks(str(tmp_path / "stacks.txt"))
    lines = (tmp_path / "stacks.txt").read_text().splitlines()
    assert [ln.rsplit(" ", 1)[0].rsplit(";", 1)[1] for ln in lines] == ["here", "aten::ones", "aten::sum"]
    assert all(ln.rsplit(" ", 1)[1].isdigit() for ln in lines)


# -- the chrome trace --------------------------------------------------------------------------------------

def _x_events(doc):
    return [e for e in doc["traceEvents"] if e["ph"] == "X"]


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_chrome_trace_is_valid_trace_event_json(tmp_path, suffix):
    with profile(record_shapes=True) as prof:
        with record_function("outer"):
            with record_function("inner"):
                pass
    prof.add_metadata("run", "unit-test")
    path = tmp_path / f"trace{suffix}"
    prof.export_chrome_trace(str(path))
    raw = path.read_bytes()
    doc = json.loads(gzip.decompress(raw) if suffix.endswith(".gz") else raw)
    assert doc["run"] == "unit-test" and doc["displayTimeUnit"] == "ms"
    xs = _x_events(doc)
    assert [e["name"] for e in xs] == ["outer", "inner"]
    for e in xs:
        assert e["cat"] == "user_annotation" and isinstance(e["ts"], float) and e["dur"] >= 0
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
    outer, inner = xs
    assert outer["ts"] <= inner["ts"] and inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"] + 1e-3
    meta = {(e["name"], e["tid"]) for e in doc["traceEvents"] if e["ph"] == "M"}
    assert ("thread_name", outer["tid"]) in meta and ("process_name", 0) in meta


def test_tensorboard_trace_handler_writes_one_file_per_trace(tmp_path):
    handler = profiler.tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w0", use_gzip=True)
    with profile(on_trace_ready=handler):
        with record_function("x"):
            pass
    (f,) = (tmp_path / "tb").iterdir()
    assert f.name.startswith("w0.") and f.name.endswith(".pt.trace.json.gz")
    assert [e["name"] for e in _x_events(json.loads(gzip.decompress(f.read_bytes())))] == ["x"]


# -- schedules and stepping ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", REF["schedules"], ids=lambda c: str(c["options"]))
def test_schedule_actions_are_pytorchs(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = schedule(**case["options"])
    assert [s(i).name for i in range(len(case["actions"]))] == case["actions"]


@pytest.mark.parametrize("options, message", [({"wait": -1, "warmup": 1, "active": 1}, "wait"),
                                              ({"wait": 1, "warmup": 1, "active": 0}, "active"),
                                              ({"wait": 1, "warmup": 1, "active": 1, "repeat": -2}, "repeat")])
def test_schedule_rejects_bad_counts(options, message):
    with pytest.raises(ValueError, match=message):
        schedule(**options)


def test_stepping_through_a_schedule_hands_each_cycle_to_on_trace_ready():
    traces = []

    def ready(prof):
        traces.append([e.name for e in prof.events() if e.cpu_parent is None])

    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2), on_trace_ready=ready) as prof:
        for _ in range(10):
            with record_function("iteration"):
                pass
            prof.step()
    assert traces == [["ProfilerStep#2", "ProfilerStep#3"], ["ProfilerStep#6", "ProfilerStep#7"]]
    steps = [e for e in prof.events() if e.name.startswith("ProfilerStep#")]
    assert all([c.name for c in s.cpu_children] == ["iteration"] for s in steps)
    assert prof.step_num == 10 and prof.current_action is ProfilerAction.NONE


def test_stop_during_a_recorded_step_saves_the_trace():
    traces = []
    prof = profile(schedule=schedule(wait=0, warmup=1, active=3), on_trace_ready=traces.append)
    prof.start()
    for _ in range(2):          # step 0 warms up, step 1 records, then stop
        with record_function("it"):
            pass
        prof.step()
    prof.stop()
    assert traces == [prof] and [e.name for e in prof.events()] == ["ProfilerStep#1", "it", "ProfilerStep#2"]


# -- arguments, errors, the torch.autograd.profiler names -------------------------------------------------

def test_activities():
    assert profiler.supported_activities() == {ProfilerActivity.CPU}
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])
    with pytest.warns(UserWarning, match="no device events"):
        p = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    assert ProfilerActivity.CUDA in p.activities


def test_profiles_do_not_nest_and_events_wait_for_the_end():
    with profile() as outer:
        with pytest.raises(RuntimeError, match="already recording"):
            profile().start()
        with pytest.raises(RuntimeError, match="no trace yet"):
            outer.events()
    assert outer.events() == []


def test_autograd_profiler_names():
    ap = ember.autograd.profiler
    assert ap.record_function is profiler.record_function and ap.EventList is profiler.EventList
    with ap.profile(record_shapes=True) as prof:
        with ap.record_function("block"):
            pass
    assert [e.name for e in prof.function_events] == ["block"]
    assert prof.key_averages()[0].count == 1 and "block" in prof.table(sort_by="cpu_time_total")
    assert prof.total_average().count == 1 and prof.self_cpu_time_total >= 0
    with ap.profile(enabled=False) as off:
        with ap.record_function("ignored"):
            pass
    assert off.function_events is None


# -- op events (the op layer's observer hook, ember._op_hooks) ----------------------------------------------

def _small_cnn():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 6 * 6, 8), nn.ReLU(), nn.Linear(8, 2)).eval()


def test_op_events_of_a_small_models_forward():
    model, x = _small_cnn(), ember.randn(5, 1, 6, 6)
    with ember.no_grad(), profile(record_shapes=True) as prof:
        with record_function("forward"):
            y = model(x)
    assert _op_hooks.OBSERVERS == []   # the profile's observer left with it
    forward = prof.events()[0]
    assert forward.name == "forward" and y.shape == (5, 2)
    top = [e.name for e in forward.cpu_children]
    # Every layer's op, in order (the eval-mode conv+BN folding is off while ops are observed).
    assert top == ["aten::conv2d", "aten::batch_norm", "aten::relu", "aten::flatten", "aten::linear",
                   "aten::relu", "aten::linear"]
    avg = {a.key: a for a in prof.key_averages()}
    assert avg["aten::linear"].count == 2 and avg["aten::relu"].count == 2 and avg["forward"].count == 1
    for e in prof.events():
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        assert not e.is_user_annotation or e.name == "forward"
    shapes = {(a.key, str(a.input_shapes)) for a in prof.key_averages(group_by_input_shape=True)}
    assert {("aten::linear", "[[5, 144], [8, 144], [8]]"), ("aten::linear", "[[5, 8], [2, 8], [2]]")} <= shapes
    conv = next(e for e in prof.events() if e.name == "aten::conv2d")
    assert conv.input_shapes[:3] == [[5, 1, 6, 6], [4, 1, 3, 3], [4]] and conv.input_dtypes[:3] == ["float"] * 3
    text = prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=20)
    assert text.splitlines()[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%", "CPU",
                                            "total", "CPU", "time", "avg", "#", "of", "Calls", "Input", "Shapes"]
    assert "aten::conv2d" in text and "[[5, 144], [8, 144], [8]]" in text


def test_op_events_in_the_chrome_trace(tmp_path):
    with profile(record_shapes=True) as prof:
        with record_function("step"):
            ember.ones(2, 3).sum(dim=0)
    prof.export_chrome_trace(str(tmp_path / "t.json"))
    xs = _x_events(json.loads((tmp_path / "t.json").read_text()))
    assert [(e["name"], e["cat"]) for e in xs] == [("step", "user_annotation"), ("aten::ones", "cpu_op"),
                                                   ("aten::sum", "cpu_op")]
    # Every argument of the op's signature, defaults included, as PyTorch records its schema's arguments
    # (aten::sum.dim_IntList: [[2, 3], [], [], []] with types float, ScalarList, Scalar and "" for dtype=None).
    assert xs[2]["args"]["Input Dims"] == [[2, 3], [], [], []]
    assert xs[2]["args"]["Input type"] == ["float", "Scalar", "Scalar", ""]
    assert xs[2]["ts"] >= xs[1]["ts"] + xs[1]["dur"]


@pytest.mark.parametrize("op, name", [(lambda x: x + 1, "aten::add"), (lambda x: 1 + x, "aten::add"),
                                      (lambda x: 2 - x, "aten::rsub"), (lambda x: x @ x.T, "aten::matmul"),
                                      (lambda x: -x, "aten::neg"), (lambda x: x[0], "aten::index"),
                                      (lambda x: x.clone().__iadd__(1), "aten::add_"),
                                      (lambda x: x / 2, "aten::div"), (lambda x: x > 0, "aten::gt")])
def test_operators_are_named_as_their_ops(op, name):
    x = ember.ones(2, 2)
    with profile() as prof:
        op(x)
    assert name in [e.name for e in prof.events() if e.cpu_parent is None]


def test_profile_memory_counts_new_outputs_not_views_or_in_place_writes():
    x = ember.ones(4, 8)   # float32: 128 bytes
    with profile(profile_memory=True) as prof:
        with record_function("block"):
            y = x * 2          # 128 B
            y.view(8, 4)       # a view: 0 B
            y.mul_(3)          # in place: 0 B
            ember.ones(2, dtype=ember.float64)   # 16 B
    ev = {e.name: e for e in prof.events()}
    assert ev["aten::mul"].cpu_memory_usage == 128 and ev["aten::view"].cpu_memory_usage == 0
    assert ev["aten::mul_"].self_cpu_memory_usage == 0 and ev["aten::ones"].cpu_memory_usage == 16
    block = ev["block"]
    assert block.self_cpu_memory_usage == 0
    assert block.cpu_memory_usage == sum(c.cpu_memory_usage for c in block.cpu_children) >= 144
    assert "CPU Mem" in prof.key_averages().table().splitlines()[1]


def test_an_op_that_raises_still_ends_its_event():
    a, b = ember.ones(2), ember.ones(3)
    with profile() as prof:
        with pytest.raises(RuntimeError):
            a + b
    (e,) = prof.events()
    assert e.name == "aten::add" and e.cpu_time_total >= 0
    assert _op_hooks.OBSERVERS == []


def test_backward_ops_are_recorded_too():
    w = ember.ones(3, requires_grad=True)
    with profile() as prof:
        (w * 2).sum().backward()
    names = [e.name for e in prof.events()]
    assert names[:2] == ["aten::mul", "aten::sum"] and len(names) > 2   # the backward formulas' ops follow


@pytest.mark.parametrize("name", sorted(REF["signatures"]))
def test_parameters_are_pytorchs(name):
    """Each parameter Ember takes is PyTorch's (name, kind, default), in PyTorch's order; PyTorch's extra
    options (experimental_config, acc_events, ...) may be missing."""
    import inspect
    obj = ember
    for part in name.split("."):
        obj = getattr(obj, part)
    fn = obj.__init__ if isinstance(obj, type) else obj
    mine = [[p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
            for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    theirs = REF["signatures"][name]
    positions = [theirs.index(p) if p in theirs else -1 for p in mine]
    assert -1 not in positions, [p for p, i in zip(mine, positions) if i == -1]
    assert positions == sorted(positions)
