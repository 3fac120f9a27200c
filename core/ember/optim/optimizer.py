"""``Optimizer``: the base class of Ember's optimizers (PyTorch's ``torch.optim.Optimizer`` API).

Parameters live in ``param_groups`` (dicts of parameters plus their hyper-parameters), per-parameter
state in ``state`` (a defaultdict keyed by the parameter tensor). ``state_dict()`` replaces parameters
by their position, so a saved state maps onto a freshly built optimizer over the same parameters.

The built-in optimizers update parameters directly on the device arrays (``p._data``) with in-place
array-module calls: no autograd graph is recorded and no per-element Python runs. The helpers at the
bottom of this module are the shared building blocks of those updates.
"""
from __future__ import annotations

import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from types import SimpleNamespace

import numpy as np

from .._tensor import Tensor, _bump_version, _make
from ..autograd.grad_mode import enable_grad
from ..ops._dispatch import xp_of

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a hyper-parameter that every param group must specify."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self.id = next(self._ids)
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(store: OrderedDict, hook, prepend: bool = False) -> RemovableHandle:
    handle = RemovableHandle(store)
    store[handle.id] = hook
    if prepend:
        store.move_to_end(handle.id, last=False)
    return handle


_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step`` (it may return new args/kwargs)."""
    return _add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    return _add_hook(_global_post_hooks, hook)


def _hooked_step(func):
    """Wrap a subclass's ``step`` so that step pre/post hooks run around it (once, even when a
    subclass's ``step`` calls ``super().step()``)."""

    @functools.wraps(func)
    def step(*args, **kwargs):
        self = args[0]
        if self.__dict__.get("_in_step"):
            return func(*args, **kwargs)
        self._opt_called = True  # lets an lr scheduler warn when it is stepped before the optimizer
        pre = self._optimizer_step_pre_hooks
        post = self._optimizer_step_post_hooks
        if not (pre or post or _global_pre_hooks or _global_post_hooks):
            self._in_step = True
            try:
                return func(*args, **kwargs)
            finally:
                self._in_step = False
        for hook in itertools.chain(tuple(_global_pre_hooks.values()), tuple(pre.values())):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{func} must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
                args, kwargs = result
        self._in_step = True
        try:
            out = func(*args, **kwargs)
        finally:
            self._in_step = False
        for hook in itertools.chain(tuple(post.values()), tuple(_global_post_hooks.values())):
            hook(self, args, kwargs)
        return out

    step._hooked = True
    return step


def _typename(obj) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter groups:
            ``{"params": [...], "lr": 0.1, ...}``; hyper-parameters a group omits come from ``defaults``).
        defaults: the default hyper-parameters.

    Subclasses implement ``step(closure=None)``; step pre/post hooks run around it automatically.
    """

    # Per-parameter state entries holding plain numbers as 0-d tensors (old checkpoints stored floats).
    _scalar_state_keys: tuple = ("step",)
    # State entries with the parameter's shape (checked when a state_dict is loaded).
    _param_shaped_state_keys: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _init_hooks(self) -> None:
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._in_step = False

    # ---- pickling / copying --------------------------------------------------------
    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_hooks()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            # Checkpoints from older versions may lack newer hyper-parameters.
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    for key in self._scalar_state_keys:
                        if key in st and not isinstance(st[key], Tensor):
                            st[key] = _scalar_tensor(float(st[key]))

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ---- hooks -------------------------------------------------------------------
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` before ``step``; it may return ``(new_args, new_kwargs)``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` before ``state_dict()`` builds the dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` after ``state_dict()``; it may return a replacement dict."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` before loading; it may return a replacement dict."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` after ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state_dict ----------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state: ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are replaced by their position across all groups (PyTorch's layout); the state
        tensors are not copied.
        """
        for hook in tuple(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        index: dict[int, int] = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in tuple(self._optimizer_state_dict_post_hooks.values()):
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state produced by :meth:`state_dict` (of an optimizer over parameters of the same shapes,
        in the same order). State tensors are copied onto each parameter's device, and floating-point
        ones cast to its dtype; ``step`` counters keep their dtype and device."""
        state_dict = dict(state_dict)
        for hook in tuple(self._optimizer_load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(s['params'])} parameters in the state "
                                 f"dict and {len(g['params'])} in the optimizer")
        id_map = dict(zip(itertools.chain.from_iterable(s["params"] for s in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                self._check_state_shapes(k, param, v)
                state[param] = _cast_state(param, v)
            else:
                state[k] = v
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in tuple(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)

    def _check_state_shapes(self, index, param: Tensor, value) -> None:
        if not isinstance(value, dict):
            return
        for key in self._param_shaped_state_keys:
            t = value.get(key)
            if isinstance(t, Tensor) and t.shape != param.shape:
                raise ValueError(f"loaded state dict has {key!r} of shape {tuple(t.shape)} for parameter {index}, "
                                 f"but that parameter has shape {tuple(param.shape)}")

    # ---- gradients and steps -------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or, in place, to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g._rg = False
                if getattr(g._data.flags, "writeable", True):  # CuPy arrays have no such flag
                    g._data.fill(0)
                else:  # a read-only (e.g. broadcast) array cannot be zeroed in place
                    g._data = xp_of(g).zeros(g._data.shape, g._data.dtype)
                _bump_version(g)

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the model and returns the loss."""
        raise NotImplementedError

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _grads(self, group: dict, with_state: bool = True):
        """For each parameter of ``group`` that has a gradient: ``(param, its array, grad array, state, xp)``
        (``state`` is None unless ``with_state``: looking it up creates an entry).

        Each parameter's version counter is bumped after the caller's update (when the loop moves
        on), so autograd sees the in-place change exactly once per step.
        """
        state = self.state
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            yield p, p._data, g._data, state[p] if with_state else None, xp_of(p)
            _bump_version(p)

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group (a dict with ``"params"`` and optional hyper-parameters) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)


class _UpdateRule(Optimizer):
    """Base of the built-in optimizers whose step updates each parameter on its own (the shape of
    Chainer's ``UpdateRule`` and DeZero's ``update_one``).

    ``step`` reads each group's hyper-parameters once (:meth:`_hyper`), creates a parameter's state on
    its first step (:meth:`_init_state`) and updates it (:meth:`_update_one`) in place on the device
    arrays. Subclasses write only those two methods (and ``__init__``).
    """

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        init, update = self._init_state, self._update_one
        for group in self.param_groups:
            h = self._hyper(group)
            for p, pd, gd, state, xp in self._grads(group):
                if not state:
                    init(state, p, group)
                update(p, pd, gd, state, xp, h)
        return loss

    @staticmethod
    def _hyper(group: dict) -> SimpleNamespace:
        """The group's hyper-parameters as attributes, read once per step (``lr`` and ``betas`` as numbers:
        they may be given as one-element tensors)."""
        h = SimpleNamespace(**group)
        h.lr = _scalar(group["lr"])
        h.decoupled = group.get("decoupled_weight_decay", False)
        if "betas" in group:
            h.beta1, h.beta2 = (_scalar(b) for b in group["betas"])
        return h

    def _init_state(self, state: dict, p: Tensor, group: dict) -> None:
        """Fill the empty ``state`` of parameter ``p`` before its first update."""
        raise NotImplementedError

    def _update_one(self, p: Tensor, pd, gd, state: dict, xp, h: SimpleNamespace) -> None:
        """Update parameter ``p`` (its array ``pd``, gradient array ``gd``) and its ``state`` in place."""
        raise NotImplementedError


# ---- loading state ---------------------------------------------------------------------

def _cast_state(param: Tensor, value, key=None):
    """A copy of saved state ``value`` for ``param``: tensors moved to its device (floating-point ones cast
    to its dtype), except the ``step`` counter, which keeps its dtype and device; containers recursed."""
    if isinstance(value, Tensor):
        t = value.detach()
        if key != "step":
            floating = param._data.dtype.kind == "f" and t._data.dtype.kind == "f"
            t = t.to(device=param._device, dtype=param.dtype) if floating else t.to(device=param._device)
        if t._data is value._data:  # never alias the loaded dict: its owner may keep stepping it
            t = _make(t._data.copy(), t._device)
        return t
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


# ---- building blocks of the built-in optimizers -----------------------------------------

def _scalar(x):
    """A Python number from a hyper-parameter that may be given as a one-element tensor."""
    return x.item() if isinstance(x, Tensor) else x


def _scalar_tensor(value: float) -> Tensor:
    """A 0-d float32 CPU tensor (PyTorch keeps ``step`` counters this way)."""
    return _make(np.array(value, dtype=np.float32))


def _zeros_like(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor shaped like parameter ``p`` (same device and dtype), filled with ``fill``."""
    xp = xp_of(p)
    arr = xp.zeros_like(p._data) if fill == 0 else xp.full_like(p._data, fill)
    return _make(arr, p._device)


def _increment(counter: Tensor) -> float:
    """Add one to a 0-d step tensor in place; the new count as a Python float."""
    d = counter._data
    d += 1
    return float(d)


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= _scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_nonneg(value, what: str) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def _check_betas(betas) -> None:
    for i, b in enumerate(betas):
        if not 0.0 <= _scalar(b) < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


_LABELS = {"eps": "epsilon value"}


def _check_hyper(lr, **values) -> None:
    """PyTorch's argument checks, in the order given: ``lr`` (a number or a one-element tensor) and each
    other value at least 0, ``betas`` in [0, 1); the message names the argument as PyTorch does."""
    _check_lr(lr)
    for name, value in values.items():
        if name == "betas":
            _check_betas(value)
        else:
            _check_nonneg(value, _LABELS.get(name, f"{name} value"))


def _check_flags(differentiable: bool, foreach, fused) -> None:
    """``foreach``/``fused`` are accepted as hints (every update here is already vectorised);
    ``differentiable=True`` (autograd through the update itself) is not supported."""
    if differentiable:
        raise NotImplementedError("differentiable=True is not supported: Ember's optimizers update parameters "
                                  "in place outside autograd")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _effective_grad(xp, p, g, weight_decay: float, maximize: bool):
    """The gradient the update uses: negated for ``maximize``, plus the L2 term ``weight_decay * p``.

    Returns ``(array, owned)``; ``owned`` says the array is a fresh temporary the caller may
    overwrite (the parameter's ``.grad`` itself is never modified).
    """
    if weight_decay != 0:
        d = xp.multiply(p, weight_decay)
        if maximize:
            d -= g
        else:
            d += g
        return d, True
    if maximize:
        return xp.negative(g), True
    return g, False


def _grad_for(xp, pd, gd, h) -> "object":
    """The gradient array an update uses (see :func:`_effective_grad`). With decoupled weight decay
    (AdamW and friends: ``h.decoupled``) the parameter is first scaled in place by
    ``1 - lr * weight_decay`` and the gradient gets no L2 term."""
    wd = h.weight_decay
    if wd != 0 and h.decoupled:
        pd *= 1 - h.lr * wd
        wd = 0
    return _effective_grad(xp, pd, gd, wd, h.maximize)[0]


def _lerp_(xp, a, b, weight: float, tmp):
    """``a += weight * (b - a)`` in place (a moving average), using ``tmp`` as scratch."""
    xp.subtract(b, a, out=tmp)
    tmp *= weight
    a += tmp


def _ema_sq_(xp, a, g, decay: float, tmp):
    """``a = decay * a + (1 - decay) * g * g`` in place, using ``tmp`` as scratch."""
    a *= decay
    xp.multiply(g, 1 - decay, out=tmp)
    tmp *= g
    a += tmp


def _init_moments(state: dict, p: Tensor, group: dict) -> None:
    """The state of the Adam family: the step count and the two moment estimates."""
    state["step"] = _scalar_tensor(0.0)
    state["exp_avg"] = _zeros_like(p)
    state["exp_avg_sq"] = _zeros_like(p)


def _update_moments_(xp, state: dict, g, beta1: float, beta2: float, tmp):
    """Adam's moment estimates, in place: ``m += (1-b1) (g - m)``, ``v = b2 v + (1-b2) g g``; returns
    ``(m, v)`` (the state's arrays)."""
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    _lerp_(xp, m, g, 1 - beta1, tmp)
    _ema_sq_(xp, v, g, beta2, tmp)
    return m, v
