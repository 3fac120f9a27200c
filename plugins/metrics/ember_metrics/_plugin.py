"""The ``metrics`` Ember plugin: hands ember-metrics' registration table to Ember's registry.

Named by the entry point ``[project.entry-points.ember] metrics = "ember_metrics._plugin"``; the table is
``ember_metrics/_registry.py``. ``ember metrics`` lists the metrics;
``ember.hub.get_metric("accuracy", task="multiclass", num_classes=10)`` builds one and
``ember.hub.get_metric_function("accuracy")`` returns the functional form.
"""
from __future__ import annotations

from ember.plugins import hookimpl


@hookimpl
def ember_register_metrics(registry) -> None:
    """Register every metric class with its functional form, task family and ``higher_is_better``."""
    from ._registry import METRICS
    registry.add_all(METRICS)


@hookimpl
def ember_env_info() -> dict:
    """This plugin's version for ``ember env``."""
    from . import __version__
    return {"ember-metrics": __version__}
