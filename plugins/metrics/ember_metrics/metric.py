"""``Metric``: the base class of every metric (torchmetrics' API on an ``ember.nn.Module``).

A metric keeps *states* (tensors or lists of tensors registered with :meth:`Metric.add_state`),
accumulates them in ``update()``, and turns them into a value in ``compute()``. Calling the metric
(``forward``) returns the value on the current batch alone and also accumulates it globally.

>>> class MySum(Metric):
...     full_state_update = False
...     def __init__(self, **kwargs):
...         super().__init__(**kwargs)
...         self.add_state("total", ember.tensor(0.0), dist_reduce_fx="sum")
...     def update(self, x):
...         self.total = self.total + x.sum()
...     def compute(self):
...         return self.total
"""
from __future__ import annotations

import functools
import inspect
import operator
import warnings
from contextlib import contextmanager
from copy import deepcopy
from typing import Any, Callable

import ember
from ember import Tensor
from ember.nn import Module

from .utilities.data import (apply_to_collection, dim_zero_cat, dim_zero_max, dim_zero_mean, dim_zero_min,
                             dim_zero_sum)
from .utilities.distributed import distributed_available as _default_distributed_available
from .utilities.distributed import gather_all_tensors

__all__ = ["Metric", "CompositionalMetric", "MetricsUserError"]

_REDUCTIONS = {"sum": dim_zero_sum, "mean": dim_zero_mean, "cat": dim_zero_cat, "min": dim_zero_min,
               "max": dim_zero_max}


class MetricsUserError(RuntimeError):
    """Wrong use of a metric's API (syncing twice, unsyncing without a sync, ...)."""


def _squeeze_if_scalar(value):
    return apply_to_collection(value, Tensor, lambda t: t.squeeze() if t.numel() == 1 and t.ndim else t)


def _wrap_update(fn):
    @functools.wraps(fn)
    def update(self, *args, **kwargs):
        if self.__dict__.get("_in_update"):  # a subclass calling super().update(): bookkeeping done once
            return fn(self, *args, **kwargs)
        _check_input_devices(self, args, kwargs)
        self._computed = None
        self._update_count += 1
        self._in_update = True
        try:
            with ember.set_grad_enabled(self._enable_grad):
                fn(self, *args, **kwargs)
        finally:
            self._in_update = False
        if self.compute_on_cpu:
            self._move_list_states_to_cpu()
    return update


def _check_input_devices(metric, args, kwargs) -> None:
    """Inputs must be where the states are (a 0-d CPU number would otherwise slip through silently)."""
    dev = metric.device
    for x in (*args, *kwargs.values()):
        if isinstance(x, Tensor) and x.device is not dev:
            raise RuntimeError(f"{type(metric).__name__}: expected inputs on {dev} (where the metric's states are), "
                               f"got a tensor on {x.device}; move the metric with .to({str(x.device)!r}) or the "
                               "inputs")


def _wrap_compute(fn):
    @functools.wraps(fn)
    def compute(self, *args, **kwargs):
        if self.__dict__.get("_in_compute"):
            return fn(self, *args, **kwargs)
        if self._update_count == 0 and self._warn_before_update:
            warnings.warn(f"The ``compute`` method of metric {type(self).__name__} was called before the ``update`` "
                          "method which may lead to errors, as metric states have not yet been updated.",
                          UserWarning, stacklevel=2)
        if self._computed is not None:
            return self._computed
        self._in_compute = True
        try:
            with self.sync_context(dist_sync_fn=self.dist_sync_fn, should_sync=self._to_sync,
                                   should_unsync=self._should_unsync):
                value = _squeeze_if_scalar(fn(self, *args, **kwargs))
        finally:
            self._in_compute = False
        if self.compute_with_cache:
            self._computed = value
        return value
    return compute


class Metric(Module):
    """Base class for metrics.

    Subclasses register states with :meth:`add_state` in ``__init__`` and implement ``update``
    (accumulate a batch into the states) and ``compute`` (states -> value). Both are wrapped
    automatically: ``update`` clears the cached value and counts updates; ``compute`` syncs states
    across processes when running distributed, and caches its result until the next ``update``.

    Keyword arguments (all optional): ``compute_on_cpu`` (move list states to the CPU after each
    update), ``dist_sync_on_step`` (sync in ``forward``), ``process_group``, ``dist_sync_fn``
    (gather function, see :meth:`sync`), ``distributed_available_fn``, ``sync_on_compute``
    (default True), ``compute_with_cache`` (default True).

    Class attributes: ``is_differentiable``, ``higher_is_better`` and ``full_state_update``
    (``False`` lets ``forward`` compute the batch value from a fresh state and merge it into the
    global one — one ``update`` per batch; ``True``/``None`` updates twice, which is always correct).

    Metric states are not cast by ``.half()``/``.float()``/``.double()`` (so a model's precision
    change does not degrade accumulated sums); use :meth:`set_dtype` or ``.to(dtype)``.
    """

    is_differentiable: bool | None = None
    higher_is_better: bool | None = None
    full_state_update: bool | None = None
    _warn_before_update = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "update" in cls.__dict__:
            cls.update = _wrap_update(cls.__dict__["update"])
        if "compute" in cls.__dict__:
            cls.compute = _wrap_compute(cls.__dict__["compute"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.compute_on_cpu = kwargs.pop("compute_on_cpu", False)
        self.dist_sync_on_step = kwargs.pop("dist_sync_on_step", False)
        self.process_group = kwargs.pop("process_group", None)
        self.dist_sync_fn = kwargs.pop("dist_sync_fn", None)
        self.distributed_available_fn = kwargs.pop("distributed_available_fn", None)
        self.sync_on_compute = kwargs.pop("sync_on_compute", True)
        self.compute_with_cache = kwargs.pop("compute_with_cache", True)
        if kwargs:
            raise ValueError(f"Unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        for name in ("compute_on_cpu", "dist_sync_on_step", "sync_on_compute", "compute_with_cache"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Expected keyword argument `{name}` to be a `bool` but got {getattr(self, name)}")
        if self.dist_sync_fn is not None and not callable(self.dist_sync_fn):
            raise ValueError(f"Expected keyword argument `dist_sync_fn` to be a callable function but got "
                             f"{self.dist_sync_fn}")
        self._device = ember.device("cpu")
        self._defaults: dict[str, Tensor | list] = {}
        self._persistent: dict[str, bool] = {}
        self._reductions: dict[str, Callable | None] = {}
        self._update_count = 0
        self._computed = None
        self._forward_cache = None
        self._to_sync = self.sync_on_compute
        self._should_unsync = True
        self._enable_grad = False
        self._is_synced = False
        self._cache: dict | None = None

    # ---- states ----------------------------------------------------------------------------
    def add_state(self, name: str, default: Tensor | list, dist_reduce_fx: str | Callable | None = None,
                  persistent: bool = False) -> None:
        """Register a state: a tensor, or an empty list that ``update`` appends tensors to.

        ``dist_reduce_fx`` says how copies of the state combine (across processes, and batch into
        global state in ``forward``): ``"sum"``, ``"mean"``, ``"min"``, ``"max"``, ``"cat"`` (lists),
        a callable applied to the stacked copies, or ``None`` (stacked; subclasses that keep jointly
        merged statistics override :meth:`_merge_states`). ``persistent`` states go in ``state_dict``.
        """
        if not isinstance(default, (Tensor, list)) or (isinstance(default, list) and default):
            raise ValueError("state variable must be a tensor or any empty list (where you can append tensors)")
        if isinstance(dist_reduce_fx, str):
            if dist_reduce_fx not in _REDUCTIONS:
                raise ValueError("`dist_reduce_fx` must be callable or one of ['mean', 'sum', 'cat', 'min', 'max', "
                                 f"None], got {dist_reduce_fx!r}")
            dist_reduce_fx = _REDUCTIONS[dist_reduce_fx]
        elif dist_reduce_fx is not None and not callable(dist_reduce_fx):
            raise ValueError("`dist_reduce_fx` must be callable or one of ['mean', 'sum', 'cat', 'min', 'max', None]")
        if isinstance(default, Tensor):
            default = default.detach().to(self._device)
            setattr(self, name, default.clone())
        else:
            setattr(self, name, [])
        self._defaults[name] = default
        self._persistent[name] = persistent
        self._reductions[name] = dist_reduce_fx

    @property
    def metric_state(self) -> dict[str, Tensor | list]:
        """The current value of every state."""
        return {name: getattr(self, name) for name in self._defaults}

    @property
    def device(self) -> ember.device:
        """The device the states live on."""
        return self._device

    @property
    def update_count(self) -> int:
        """How many times ``update`` (or ``forward``) ran since the last reset."""
        return self._update_count

    @property
    def update_called(self) -> bool:
        return self._update_count > 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate a batch into the states."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def compute(self) -> Any:
        """The metric value from the accumulated states."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute()")

    def reset(self) -> None:
        """Restore every state to its default and forget the cached value."""
        self._update_count = 0
        self._forward_cache = None
        self._computed = None
        for name, default in self._defaults.items():
            setattr(self, name, default.clone() if isinstance(default, Tensor) else [])
        self._cache = None
        self._is_synced = False

    def clone(self) -> "Metric":
        """An independent deep copy."""
        return deepcopy(self)

    def persistent(self, mode: bool = False) -> None:
        """Make every state persistent (saved in ``state_dict``) or not."""
        for name in self._persistent:
            self._persistent[name] = mode

    def _copy_states(self) -> dict:
        return {name: list(v) if isinstance(v, list) else v for name, v in self.metric_state.items()}

    def _set_states(self, states: dict) -> None:
        for name, value in states.items():
            setattr(self, name, value)

    def _move_list_states_to_cpu(self) -> None:
        for name, v in self.metric_state.items():
            if isinstance(v, list):
                setattr(self, name, [t.to("cpu") for t in v])

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Accumulate the batch into the global state and return the metric on this batch only."""
        if self._is_synced:
            raise MetricsUserError("The Metric shouldn't be synced when performing ``forward``. "
                                   "HINT: Did you forget to call ``unsync`` ?.")
        if self.full_state_update or self.full_state_update is None or self.dist_sync_on_step:
            self._forward_cache = self._forward_full_state_update(*args, **kwargs)
        else:
            self._forward_cache = self._forward_reduce_state_update(*args, **kwargs)
        return self._forward_cache

    @contextmanager
    def _on_batch(self, keep: bool = False):
        """Run the body on a fresh state in batch mode (the value of one batch, computed on the device),
        yielding the global states and update count saved on entry.

        On exit the metric is back in global mode; the global states are put back, unless ``keep`` and
        the body succeeded (the caller then sets the merged states itself).
        """
        global_states, count = self._copy_states(), self._update_count
        self._to_sync = self.dist_sync_on_step
        self._should_unsync = False
        self._enable_grad = ember.is_grad_enabled()  # the batch value is differentiable unless under no_grad
        on_cpu, self.compute_on_cpu = self.compute_on_cpu, False
        restore = True
        try:
            self.reset()
            yield global_states, count
            restore = not keep
        finally:
            if restore:
                self._set_states(global_states)
                self._update_count = count
            self.compute_on_cpu = on_cpu
            self._is_synced = False
            self._should_unsync = True
            self._to_sync = self.sync_on_compute
            self._computed = None
            self._enable_grad = False

    def _forward_full_state_update(self, *args, **kwargs):
        """Update the global state, then recompute on the batch alone (two updates, always valid)."""
        self.update(*args, **kwargs)
        with self._on_batch():
            self.update(*args, **kwargs)
            return self.compute()

    def _forward_reduce_state_update(self, *args, **kwargs):
        """Compute the batch value on a fresh state, then merge that state into the global one."""
        with self._on_batch(keep=True) as (global_states, count):
            self.update(*args, **kwargs)
            value = self.compute()
            with ember.no_grad():
                merged = self._merge_states(global_states, self._copy_states(), count, 1)
        self._set_states({k: _detach(v) for k, v in merged.items()})
        self._update_count = count + 1
        if self.compute_on_cpu:
            self._move_list_states_to_cpu()
        return value

    def _merge_states(self, a: dict, b: dict, count_a: int = 1, count_b: int = 1) -> dict:
        """Combine two state dicts (``count_*``: how many updates each holds, for "mean" states).

        The default combines each state by its ``dist_reduce_fx``; metrics whose statistics merge
        jointly (means and variances) override this.
        """
        out = {}
        for name, fx in self._reductions.items():
            x, y = a[name], b[name]
            if isinstance(x, list):  # list states always concatenate
                out[name] = x + y
            elif fx is dim_zero_sum:
                out[name] = x + y
            elif fx is dim_zero_mean:
                total = max(count_a + count_b, 1)
                out[name] = (x * count_a + y * count_b) / total
            elif fx is dim_zero_max:
                out[name] = ember.maximum(x, y)
            elif fx is dim_zero_min:
                out[name] = ember.minimum(x, y)
            elif fx is dim_zero_cat:
                out[name] = ember.cat([x.reshape(-1) if x.ndim == 0 else x, y.reshape(-1) if y.ndim == 0 else y])
            elif fx is None:
                out[name] = ember.stack([x, y])
            else:
                out[name] = fx(ember.stack([x, y]))
        return out

    def merge_state(self, incoming_state: "dict | Metric") -> None:
        """Merge another metric's states (or a dict of states) into this one."""
        if isinstance(incoming_state, Metric):
            if type(incoming_state) is not type(self):
                raise ValueError(f"Expected incoming state to be an instance of {type(self).__name__} but got "
                                 f"{type(incoming_state).__name__}")
            count_b = incoming_state._update_count
            incoming_state = incoming_state.metric_state
        elif isinstance(incoming_state, dict):
            count_b = 1
            missing = set(self._defaults) - set(incoming_state)
            if missing:
                raise ValueError(f"incoming state is missing {sorted(missing)}")
        else:
            raise ValueError(f"Expected incoming state to be a dict or an instance of Metric but got "
                             f"{type(incoming_state).__name__}")
        incoming = {name: ([v] if isinstance(self._defaults[name], list) and isinstance(v, Tensor) else v)
                    for name, v in incoming_state.items() if name in self._defaults}
        with ember.no_grad():
            merged = self._merge_states(self._copy_states(), incoming, self._update_count, count_b)
        self._set_states({k: _detach(v) for k, v in merged.items()})
        self._update_count += count_b
        self._computed = None

    # ---- distributed ------------------------------------------------------------------------
    def sync(self, dist_sync_fn: Callable | None = None, process_group: Any = None, should_sync: bool = True,
             distributed_available: Callable[[], bool] | None = None) -> None:
        """Replace the local states by the states reduced over all processes (undo with :meth:`unsync`).

        ``dist_sync_fn(tensor, group=None) -> list[Tensor]`` gathers one tensor from every process
        (default :func:`~ember_metrics.utilities.gather_all_tensors`). Syncing happens when
        ``distributed_available()`` says so; without that argument, when a gather function was
        given (here or as the ``dist_sync_fn`` constructor argument) or ``ember.distributed`` is
        initialised.
        """
        if self._is_synced and should_sync:
            raise MetricsUserError("The Metric has already been synced.")
        if distributed_available is None:
            distributed_available = self.distributed_available_fn
        if distributed_available is not None:
            is_distributed = distributed_available()
        else:
            is_distributed = dist_sync_fn is not None or _default_distributed_available()
        if not should_sync or not is_distributed:
            return
        self._cache = self._copy_states()
        self._sync_dist(dist_sync_fn or gather_all_tensors, process_group or self.process_group)
        self._is_synced = True

    def unsync(self, should_unsync: bool = True) -> None:
        """Restore the local (pre-sync) states."""
        if not should_unsync:
            return
        if not self._is_synced:
            raise MetricsUserError("The Metric has already been un-synced.")
        if self._cache is None:
            raise MetricsUserError("The internal cache should exist to unsync the Metric.")
        self._set_states(self._cache)
        self._is_synced = False
        self._cache = None

    @contextmanager
    def sync_context(self, dist_sync_fn: Callable | None = None, process_group: Any = None,
                     should_sync: bool = True, should_unsync: bool = True,
                     distributed_available: Callable[[], bool] | None = None):
        """Sync on entry and unsync on exit."""
        self.sync(dist_sync_fn=dist_sync_fn, process_group=process_group, should_sync=should_sync,
                  distributed_available=distributed_available)
        try:
            yield
        finally:
            self.unsync(should_unsync=self._is_synced and should_unsync)

    def _sync_dist(self, gather: Callable, process_group: Any = None) -> None:
        gathered = {}
        for name, value in self.metric_state.items():
            if isinstance(value, list):  # one collective per state: concatenate first (empty -> 0 rows)
                value = dim_zero_cat(value) if value else ember.zeros(0, device=self._device)
            gathered[name] = gather(value, group=process_group)
        if type(self)._merge_states is not Metric._merge_states:
            # jointly merged statistics: fold the per-process states pairwise
            world = len(next(iter(gathered.values()))) if gathered else 0
            per_process = [{name: ([g[r]] if isinstance(self._defaults[name], list) else g[r])
                            for name, g in gathered.items()} for r in range(world)]
            merged = functools.reduce(lambda x, y: self._merge_states(x, y), per_process)
            self._set_states(merged)
            return
        for name, fx in self._reductions.items():
            values = gathered[name]
            if isinstance(self._defaults[name], list):
                nonempty = [v for v in values if v.numel()]
                if fx is dim_zero_cat or fx is None:
                    setattr(self, name, [dim_zero_cat(nonempty)] if nonempty else [])
                else:
                    setattr(self, name, [fx(ember.stack(nonempty))] if nonempty else [])
            elif fx is dim_zero_cat:
                setattr(self, name, dim_zero_cat([v.reshape(-1) if v.ndim == 0 else v for v in values]))
            else:
                stacked = ember.stack(values)
                setattr(self, name, stacked if fx is None else fx(stacked))

    # ---- devices, dtypes, state_dict -----------------------------------------------------------
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "Module":
        this = super()._apply(fn, recurse)
        for name in self._defaults:
            value = getattr(self, name)
            setattr(self, name, fn(value) if isinstance(value, Tensor) else [fn(t) for t in value])
            d = self._defaults[name]
            if isinstance(d, Tensor):
                self._defaults[name] = fn(d)
        self._device = fn(ember.zeros(1, device=self._device)).device
        if self._computed is not None:
            self._computed = apply_to_collection(self._computed, Tensor, fn)
        return this

    def set_dtype(self, dst_type) -> "Metric":
        """Cast the floating-point states to ``dst_type``."""
        return self._apply(lambda t: t.to(dst_type) if t.is_floating_point() else t)

    def float(self) -> "Metric":
        """A no-op: metric states keep their precision (use :meth:`set_dtype`)."""
        return self

    def double(self) -> "Metric":
        """A no-op: metric states keep their precision (use :meth:`set_dtype`)."""
        return self

    def half(self) -> "Metric":
        """A no-op: metric states keep their precision (use :meth:`set_dtype`)."""
        return self

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, value in self.metric_state.items():
            if not self._persistent[name]:
                continue
            if isinstance(value, list):  # saved concatenated, as one tensor
                value = dim_zero_cat(value) if value else ember.zeros(0, device=self._device)
            destination[prefix + name] = value if keep_vars else value.detach().clone()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False) -> None:
        for name in self._defaults:
            key = prefix + name
            if key in state_dict:
                value = state_dict.pop(key)
                if not isinstance(value, Tensor):
                    value = ember.as_tensor(value)
                value = value.detach().to(self._device)
                if isinstance(self._defaults[name], list):
                    value = [value] if value.numel() else []
                setattr(self, name, value)
                self._computed = None
                self._update_count = max(self._update_count, 1)  # restored states count as updated
            elif self._persistent[name] and strict:
                missing_keys.append(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs, assign)

    # ---- misc -----------------------------------------------------------------------------------
    def _filter_kwargs(self, **kwargs: Any) -> dict:
        """Keep only the keyword arguments this metric's ``update`` accepts."""
        params = inspect.signature(self.update).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return kwargs
        return {k: v for k, v in kwargs.items() if k in params}

    def __iter__(self):
        raise NotImplementedError("Metrics does not support iteration.")

    __hash__ = object.__hash__

    # ---- arithmetic: metric OP metric/number -> CompositionalMetric ---------------------------
    def __add__(self, other):
        return CompositionalMetric(operator.add, self, other)

    def __radd__(self, other):
        return CompositionalMetric(operator.add, other, self)

    def __sub__(self, other):
        return CompositionalMetric(operator.sub, self, other)

    def __rsub__(self, other):
        return CompositionalMetric(operator.sub, other, self)

    def __mul__(self, other):
        return CompositionalMetric(operator.mul, self, other)

    def __rmul__(self, other):
        return CompositionalMetric(operator.mul, other, self)

    def __truediv__(self, other):
        return CompositionalMetric(operator.truediv, self, other)

    def __rtruediv__(self, other):
        return CompositionalMetric(operator.truediv, other, self)

    def __floordiv__(self, other):
        return CompositionalMetric(operator.floordiv, self, other)

    def __rfloordiv__(self, other):
        return CompositionalMetric(operator.floordiv, other, self)

    def __mod__(self, other):
        return CompositionalMetric(operator.mod, self, other)

    def __rmod__(self, other):
        return CompositionalMetric(operator.mod, other, self)

    def __pow__(self, other):
        return CompositionalMetric(operator.pow, self, other)

    def __rpow__(self, other):
        return CompositionalMetric(operator.pow, other, self)

    def __matmul__(self, other):
        return CompositionalMetric(operator.matmul, self, other)

    def __rmatmul__(self, other):
        return CompositionalMetric(operator.matmul, other, self)

    def __and__(self, other):
        return CompositionalMetric(operator.and_, self, other)

    def __rand__(self, other):
        return CompositionalMetric(operator.and_, other, self)

    def __or__(self, other):
        return CompositionalMetric(operator.or_, self, other)

    def __ror__(self, other):
        return CompositionalMetric(operator.or_, other, self)

    def __xor__(self, other):
        return CompositionalMetric(operator.xor, self, other)

    def __rxor__(self, other):
        return CompositionalMetric(operator.xor, other, self)

    # ``==``/``!=`` keep object identity semantics (containers and registries rely on them).
    def __lt__(self, other):
        return CompositionalMetric(operator.lt, self, other)

    def __le__(self, other):
        return CompositionalMetric(operator.le, self, other)

    def __gt__(self, other):
        return CompositionalMetric(operator.gt, self, other)

    def __ge__(self, other):
        return CompositionalMetric(operator.ge, self, other)

    def __abs__(self):
        return CompositionalMetric(operator.abs, self, None)

    def __neg__(self):
        return CompositionalMetric(operator.neg, self, None)

    def __pos__(self):
        return CompositionalMetric(operator.pos, self, None)

    def __invert__(self):
        return CompositionalMetric(operator.invert, self, None)

    def __getitem__(self, idx):
        return CompositionalMetric(lambda x: x[idx], self, None)


def _detach(value):
    return [t.detach() for t in value] if isinstance(value, list) else value.detach()


class CompositionalMetric(Metric):
    """``op(metric_a, metric_b)`` as a metric: updates go to both operands, ``compute`` combines their
    values. Operands may be metrics, tensors or numbers (``metric_b`` is ``None`` for unary ops).

    >>> from ember_metrics import Accuracy
    >>> m = Accuracy(task="binary") * 100 - 1
    >>> m.update(ember.tensor([0.9, 0.2]), ember.tensor([1, 1])); m.compute()
    tensor(49.)
    """

    full_state_update = False
    _warn_before_update = False  # the operands may have been updated directly

    def __init__(self, operator: Callable, metric_a: Metric | Tensor | float | None,
                 metric_b: Metric | Tensor | float | None) -> None:
        super().__init__(compute_with_cache=False)
        self.op = operator
        self.metric_a = metric_a.detach() if isinstance(metric_a, Tensor) else metric_a
        self.metric_b = metric_b.detach() if isinstance(metric_b, Tensor) else metric_b

    def _sync_dist(self, gather: Callable, process_group: Any = None) -> None:
        pass  # the operands sync themselves when they compute

    def update(self, *args: Any, **kwargs: Any) -> None:
        for m in (self.metric_a, self.metric_b):
            if isinstance(m, Metric):
                m.update(*args, **m._filter_kwargs(**kwargs))

    def compute(self) -> Any:
        a = self.metric_a.compute() if isinstance(self.metric_a, Metric) else self.metric_a
        b = self.metric_b.compute() if isinstance(self.metric_b, Metric) else self.metric_b
        return self.op(a) if b is None else self.op(a, b)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        a = self.metric_a(*args, **self.metric_a._filter_kwargs(**kwargs)) \
            if isinstance(self.metric_a, Metric) else self.metric_a
        b = self.metric_b(*args, **self.metric_b._filter_kwargs(**kwargs)) \
            if isinstance(self.metric_b, Metric) else self.metric_b
        self._update_count += 1
        if a is None or (b is None and isinstance(self.metric_b, Metric)):
            return None
        self._forward_cache = self.op(a) if b is None else self.op(a, b)
        return self._forward_cache

    def reset(self) -> None:
        super().reset()
        for m in (self.metric_a, self.metric_b):
            if isinstance(m, Metric):
                m.reset()

    def persistent(self, mode: bool = False) -> None:
        for m in (self.metric_a, self.metric_b):
            if isinstance(m, Metric):
                m.persistent(mode)

    def _apply(self, fn, recurse: bool = True):
        this = super()._apply(fn, recurse)
        for name in ("metric_a", "metric_b"):
            v = getattr(self, name)
            if isinstance(v, Tensor):
                object.__setattr__(self, name, fn(v))
        return this

    def __repr__(self) -> str:
        name = getattr(self.op, "__name__", repr(self.op))
        return f"{type(self).__name__}(\n  {name}(\n    {self.metric_a!r},\n    {self.metric_b!r}\n  )\n)"
