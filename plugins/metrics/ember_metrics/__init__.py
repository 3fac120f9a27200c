"""ember-metrics: torchmetrics-shaped metrics for Ember.

>>> import ember
>>> from ember_metrics import Accuracy, MetricCollection
>>> acc = Accuracy(task="multiclass", num_classes=3)
>>> acc.update(ember.tensor([2, 1, 0]), ember.tensor([2, 1, 1]))
>>> acc.compute()
tensor(0.6667)
>>> from ember_metrics.functional import accuracy

Every metric is an ``ember.nn.Module`` (see :class:`Metric`); functional versions live in
:mod:`ember_metrics.functional`. The plugin module :mod:`ember_metrics._plugin` registers them with
Ember's plugin system (``ember metrics``, ``ember.hub.get_metric("accuracy", ...)``).
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import functional  # noqa: E402
from .aggregation import *  # noqa: F401,F403,E402
from .audio import *  # noqa: F401,F403,E402
from .classification import *  # noqa: F401,F403,E402
from .collections import MetricCollection  # noqa: E402
from .image import *  # noqa: F401,F403,E402
from .metric import CompositionalMetric, Metric  # noqa: E402
from .regression import *  # noqa: F401,F403,E402
from .text import *  # noqa: F401,F403,E402
from . import aggregation as _ag, audio as _au, classification as _cl, image as _im, regression as _re, \
    text as _te  # noqa: E402

__all__ = (["Metric", "CompositionalMetric", "MetricCollection", "functional"] + _ag.__all__ + _cl.__all__
           + _re.__all__ + _te.__all__ + _im.__all__ + _au.__all__)
