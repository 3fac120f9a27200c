"""ember-text: tokenizers, text datasets, language models and pretrained text encoders for Ember.

Tokenizers read and write the Hugging Face ``tokenizers`` JSON format; models keep Hugging Face
transformers' module names, so BERT-family checkpoints load directly.

The subpackages (``tokenizers``, ``datasets``, ``models``) are imported on first access, so
``import ember_text`` stays cheap (the plugin machinery imports it too).
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = ("tokenizers", "datasets", "models")

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module  # later lookups skip this function
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
