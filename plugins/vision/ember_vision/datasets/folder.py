"""Datasets over a directory tree with one sub-directory per class (torchvision's ``DatasetFolder``)::

    root/dog/xxx.png
    root/dog/nested/xxy.png
    root/cat/123.png

:func:`find_classes`, :func:`make_dataset` and :func:`has_file_allowed_extension` are the plugin-author API's
(``ember.plugins.datasets``), which ember-audio's and ember-text's class folders list their files with too.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from ember.plugins.datasets import find_classes, has_file_allowed_extension, make_dataset

from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader", "find_classes",
           "make_dataset", "has_file_allowed_extension", "is_image_file"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def is_image_file(filename: str) -> bool:
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


class DatasetFolder(VisionDataset):
    """A generic dataset over ``root/<class>/**/<file>``; ``loader(path)`` reads a sample.

    Args:
        root: the root directory.
        loader: reads a sample from its path.
        extensions: the allowed file extensions (exclusive with ``is_valid_file``).
        transform, target_transform: applied to the sample and to the target.
        is_valid_file: takes a path and says whether it is a sample (exclusive with ``extensions``).
        allow_empty: allow class folders without any valid file.

    Attributes: ``classes`` (sorted class names), ``class_to_idx``, ``samples`` (list of
    ``(path, class_index)``), ``targets`` (the class index of each sample). Override
    :meth:`find_classes` to derive classes differently.
    """

    def __init__(self, root: str | os.PathLike, loader: Callable[[str], Any],
                 extensions: str | tuple[str, ...] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int],
                     extensions: str | tuple[str, ...] | None = None,
                     is_valid_file: Callable[[str], bool] | None = None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        """See :func:`make_dataset`; here ``class_to_idx`` is required."""
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
        """The class names and indices (default: the sorted sub-directories of ``directory``)."""
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return self._apply_transforms(self.loader(path), target)

    def __len__(self) -> int:
        return len(self.samples)


def pil_loader(path: str) -> Any:
    """Open an image file with Pillow and convert it to ``"RGB"``."""
    from PIL import Image
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def default_loader(path: str) -> Any:
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """A :class:`DatasetFolder` of images (``IMG_EXTENSIONS``) loaded as ``"RGB"`` PIL images.

    >>> import os, tempfile
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for path in ("cat/1.png", "dog/2.jpg"):      # root/cat/1.png, root/dog/2.jpg
    ...     os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
    ...     Image.new("RGB", (4, 4)).save(os.path.join(root, path))
    >>> ds = ImageFolder(root)
    >>> img, target = ds[0]; (img.mode, target, ds.classes)
    ('RGB', 0, ['cat', 'dog'])

    ``imgs`` is an alias of ``samples``.
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
