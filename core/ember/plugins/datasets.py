"""Helpers for a plugin's datasets (part of the plugin-author API).

:class:`StandardTransform` applies a dataset's ``transform`` to the input and its ``target_transform``
to the target of a sample, as torchvision's datasets do; ember-vision exports it under torchvision's
name and ember-text's datasets use it too. :func:`dataset_repr` is torchvision's dataset ``repr``.
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["StandardTransform", "dataset_repr"]


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target of a sample.

    >>> StandardTransform(str.upper, lambda y: y + 1)("a", 1)
    ('A', 2)
    """

    def __init__(self, transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self) -> str:
        body = [self.__class__.__name__]
        for label, t in (("Transform: ", self.transform), ("Target transform: ", self.target_transform)):
            if t is not None:
                lines = repr(t).splitlines()
                body += [label + lines[0]] + [" " * len(label) + line for line in lines[1:]]
        return "\n".join(body)


def dataset_repr(dataset, lines=(), indent: int = 4) -> str:
    """torchvision's dataset ``repr``: ``Dataset <class>``, then, indented, the number of datapoints, the
    root location (when ``dataset.root`` is set), ``dataset.extra_repr()`` and ``lines`` (the transforms).

    >>> class Squares:
    ...     root = None
    ...     def __len__(self): return 3
    ...     def extra_repr(self): return "Split: train"
    >>> print(dataset_repr(Squares(), ["Transform: str"]))
    Dataset Squares
        Number of datapoints: 3
        Split: train
        Transform: str
    """
    body = [f"Number of datapoints: {len(dataset)}"]
    if getattr(dataset, "root", None) is not None:
        body.append(f"Root location: {dataset.root}")
    body += dataset.extra_repr().splitlines()
    body += list(lines)
    return "\n".join([f"Dataset {type(dataset).__name__}"] + [" " * indent + line for line in body])
