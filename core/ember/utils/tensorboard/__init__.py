"""``ember.utils.tensorboard``: PyTorch's ``SummaryWriter``, writing real TensorBoard event files.

The files are written with the ``tensorboard`` package (``pip install tensorboard``), which Ember does
not depend on: importing this module never imports it, and constructing a :class:`SummaryWriter`
without it raises an ``ImportError`` that says what to install.

>>> from ember.utils.tensorboard import SummaryWriter
>>> with SummaryWriter("runs/exp1") as writer:          # doctest: +SKIP
...     writer.add_scalar("loss/train", 0.25, global_step=1)
"""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
