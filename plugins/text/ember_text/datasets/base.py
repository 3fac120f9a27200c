"""The base class of ember-text's datasets: ``root``, ``transform`` / ``target_transform`` and a readable repr."""
from __future__ import annotations

import os
from typing import Any, Callable

from ember.plugins.datasets import StandardTransform, dataset_repr
from ember.utils.data import Dataset

__all__ = ["TextDataset"]


class TextDataset(Dataset):
    """A text dataset: samples are ``(text, target)`` or a text alone, as torchvision datasets are
    ``(image, target)``. ``transform`` is applied to the text (a tokenizer, for instance) and
    ``target_transform`` to the target. Subclasses implement ``__getitem__`` and ``__len__`` and may
    override ``extra_repr``.

    Datasets yield raw text: tokenization is the ``transform``'s job, e.g.
    ``IMDB(root, transform=tokenizer.encode)``.
    """

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if root is not None and not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"{type(self).__name__}: root must be a path (str or os.PathLike), got "
                            f"{type(root).__name__}")
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{type(self).__name__}: {name} must be callable, got {type(fn).__name__}")
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        self.transform = transform
        self.target_transform = target_transform

    def _sample(self, text: str, target: Any) -> tuple[Any, Any]:
        """``(transform(text), target_transform(target))``, each transform applied when given."""
        return StandardTransform(self.transform, self.target_transform)(text, target)

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [label + repr(fn).splitlines()[0]
                 for label, fn in (("Transform: ", self.transform), ("Target transform: ", self.target_transform))
                 if fn is not None]
        return dataset_repr(self, lines, self._repr_indent)


def check_index(dataset, index) -> int:
    """``index`` as a non-negative int within ``len(dataset)`` (negative indices count from the end)."""
    n = len(dataset)
    try:
        i = int(index)  # ints, NumPy integers and one-element integer tensors
    except (TypeError, ValueError):
        raise TypeError(f"{type(dataset).__name__} indices must be integers, not {type(index).__name__}") from None
    if i != index:
        raise TypeError(f"{type(dataset).__name__} indices must be integers, got {index!r}")
    if not -n <= i < n:
        raise IndexError(f"{type(dataset).__name__} index {i} is out of range for a dataset of {n} samples")
    return i + n if i < 0 else i
