"""The table the audio model builders register into (``@register_model`` adds each builder and its weights).

>>> from ember_audio.models import MODELS
>>> "silero_vad" in MODELS.names()
True
"""
from __future__ import annotations

from typing import Callable

from ember.plugins import RegistrationTable, check_task

__all__ = ["MODELS", "register_model"]

MODELS = RegistrationTable("models", modality="audio")
"""Every model of the package: filled by :func:`register_model` as the model modules are imported."""


def register_model(name: str | None = None, *, task: str, **metadata) -> Callable[[Callable], Callable]:
    """Register the decorated builder in :data:`MODELS` (name defaults to the function's name); its weights
    enum is read from the annotation of its ``weights`` parameter. ``task`` comes from ``ember.plugins.tasks``
    (``voice-activity-detection``, ``audio-classification``, ``keyword-spotting``)."""
    return MODELS.register(name, task=check_task(task, f"model {name!r}"), **metadata)
