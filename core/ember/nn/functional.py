"""``ember.nn.functional``: stateless versions of the layers, activations and losses.

The implementations live in ``ember.nn._functional`` (one module per family); this module is the
PyTorch-shaped namespace (``import ember.nn.functional as F``).
"""
from ._functional.activation import *  # noqa: F401,F403
from ._functional.layers import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.norm import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.rnn import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
