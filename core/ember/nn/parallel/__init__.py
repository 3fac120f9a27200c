"""``ember.nn.parallel``: PyTorch's ``torch.nn.parallel`` namespace.

``DataParallel`` and ``data_parallel`` run the module on one device (``data_parallel.py``);
``DistributedDataParallel`` (``distributed.py``, with its gradient reducer in ``_reducer.py``) trains
across the processes of ``ember.distributed``, which it imports only when one is constructed.
"""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
