"""ember-text: tokenizers, text datasets, language models and pretrained text encoders for Ember.

Tokenizers read and write the Hugging Face ``tokenizers`` JSON format; models keep Hugging Face
transformers' module names, so BERT-family checkpoints load directly.

The subpackages (``tokenizers``, ``datasets``, ``models``) are imported on first access, so
``import ember_text`` stays cheap (the plugin machinery imports it too).
"""
from __future__ import annotations

from ember.plugins.lazy import lazy_submodules

from .generation import generate

__version__ = "0.1.0"

_SUBPACKAGES = ("tokenizers", "datasets", "models")

__all__ = ["__version__", "generate", *_SUBPACKAGES]

__getattr__, __dir__ = lazy_submodules(__name__, _SUBPACKAGES)
