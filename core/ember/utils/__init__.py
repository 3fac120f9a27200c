"""Utilities, as in ``torch.utils``: :mod:`ember.utils.data` (datasets, samplers, DataLoader) and
:mod:`ember.utils.tensorboard` (``SummaryWriter``, imported on first access)."""
from . import data

__all__ = ["data", "tensorboard"]


def __getattr__(name: str):
    if name == "tensorboard":
        import importlib
        return importlib.import_module(f"{__name__}.tensorboard")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
