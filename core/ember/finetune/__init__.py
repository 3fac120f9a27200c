"""One fine-tuning workflow for every registered model and dataset, whatever plugin provides them.

``ember.finetune(MODEL, DATA, **options)`` (this module is callable) and ``ember finetune MODEL DATA
[options]`` run the same :class:`Trainer`: the classes come from the data, the preprocessing from the
weights, the head is swapped through the registry's head protocol, and the output directory holds the
best and last checkpoints, the config, per-epoch metrics, plots, the confusion matrix and a weights entry
(``ember.hub.get_model(MODEL, weights=OUT)``; ``ember predict OUT INPUT...``).

>>> import tempfile
>>> out = tempfile.mkdtemp()
>>> summary = ember.finetune("toy:mlp", "toy:blobs", epochs=2, lr=0.05, out=out, quiet=True)
>>> sorted(summary["best"])[:3]
['epoch', 'frozen_params', 'lr']
>>> ember.finetune.predict(out, ["1.5,0.2"])[0]["label"]
'1'

Parts, one job each: :mod:`.config` (the options), :mod:`.data` (specs to tensors), :mod:`.model` (head,
freezing, parameter groups), :mod:`.trainer` (the loop), :mod:`.checkpoint` (checkpoints, weights entry),
:mod:`.outputs` (logs, plots), :mod:`.progress` (progress display), :mod:`.metrics`, :mod:`.predict`.
"""
from __future__ import annotations

import sys
import types

from .config import FinetuneConfig
from .data import DataError
from .model import ModelError
from .predict import predict
from .trainer import Trainer, finetune

__all__ = ["finetune", "Trainer", "FinetuneConfig", "predict", "DataError", "ModelError"]


class _CallableModule(types.ModuleType):
    """``ember.finetune(...)`` calls :func:`finetune`; ``ember.finetune.Trainer`` etc. stay reachable."""

    def __call__(self, *args, **kwargs):
        return finetune(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
