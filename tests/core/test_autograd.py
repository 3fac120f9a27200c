"""The autograd engine: backward/grad, custom Functions, hooks, grad modes, errors, double backward."""
import threading

import numpy as np
import pytest

import ember
from ember.autograd import Function, gradcheck, gradgradcheck
from ember.testing import assert_close


def f64(*values, rg=True):
    return ember.tensor(values, dtype=ember.float64, requires_grad=rg)


def test_backward_accumulates_into_leaves():
    x = f64(1.0, 2.0)
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, 4.0])
    (x * 3).sum().backward()
    assert_close(x.grad, [5.0, 7.0])  # accumulated across calls


def test_backward_needs_scalar_or_gradient():
    x = f64(1.0, 2.0)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(ember.tensor([1.0, 0.5], dtype=ember.float64))
    assert_close(x.grad, [2.0, 1.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(3, dtype=ember.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ember.ones(2).sum().backward()


def test_same_gradient_reaching_two_leaves_is_not_shared():
    a, b = f64(1.0), f64(2.0)
    (a + b).sum().backward()
    a.grad.mul_(10)  # e.g. gradient clipping scales in place
    assert b.grad.tolist() == [1.0]


def test_second_backward_without_retain_graph_raises():
    x = f64(1.0, 2.0)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    z = (x.exp() * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert_close(x.grad, 2 * np.exp([1.0, 2.0]) * 3)


def test_inplace_change_of_saved_tensor_is_detected():
    x = f64(1.0, 2.0)
    y = x * 1
    z = (y * y).sum()  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    e = x.exp()        # saves its output
    s = e.sum()
    e.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        s.backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = f64(1.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0] and x._version == 1


def test_inplace_on_nonleaf_is_differentiable():
    x = f64(1.0, 2.0)
    w = f64(3.0, 4.0)

    def fn(x, w):
        y = x * 1
        y.mul_(w)
        y += x
        return y

    assert gradcheck(fn, (x, w))
    y = fn(x, w)
    assert y.grad_fn.name() == "AddBackward"


def test_autograd_grad_returns_without_accumulating():
    x = f64(1.0, 2.0)
    y = (x ** 3).sum()
    (g,) = ember.autograd.grad(y, x)
    assert_close(g, [3.0, 12.0])
    assert x.grad is None and not g.requires_grad


def test_grad_with_respect_to_intermediate_and_unused():
    x = f64(1.0, 2.0)
    h = x * 2
    y = (h * h).sum()
    gh, gx = ember.autograd.grad(y, (h, x), retain_graph=True)
    assert_close(gh, [4.0, 8.0])
    assert_close(gx, [8.0, 16.0])
    u = f64(5.0)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad(y, [x, u], retain_graph=True)
    gx, gu = ember.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
    assert gu is None
    gx, gu = ember.autograd.grad(y, [x, u], materialize_grads=True)
    assert gu.tolist() == [0.0]


def test_double_backward_hessian_vector_product():
    x = f64(0.5, -1.0, 2.0)
    v = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64)
    y = (x.sin() * x * x).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    (hv,) = ember.autograd.grad((g * v).sum(), x)
    xn = np.array([0.5, -1.0, 2.0])
    h_diag = -np.sin(xn) * xn ** 2 + 4 * xn * np.cos(xn) + 2 * np.sin(xn)
    assert_close(hv, h_diag * np.array([1.0, 2.0, 3.0]))


def test_gradient_penalty_with_create_graph_backward():
    x = f64(1.0, 2.0)
    w = f64(0.5, 0.25)
    y = (x * w).tanh().sum()
    (gx,) = ember.autograd.grad(y, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    assert w.grad is not None and x.grad is not None
    # Check against finite differences of the penalty as a function of w.
    assert gradcheck(lambda w_: (ember.autograd.grad((x * w_).tanh().sum(), x, create_graph=True)[0] ** 2).sum(),
                     (w,))


def test_backward_create_graph_keeps_graph_in_grad():
    x = f64(3.0)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = ember.autograd.grad(x.grad.sum(), x)
    assert_close(g2, [18.0])


def test_gradcheck_detects_a_wrong_gradient():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(WrongSquare.apply, (f64(1.0, 2.0),))
    assert not gradcheck(WrongSquare.apply, (f64(1.0, 2.0),), raise_exception=False)


def test_custom_function_api():
    class MulAdd(Function):
        @staticmethod
        def forward(ctx, x, y, scale):
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            assert ctx.needs_input_grad[0] and not ctx.needs_input_grad[2]
            ctx.y_needed = ctx.needs_input_grad[1]
            assert not ember.is_grad_enabled()  # forward runs without recording
            return x * y * scale + y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y * ctx.scale, g * (x * ctx.scale + 1), None

    x = f64(1.0, 2.0)
    y = f64(3.0, 4.0, rg=False)
    out = MulAdd.apply(x, y, 2.0)
    assert out.grad_fn.y_needed is False
    assert out.grad_fn.name() == "MulAddBackward"
    assert_close(out, [9.0, 20.0])
    assert gradcheck(lambda a: MulAdd.apply(a, y, 2.0), (x,))
    y.requires_grad_()
    assert gradgradcheck(lambda a, b: MulAdd.apply(a, b, 2.0), (x, y))


def test_custom_function_multiple_outputs_and_non_differentiable():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            values = x * 2
            idx = ember.arange(x.shape[0])
            ctx.mark_non_differentiable(idx)
            return values, idx

        @staticmethod
        def backward(ctx, gv, gi):
            assert gi is None or float(gi.abs().sum()) == 0
            return gv * 2

    x = f64(1.0, 2.0)
    v, i = SortLike.apply(x)
    assert v.requires_grad and not i.requires_grad
    v.sum().backward()
    assert_close(x.grad, [2.0, 2.0])


def test_custom_function_wrong_gradient_count():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients \\(expected 2, got 1\\)"):
        Bad.apply(f64(1.0), f64(2.0)).sum().backward()


def test_once_differentiable_and_materialize_grads():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @ember.autograd.once_differentiable
        def backward(ctx, g):
            assert not ember.is_grad_enabled()
            return g * 2

    x = f64(1.0)
    Double.apply(x).sum().backward(create_graph=True)
    assert_close(x.grad, [2.0])


def test_tensor_hooks_leaf_and_nonleaf():
    x = f64(1.0, 2.0)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.register_hook(lambda g: g * 10)  # replaces y's gradient
    y.sum().backward()
    assert seen == [[30.0, 30.0]]
    assert_close(x.grad, [30.0, 30.0])
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(1).register_hook(lambda g: g)


def test_retain_grad():
    x = f64(1.0, 2.0)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    z = y * y
    z.sum().backward()
    assert_close(y.grad, [4.0, 8.0])
    assert z.grad is None


def test_no_grad_enable_grad_set_grad_enabled():
    x = f64(1.0)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def g(t):
        return t * 2

    assert ember.is_grad_enabled() and not g(x).requires_grad
    with ember.inference_mode():
        assert not (x * 2).requires_grad and ember.is_inference_mode_enabled()
    assert not ember.is_inference_mode_enabled()


def test_grad_mode_is_thread_local():
    results = []

    def worker():
        results.append(ember.is_grad_enabled())

    with ember.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert results == [True]


def test_deep_graph_does_not_hit_recursion_limit():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad.tolist() == [1.0]


def test_next_functions_and_grad_fn_names():
    x = f64(1.0)
    y = x * 2 + 1
    assert y.grad_fn.name() == "AddBackward"
    (mul, _), (none, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward" and none is None
    assert mul.next_functions[0][0].name() == "AccumulateGrad"
    assert mul.next_functions[0][0].variable is x


def test_gradients_are_cast_and_unbroadcast_to_inputs():
    a = ember.ones(3, 1, dtype=ember.float32, requires_grad=True)
    b = ember.ones(4, dtype=ember.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.dtype is ember.float32
    assert b.grad.shape == (4,) and b.grad.dtype is ember.float64
    assert a.grad.tolist() == [[4.0]] * 3 and b.grad.tolist() == [3.0] * 4


def test_backward_inputs_argument_limits_accumulation():
    x, y = f64(1.0), f64(2.0)
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and y.grad is None


def test_functional_jacobian_hessian_vjp_hvp():
    from ember.autograd import functional as F
    x = ember.tensor([1.0, 2.0], dtype=ember.float64)
    jac = F.jacobian(lambda t: t ** 2, x)
    assert_close(jac, np.diag([2.0, 4.0]))
    hess = F.hessian(lambda t: (t ** 3).sum(), x)
    assert_close(hess, np.diag([6.0, 12.0]))
    out, v = F.vjp(lambda t: t * 3, x, ember.ones(2, dtype=ember.float64))
    assert_close(v, [3.0, 3.0])
    out, hv = F.hvp(lambda t: (t ** 3).sum(), x, ember.ones(2, dtype=ember.float64))
    assert_close(hv, [6.0, 12.0])


def test_inplace_through_views_rebases_the_base():
    x = f64(1.0, 2.0, 3.0, 4.0, 5.0, 6.0).reshape(3, 2).detach().requires_grad_()
    w = f64(2.0, 3.0)

    def fn(x, w):
        y = x * 2
        y[0] += 1                 # Python: tmp = y[0]; tmp += 1; y[0] = tmp
        y[1] *= w
        y[:, 1].mul_(w[0])        # strided (non-contiguous) view
        y.narrow(0, 2, 1).add_(w)  # view through another op
        return y

    y = fn(x, w)
    xn, wn = x.detach().numpy(), w.detach().numpy()
    ref = xn * 2
    ref[0] += 1
    ref[1] *= wn
    ref[:, 1] *= wn[0]
    ref[2] += wn
    assert_close(y, ref)
    assert gradcheck(fn, (x, w))
    assert gradgradcheck(fn, (x, w))


def test_inplace_on_view_of_leaf_raises():
    x = f64(1.0, 2.0)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place"):
        x[0].mul_(2)
    with ember.no_grad():
        x[0].mul_(2)
    assert x.tolist() == [2.0, 2.0]
