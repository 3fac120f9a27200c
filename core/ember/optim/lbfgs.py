"""L-BFGS (PyTorch's ``torch.optim.LBFGS``), with the optional strong-Wolfe line search.

All parameters are handled as one flat vector (complex parameters as ``(real, imag)`` pairs); the
vectors live on the parameters' device as raw arrays while a step runs and are stored in ``state`` as
tensors. The scalars of the algorithm (dot products, step lengths) stay array scalars of the
parameters' dtype, so a float32 model follows float32 arithmetic as PyTorch's does.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _bump_version, _make
from ..autograd.grad_mode import enable_grad
from ..ops._dispatch import xp_of
from .optimizer import Optimizer, _check_lr, _scalar

__all__ = ["LBFGS"]


# ---- the strong-Wolfe line search ------------------------------------------------------

def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through ``(x1, f1)``, ``(x2, f2)`` with slopes ``g1``, ``g2``,
    clamped to ``bounds`` (default: the interval between the points); the midpoint of the bounds
    when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate brackets give inf/nan, as in PyTorch
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        disc = d1 * d1 - g1 * g2
        if disc < 0:
            return (lo + hi) / 2.0
        d2 = disc ** 0.5
        # Written from the point farther along, so that the formula is the same for either order.
        if x1 <= x2:
            x_min = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x_min = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x_min, lo), hi)


def _bracket_phase(obj_func, x, t, d, f, g, gtd, c1, c2, max_ls):
    """Grow the step until an interval containing a strong-Wolfe point is found (or a point itself).

    Returns ``(points, done, ls_iter, evals)``; each point is ``(t, f, g, gtd)``.
    """
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)
    prev = (0, f, g, gtd)
    ls_iter = 0
    while ls_iter < max_ls:
        new = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            return [prev, new], False, ls_iter, evals          # sufficient decrease lost: bracketed
        if abs(gtd_new) <= -c2 * gtd:
            return [new], True, ls_iter, evals                  # strong Wolfe holds at t
        if gtd_new >= 0:
            return [prev, new], False, ls_iter, evals          # slope turned: bracketed
        # Extrapolate: somewhere in [t + 1% of the last move, 10 t].
        t_next = _cubic_interpolate(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                                    bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = new
        t = t_next
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    # Out of evaluations: keep the better of the start and the last trial.
    return [(0, f, g, None), (t, f_new, g_new, None)], False, ls_iter, evals


def _safeguarded_trial(points, insuf_progress):
    """The next trial step inside the bracket: the cubic's minimiser, moved 10% of the bracket away
    from an end it comes too close to (when the previous trial also made little progress, or it
    lies on or outside an end). Returns ``(t, insuf_progress)``."""
    (ta, fa, _, ga), (tb, fb, _, gb) = points
    t = _cubic_interpolate(ta, fa, ga, tb, fb, gb)
    hi, lo = max(ta, tb), min(ta, tb)
    eps = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= eps:
        return t, False
    if insuf_progress or t >= hi or t <= lo:
        t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
        return t, False
    return t, True


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step length ``t`` along ``d`` satisfying the strong Wolfe conditions (bracketing, then zoom
    by safeguarded cubic interpolation). Returns ``(f_new, g_new, t, func_evals)``."""
    d_norm = abs(d).max()
    points, done, ls_iter, evals = _bracket_phase(obj_func, x, t, d, f, g.copy(), gtd, c1, c2, max_ls)
    low, high = (0, 1) if points[0][1] <= points[-1][1] else (1, 0)
    insuf_progress = False
    while not done and ls_iter < max_ls:
        if abs(points[1][0] - points[0][0]) * d_norm < tolerance_change:
            break  # the bracket has shrunk to nothing
        t, insuf_progress = _safeguarded_trial(points, insuf_progress)
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        new = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or f_new >= points[low][1]:
            points[high] = new  # no sufficient decrease, or no better than the low end: shrink from above
            low, high = (0, 1) if points[0][1] <= points[1][1] else (1, 0)
            continue
        if abs(gtd_new) <= -c2 * gtd:
            done = True
        elif gtd_new * (points[high][0] - points[low][0]) >= 0:
            points[high] = points[low]  # the minimum lies on the other side of the new point
        points[low] = new
    t, f_new, g_new, _ = points[low]
    return f_new, g_new, t, evals


# ---- the two-loop recursion --------------------------------------------------------------

def _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, al):
    """``-H g`` for the L-BFGS inverse-Hessian approximation ``H`` built from the stored pairs
    (``old_dirs``: gradient changes y, ``old_stps``: steps s); ``al`` receives the first loop's
    coefficients."""
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = q * H_diag
    for i in range(len(old_dirs)):
        be_i = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return r


# ---- state (de)serialisation ---------------------------------------------------------------

def _unwrap(value):
    """A state entry as the step uses it: tensors as arrays (0-d ones as array scalars), lists
    element-wise."""
    if isinstance(value, Tensor):
        return value._data[()] if value._data.ndim == 0 else value._data
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _wrap(value, xp, device):
    """The inverse of :func:`_unwrap`: arrays and array scalars become tensors; Python numbers,
    ``None`` and lists (element-wise) stay as they are."""
    if isinstance(value, list):
        return [_wrap(v, xp, device) for v in value]
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, np.generic)):
        return value  # (NumPy's float64 scalars are Python floats too: those are wrapped)
    return _make(xp.asarray(value), device)


class LBFGS(Optimizer):
    """L-BFGS (PyTorch's ``torch.optim.LBFGS``): a limited-memory quasi-Newton method.

    Each ``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls, default
    ``max_iter * 5 // 4``): the direction comes from the two-loop recursion over the last
    ``history_size`` (step, gradient-change) pairs; the step length is ``lr`` (``min(1, 1/|g|_1) * lr``
    on the very first iteration), or, with ``line_search_fn="strong_wolfe"``, one satisfying the strong
    Wolfe conditions. It stops early when the gradient's largest entry is ``<= tolerance_grad`` or
    the loss or the parameters change by less than ``tolerance_change``.

    Only one parameter group is supported. The state (``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``, ``al``) is held
    on the first parameter, as in PyTorch, except that ``t`` is always a Python number (PyTorch keeps a
    0-d tensor when the length was computed rather than ``lr`` itself).

    >>> model, x, y = ember.nn.Linear(2, 1), ember.randn(8, 2), ember.randn(8, 1)
    >>> opt = ember.optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ember.nn.functional.mse_loss(model(x), y)
    ...     loss.backward()
    ...     return loss
    >>> loss = opt.step(closure)          # the loss before the step
    """

    _scalar_state_keys = ()  # the counters are plain ints, as in PyTorch

    def __init__(self, params, lr=1, max_iter: int = 20, max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100, line_search_fn: str | None = None):
        _check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self) -> list:
        # Read from the group each time: load_state_dict and unpickling rebuild param_groups.
        return self.param_groups[0]["params"]

    # ---- the flat view of the parameters -----------------------------------------------
    @staticmethod
    def _real_flat(xp, a):
        """``a`` as a 1-D real array (complex entries as (real, imag) pairs)."""
        a = xp.ravel(a)
        if a.dtype.kind == "c":
            return xp.ascontiguousarray(a).view(a.real.dtype)
        return a

    def _gather_flat_grad(self):
        xp = xp_of(self._params[0])
        views = []
        for p in self._params:
            g = p._data if p.grad is None else p.grad._data
            flat = self._real_flat(xp, g)
            views.append(xp.zeros_like(flat) if p.grad is None else flat)
        return xp.concatenate(views)

    def _add_grad(self, step_size, update) -> None:
        """``params += step_size * update`` (``update`` flat, in the parameters' order)."""
        offset = 0
        for p in self._params:
            pd = p._data
            n = pd.size * (2 if pd.dtype.kind == "c" else 1)
            u = update[offset:offset + n]
            if pd.dtype.kind == "c":
                u = u.view(pd.dtype)
            pd += step_size * u.reshape(pd.shape)
            offset += n
            _bump_version(p)

    def _clone_param(self) -> list:
        return [p._data.copy() for p in self._params]

    def _set_param(self, params_data) -> None:
        for p, data in zip(self._params, params_data):
            p._data[...] = data
            _bump_version(p)

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at ``x + t d``; the parameters are put back to ``x`` afterwards."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ---- the step ------------------------------------------------------------------------
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` (required) zeroes the gradients,
        re-evaluates the model, calls ``backward`` and returns the loss. Returns the loss at the start."""
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")
        group = self.param_groups[0]
        lr = _scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        first = self._params[0]
        xp, device = xp_of(first), first._device

        state = self.state[first]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:
            return orig_loss  # already optimal

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss = (
            _unwrap(state.get(k)) for k in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                                             "prev_loss"))
        opt_cond = False
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # -- the search direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep only pairs with positive curvature (H stays positive definite)
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = _unwrap(state["al"])
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, al)
                state["al"] = _wrap(al, xp, device)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # -- the step length
            t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break  # not a descent direction (any more)

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # The last iteration's loss is not re-evaluated (the caller's next step will).
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # -- stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break  # no progress

        state["d"] = _wrap(d, xp, device)
        state["t"] = t if type(t) in (int, float) else float(t)  # lr as given, or the computed length
        state["old_dirs"] = _wrap(old_dirs, xp, device)
        state["old_stps"] = _wrap(old_stps, xp, device)
        state["ro"] = _wrap(ro, xp, device)
        state["H_diag"] = _wrap(H_diag, xp, device)
        state["prev_flat_grad"] = _wrap(prev_flat_grad, xp, device)
        state["prev_loss"] = prev_loss
        return orig_loss
