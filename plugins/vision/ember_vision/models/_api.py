"""Registration and lookup of ember-vision's models (torchvision's ``models/_api.py``).

Each builder is registered where it is defined, once, with :func:`register_model`; its weights enum is
read from the annotation of its ``weights`` parameter, so a model and its weights can't be registered
apart. The plugin's hook hands :data:`MODELS` to Ember's registry; the functions below look models up
by their bare names through ``ember.hub``.

>>> @register_model(family="lenet", input_size=(1, 28, 28))  # doctest: +SKIP
... def lenet5(*, weights: LeNet5_Weights | str | None = None, progress: bool = True, **kwargs): ...
>>> list_models(include="lenet*")
['lenet5']
"""
from __future__ import annotations

from typing import Any, Callable

from ember.plugins import RegistrationTable

__all__ = ["MODELS", "register_model", "list_models", "get_model", "get_model_builder", "get_model_weights",
           "get_weight"]

PLUGIN = "vision"   # the entry point's name: every model's canonical name is "vision:<name>"

MODELS = RegistrationTable("models", task="image-classification")
"""Every model of the package: filled by :func:`register_model` as the model modules are imported."""


def register_model(name: str | None = None, **metadata) -> Callable[[Callable], Callable]:
    """Register the decorated builder in :data:`MODELS` (name defaults to the function's name).

    ``metadata`` describes the model for filtering: ``family`` and ``input_size`` (the ``(C, H, W)`` it
    is built for); ``task`` is ``"image-classification"`` unless given.
    """
    return MODELS.register(name, **metadata)


def list_models(module=None, include=None, exclude=None) -> list[str]:
    """Bare names of this package's models (torchvision's ``list_models``; ``module`` narrows to a submodule)."""
    from ember import hub
    return [n.split(":", 1)[1] for n in hub.list_models(module or __package__, include, exclude, plugin=PLUGIN)]


def get_model(name: str, **config: Any):
    """Build one of this package's models by name: ``get_model("resnet18", weights=None, num_classes=10)``."""
    from ember import hub
    return hub.get_model(f"{PLUGIN}:{name}", **config)


def get_model_builder(name: str) -> Callable:
    """The builder of one of this package's models, by name."""
    from ember import hub
    return hub.get_model_builder(f"{PLUGIN}:{name}")


def get_model_weights(name: str | Callable):
    """The weights enum of a model (by name or builder), ``None`` when it has no pretrained weights."""
    from ember import hub
    return hub.get_model_weights(f"{PLUGIN}:{name}" if isinstance(name, str) else name)


def get_weight(name: str):
    """A weights member from ``"EnumName.MEMBER"`` (``"LeNet5_Weights.FASHIONMNIST_V1"``)."""
    from ember import hub
    return hub.get_weight(name)
