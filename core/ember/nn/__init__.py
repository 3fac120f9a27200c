"""``ember.nn``: modules, parameters, layers, losses, initialisation and utilities (PyTorch's torch.nn)."""
from .module import Module
from .parameter import Buffer, Parameter
from .modules import *  # noqa: F401,F403
from . import functional, init, parallel, utils  # noqa: F401
from .parallel import DataParallel  # noqa: F401
