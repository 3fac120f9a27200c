"""The models of ember-text, registered where their builders are defined (``@register_model(...)``); the
plugin's ``ember_register_models`` hook hands :data:`MODELS` to Ember's registry. A builder's weights enum
is read from the annotation of its ``weights`` parameter, so a model and its weights can't be registered
apart.

>>> from ember_text.models import MODELS
>>> sorted(MODELS.names())[:3]
['all_minilm_l6_v2', 'all_minilm_l6_v2_classifier', 'bert_for_sequence_classification']
"""
from __future__ import annotations

from typing import Callable

from ember.plugins import RegistrationTable, check_task

__all__ = ["MODELS", "register_model", "no_weights"]

MODELS = RegistrationTable("models")
"""Every model of the package: filled by :func:`register_model` as the model modules are imported."""


def register_model(name: str | None = None, *, task: str, **metadata) -> Callable[[Callable], Callable]:
    """Register the decorated builder in :data:`MODELS` (name defaults to the function's name).

    ``task`` is required (from ``ember.plugins.tasks``: ``text-classification``, ``sentence-embedding``,
    ``text-generation``), since text models do different jobs; ``metadata`` describes the model for filtering
    (``family``, ``head``, ``embedding_dim``).
    """
    return MODELS.register(name, task=check_task(task, f"model {name!r}"), **metadata)


def no_weights(builder: str, weights, hint: str = "use weights=None") -> None:
    """Refuse ``weights`` for a builder that has no pretrained weights (``hint``: what to do instead)."""
    if weights is not None:
        raise ValueError(f"{builder}: no pretrained weights are registered for this model; {hint}")
