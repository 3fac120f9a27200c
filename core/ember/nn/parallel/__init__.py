"""``ember.nn.parallel``: PyTorch's ``torch.nn.parallel`` namespace.

``DataParallel`` and ``data_parallel`` run the module on one device (``data_parallel.py``);
``DistributedDataParallel`` (``distributed.py``) needs ``ember.distributed``, which is not available
yet: constructing one raises an error saying so, and importing it works, as scripts import it at
the top whether or not they train across processes.
"""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
