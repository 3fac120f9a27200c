"""The task vocabulary: the one set of ``task=`` names that plugins register and users filter by.

Every plugin spells a task the same way, so ``ember.hub.list_models(task="image-classification")``
and ``ember models --task image-classification`` find the models of every plugin. Registering a
model, dataset, transform or metric with a task outside this vocabulary is an error that lists it;
so is filtering by one. The names follow the Hugging Face Hub's task names where one exists.

>>> from ember.plugins.tasks import TASKS, check_task
>>> "image-classification" in TASKS
True
>>> check_task("image_classification")
Traceback (most recent call last):
ember.plugins.tasks.UnknownTaskError: unknown task 'image_classification'; did you mean 'image-classification'? ...

A new task is added here, in the core, with a one-line description (a plugin can't invent one).
"""
from __future__ import annotations

import difflib
from types import MappingProxyType
from typing import Mapping

__all__ = ["TASKS", "check_task", "UnknownTaskError"]

_TASKS = {
    # Families that span modalities: metrics (accuracy, mean squared error) and generic models or data.
    "classification": "assign one class (or several labels) per input, whatever the modality",
    "regression": "predict one or more continuous values per input",
    # Images
    "image-classification": "one class per image",
    "object-detection": "boxes and classes of the objects in an image",
    "image-segmentation": "a class per pixel (semantic) or per object mask (instance)",
    "image-to-image": "an image from an image: denoising, super-resolution, restoration",
    # Text
    "text-classification": "one class per text (sentiment, topic, natural-language inference)",
    "token-classification": "a class per token (named entities, part of speech)",
    "fill-mask": "predict masked tokens (masked language modelling)",
    "text-generation": "continue a text token by token (causal language modelling)",
    "translation": "a text in another language (sequence to sequence)",
    "sentence-embedding": "one vector per sentence for similarity and retrieval",
    # Audio
    "audio-classification": "one class per audio clip",
    "keyword-spotting": "which short spoken command a clip holds",
    "voice-activity-detection": "where speech is in an audio stream",
    "automatic-speech-recognition": "the text spoken in an audio clip",
    "speech-enhancement": "cleaner speech from noisy audio (denoising, source separation)",
    # Tables
    "tabular-classification": "one class per row of features",
    "tabular-regression": "a continuous value per row of features",
}

TASKS: Mapping[str, str] = MappingProxyType(_TASKS)
"""Task name -> what it means. Read-only: new tasks are added to this module."""


class UnknownTaskError(ValueError):
    """A ``task`` name outside :data:`TASKS` (a ``ValueError``)."""


def check_task(task, what: str | None = None) -> str | None:
    """``task`` if it is ``None`` or in :data:`TASKS`; otherwise raise :class:`UnknownTaskError`.

    ``what`` names the registration in the message (``"model 'vision:resnet18'"``).

    >>> check_task("text-classification")
    'text-classification'
    """
    if task is None or (isinstance(task, str) and task in _TASKS):
        return task
    prefix = f"{what}: " if what else ""
    if not isinstance(task, str):
        raise UnknownTaskError(f"{prefix}task must be a string from ember.plugins.tasks.TASKS or None, "
                               f"got {type(task).__name__}")
    # Spelling variants (underscores, case) of a known name are the most common mistake.
    normalised = task.strip().lower().replace("_", "-").replace(" ", "-")
    close = [normalised] if normalised in _TASKS else difflib.get_close_matches(task, list(_TASKS), n=2, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise UnknownTaskError(f"{prefix}unknown task {task!r}{hint} Tasks are one vocabulary, defined in "
                           f"ember.plugins.tasks: {', '.join(_TASKS)}")
