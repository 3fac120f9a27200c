"""``MetricCollection``: several metrics updated and computed together, with one call.

>>> import ember
>>> from ember_metrics import Accuracy, MetricCollection, Precision
>>> mc = MetricCollection([Accuracy(task="multiclass", num_classes=3), Precision(task="multiclass", num_classes=3)],
...                       prefix="val_")
>>> mc.update(ember.tensor([2, 1, 0, 0]), ember.tensor([2, 1, 0, 1]))
>>> mc.compute()
{'val_MulticlassAccuracy': tensor(0.7500), 'val_MulticlassPrecision': tensor(0.7500)}
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from copy import deepcopy
from typing import Any, Iterable, Sequence

from ember.nn import ModuleDict

from .metric import Metric

__all__ = ["MetricCollection"]


class MetricCollection(ModuleDict):
    """A dict of metrics sharing ``update``/``compute``/``forward``/``reset`` calls.

    ``metrics`` is a metric, a sequence of metrics (keyed by class name) or a dict of name ->
    metric; nested collections are flattened. ``prefix``/``postfix`` decorate the result keys.
    Keyword arguments of ``update``/``forward`` reach only the metrics whose ``update`` accepts them.
    Every metric keeps its own states (no implicit sharing between metrics; ``compute_groups`` is
    accepted for torchmetrics compatibility and has no effect).
    """

    def __init__(self, metrics: Metric | Sequence[Metric] | dict[str, Metric], *additional_metrics: Metric,
                 prefix: str | None = None, postfix: str | None = None, compute_groups: bool | list = True) -> None:
        super().__init__()
        self.prefix = self._check_arg(prefix, "prefix")
        self.postfix = self._check_arg(postfix, "postfix")
        self.compute_groups = compute_groups
        self.add_metrics(metrics, *additional_metrics)

    @staticmethod
    def _check_arg(arg, name: str):
        if arg is None or isinstance(arg, str):
            return arg
        raise ValueError(f"Expected input `{name}` to be a string, but got {type(arg)}")

    def add_metrics(self, metrics, *additional_metrics) -> None:
        """Add more metrics (same forms as the constructor)."""
        if isinstance(metrics, (Metric, MetricCollection)):
            metrics = [metrics]
        if isinstance(metrics, Sequence):
            metrics = list(metrics)
            ignored = []
            for m in additional_metrics:
                (metrics if isinstance(m, (Metric, MetricCollection)) else ignored).append(m)
            if ignored:
                warnings.warn(f"You have passes extra arguments {ignored} which are not `Metric` so they will be "
                              "ignored.", UserWarning, stacklevel=2)
        elif additional_metrics:
            raise ValueError(f"You have passes extra arguments {additional_metrics} which are not compatible with "
                             f"first passed dictionary {metrics} so they will be ignored.")
        if isinstance(metrics, dict):
            for name in sorted(metrics):
                metric = metrics[name]
                if isinstance(metric, Metric):
                    self[name] = metric
                elif isinstance(metric, MetricCollection):
                    for k, v in metric.items(keep_base=False):
                        self[f"{name}_{k}"] = v
                else:
                    raise ValueError(f"Value {metric} belonging to key {name} is not an instance of "
                                     "`ember_metrics.Metric` or `ember_metrics.MetricCollection`")
        elif isinstance(metrics, list):
            for metric in metrics:
                if isinstance(metric, Metric):
                    name = type(metric).__name__
                    if name in self._modules:
                        raise ValueError(f"Encountered two metrics both named {name}")
                    self[name] = metric
                elif isinstance(metric, MetricCollection):
                    for k, v in metric.items(keep_base=False):
                        if k in self._modules:
                            raise ValueError(f"Encountered two metrics both named {k}")
                        self[k] = v
                else:
                    raise ValueError(f"Input {metric} to `MetricCollection` is not a instance of "
                                     "`ember_metrics.Metric` or `ember_metrics.MetricCollection`")
        else:
            raise ValueError("Unknown input to MetricCollection. Expected, `Metric`, `MetricCollection` or "
                             f"`dict`/`sequence` of the previous, but got {metrics}")

    # ---- the metric API over every member ----------------------------------------------------
    def update(self, *args: Any, **kwargs: Any) -> None:
        for m in self._modules.values():
            m.update(*args, **m._filter_kwargs(**kwargs))

    def compute(self) -> dict[str, Any]:
        return self._collect(lambda m: m.compute())

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._collect(lambda m: m(*args, **m._filter_kwargs(**kwargs)))

    def _collect(self, fn) -> dict[str, Any]:
        out = {}
        for name, m in self._modules.items():
            res = fn(m)
            if isinstance(res, dict):  # metrics returning several values contribute each under its own key
                for k, v in res.items():
                    out[self._set_name(k)] = v
            else:
                out[self._set_name(name)] = res
        return out

    def reset(self) -> None:
        for m in self._modules.values():
            m.reset()

    def clone(self, prefix: str | None = None, postfix: str | None = None) -> "MetricCollection":
        """A deep copy, optionally with a new prefix/postfix."""
        mc = deepcopy(self)
        if prefix:
            mc.prefix = self._check_arg(prefix, "prefix")
        if postfix:
            mc.postfix = self._check_arg(postfix, "postfix")
        return mc

    def persistent(self, mode: bool = True) -> None:
        for m in self._modules.values():
            m.persistent(mode)

    def set_dtype(self, dst_type) -> "MetricCollection":
        for m in self._modules.values():
            m.set_dtype(dst_type)
        return self

    # ---- dict interface with decorated keys ------------------------------------------------------
    def _set_name(self, base: str) -> str:
        return f"{self.prefix or ''}{base}{self.postfix or ''}"

    def _strip(self, key: str) -> str:
        """The base name of a decorated key (``prefix + name + postfix``, either part optional)."""
        candidates = [key]
        if self.prefix and key.startswith(self.prefix):
            candidates.append(key[len(self.prefix):])
        if self.postfix:
            candidates += [c[:-len(self.postfix)] for c in candidates if c.endswith(self.postfix)]
        return next((c for c in reversed(candidates) if c in self._modules), key)

    def keys(self, keep_base: bool = False) -> Iterable[str]:
        if keep_base:
            return self._modules.keys()
        return OrderedDict((self._set_name(k), None) for k in self._modules).keys()

    def items(self, keep_base: bool = False, copy_state: bool = True):
        return [((k if keep_base else self._set_name(k)), v) for k, v in self._modules.items()]

    def values(self, copy_state: bool = True):
        return list(self._modules.values())

    def __getitem__(self, key: str) -> Metric:
        if key not in self._modules:
            key = self._strip(key)
        return self._modules[key]

    def __contains__(self, key) -> bool:
        return key in self._modules or self._strip(key) in self._modules

    def __iter__(self):
        return iter(self.keys())

    def extra_repr(self) -> str:
        parts = [f"prefix={self.prefix}"] if self.prefix else []
        parts += [f"postfix={self.postfix}"] if self.postfix else []
        return ",\n".join(parts)
