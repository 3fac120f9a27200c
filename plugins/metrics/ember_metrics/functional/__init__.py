"""Functional versions of every metric: ``ember_metrics.functional.accuracy(preds, target, task=...)``."""
from . import audio, classification, image, regression, text
from .audio import *  # noqa: F401,F403
from .classification import *  # noqa: F401,F403
from .image import *  # noqa: F401,F403
from .regression import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403

__all__ = classification.__all__ + regression.__all__ + text.__all__ + image.__all__ + audio.__all__
