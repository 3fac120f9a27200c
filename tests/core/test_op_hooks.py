"""The op-observer hook (``ember._op_hooks``): every public op a forward pass runs is reported once at
depth 0, ops called inside it one level deeper, with arguments, results, errors and enter/exit pairs."""
from __future__ import annotations

import pytest

import ember
import ember.nn.functional as F
from ember import _op_hooks as hooks
from ember import nn


class Recorder(hooks.OpObserver):
    def __init__(self):
        self.events = []

    def enter(self, call):
        self.events.append(("enter", call.name, call.depth))
        return len(self.events)

    def exit(self, call, token):
        self.events.append(("exit", call.name, call.depth, token, call.result, call.error))

    def top(self):
        return [e[1] for e in self.events if e[0] == "enter" and e[2] == 0]


def test_nothing_is_reported_without_observers_and_ops_are_wrapped_once():
    assert hooks.OBSERVERS == []
    assert ember.add.__ember_op__ == "add" and ember.Tensor.add is ember.add
    assert hooks.unwrap(ember.add) is ember.add.__wrapped__
    assert hooks.observed("other", ember.add) is ember.add   # wrapping a wrapper changes nothing


def test_every_public_op_of_a_forward_pass_is_reported_at_depth_zero():
    x = ember.randn(2, 3)
    rec = Recorder()
    with hooks.observing(rec):
        y = (x + 1) * 2
        z = F.relu(y).view(3, 2).T[0].sum(dim=0)
        _ = x > 0
        _ = ember.argmax(x)
        y.relu_()
    assert rec.top() == ["__add__", "__mul__", "relu", "view", "T", "__getitem__", "sum", "gt", "argmax",
                         "relu_"]
    assert hooks.OBSERVERS == []
    assert z.shape == ()   # operators that are an op function keep its name (x > 0 is "gt")


def test_nested_ops_are_reported_one_level_deeper_and_enter_exit_pair_up():
    lin = nn.Linear(3, 2)
    rec = Recorder()
    with hooks.observing(rec):
        F.layer_norm(lin(ember.randn(4, 3)), (2,))
        F.silu(ember.randn(2)).relu_()
    names = [(e[1], e[2]) for e in rec.events if e[0] == "enter"]
    assert ("linear", 0) in names and ("layer_norm", 0) in names and ("relu_", 0) in names
    assert ("relu", 1) in names   # relu_ computes relu out of place, then writes it into self
    stack = []
    for i, e in enumerate(rec.events):
        if e[0] == "enter":
            stack.append((e[1], i + 1))   # the token Recorder.enter returned
        else:
            name, token = stack.pop()
            assert (e[1], e[3]) == (name, token)   # each exit gets its own enter's token, innermost first
    assert not stack


def test_arguments_results_and_errors_are_reported():
    rec = Recorder()
    x = ember.ones(2, 3)
    with hooks.observing(rec):
        y = ember.reshape(x, (3, 2))
        with pytest.raises(RuntimeError):
            ember.reshape(x, (4, 2))
    calls = [e for e in rec.events if e[0] == "exit"]
    assert calls[0][4] is y and calls[0][5] is None
    assert calls[1][4] is None and isinstance(calls[1][5], RuntimeError)
    assert hooks.current_depth() == 0


def test_the_call_replays_the_op_without_reporting_it():
    seen = []

    class Keep(hooks.OpObserver):
        def enter(self, call):
            seen.append(call)

    x, w = ember.randn(1, 1, 4, 4), ember.randn(2, 1, 3, 3)
    with hooks.observing(Keep()):
        F.conv2d(x, w, padding=1)
    call = seen[0]
    assert call.name == "conv2d" and call.kwargs == {"padding": 1} and call.fn is hooks.unwrap(F.conv2d)
    n = len(seen)
    out = call.fn(*call.args, **call.kwargs)
    assert out.shape == (1, 2, 4, 4) and len(seen) == n   # observers have left: nothing more reported


def test_sequential_conv_bn_folding_is_off_while_observing():
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU()).eval()
    x = ember.randn(1, 1, 5, 5)
    rec = Recorder()
    with ember.no_grad(), hooks.observing(rec):
        y = m(x)
    assert rec.top() == ["conv2d", "batch_norm", "relu"]
    with ember.no_grad():
        ember.testing.assert_close(y, m(x))


def test_two_observers_and_removal():
    a, b = Recorder(), Recorder()
    hooks.add_observer(a)
    try:
        with hooks.observing(b):
            ember.ones(1).exp()
        ember.ones(1).log()
    finally:
        hooks.remove_observer(a)
    assert a.top() == ["ones", "exp", "ones", "log"] and b.top() == ["ones", "exp"]
    with pytest.raises(ValueError):
        hooks.remove_observer(a)
