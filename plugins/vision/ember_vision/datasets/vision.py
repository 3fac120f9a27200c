"""The base classes of ember-vision's datasets: :class:`VisionDataset` (torchvision's) and
:class:`SplitDataset`, a dataset read from a train or a test split of files that it can download."""
from __future__ import annotations

import os
from typing import Any, Callable

from ember.utils.data import Dataset

# StandardTransform is the plugin-author API's (shared with ember-text); exported here under torchvision's name.
from ember.plugins.datasets import StandardTransform, dataset_repr

__all__ = ["VisionDataset", "SplitDataset", "StandardTransform"]


class VisionDataset(Dataset):
    """A dataset stored under ``root``, with optional ``transforms`` (applied to ``(input, target)``)
    or ``transform`` / ``target_transform`` (applied to each separately), but not both.

    Subclasses implement ``__getitem__`` and ``__len__`` and may override ``extra_repr``.
    """

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike | None = None, transforms: Callable | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        if root is not None and not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"{type(self).__name__}: root must be a path (str or os.PathLike), got "
                            f"{type(root).__name__}")
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = StandardTransform(transform, target_transform) if has_separate else transforms

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def _apply_transforms(self, input: Any, target: Any) -> tuple[Any, Any]:
        return (input, target) if self.transforms is None else self.transforms(input, target)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = repr(self.transforms).splitlines() if self.transforms is not None else []
        return dataset_repr(self, lines, self._repr_indent)


class SplitDataset(VisionDataset):
    """A dataset read from the train or the test split of its files under ``root`` (MNIST, CIFAR, ...), with
    torchvision's constructor ``(root, train=True, transform=None, target_transform=None, download=False)``.

    The constructor checks ``root``, calls :meth:`download` when asked, then :meth:`_load`, which reads
    the split into ``data`` (one item per sample) and ``targets``. Subclasses implement both; a dataset
    that needs no files sets ``root_required = False``.
    """

    root_required = True

    def __init__(self, root: str | os.PathLike | None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        if root is None and self.root_required:
            raise TypeError(f"{type(self).__name__}: root must be a path, got None")
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        self._load()

    def download(self) -> None:
        """Fetch the files that are missing (the subclass's sources, checksums checked)."""
        raise NotImplementedError(f"{type(self).__name__} can't download its files")

    def _load(self) -> None:
        """Read this split into ``data`` and ``targets``."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"
