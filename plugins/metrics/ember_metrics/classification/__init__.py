"""Classification metrics (torchmetrics-shaped): task wrappers and Binary*/Multiclass*/Multilabel* classes."""
from .calibration_error import *  # noqa: F401,F403
from .confusion_matrix import *  # noqa: F401,F403
from .curves import *  # noqa: F401,F403
from .stat_scores import *  # noqa: F401,F403
from . import calibration_error as _ce, confusion_matrix as _cm, curves as _cu, stat_scores as _ss  # noqa: E402

__all__ = _ss.__all__ + _cm.__all__ + _cu.__all__ + _ce.__all__
