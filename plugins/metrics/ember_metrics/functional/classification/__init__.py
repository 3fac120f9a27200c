"""Functional classification metrics (binary / multiclass / multilabel and task-dispatching forms)."""
from . import _calibration_error, _confusion_matrix, _curves, _stat_scores
from ._calibration_error import *  # noqa: F401,F403
from ._confusion_matrix import *  # noqa: F401,F403
from ._curves import *  # noqa: F401,F403
from ._stat_scores import *  # noqa: F401,F403

__all__ = _stat_scores.__all__ + _confusion_matrix.__all__ + _curves.__all__ + _calibration_error.__all__
