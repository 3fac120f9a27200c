"""Text classification from a folder per class: :class:`TextFolder` (any such layout) and :class:`IMDB`
(the Large Movie Review Dataset's ``aclImdb/{train,test}/{pos,neg}``).

Files are found when the dataset is built and read when a sample is asked for (as torchvision's
``ImageFolder`` reads images), so 50,000 reviews cost a directory walk, not 50,000 reads up front.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from ember.plugins import datasets

from .base import TextDataset, check_index
from .utils import DatasetNotFoundError, _check_errors, default_root, read_text, verify_str_arg

__all__ = ["TextFolder", "IMDB", "find_classes", "make_dataset", "TEXT_EXTENSIONS"]

TEXT_EXTENSIONS = (".txt",)


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The class folders of ``directory``, sorted, and their indices (``ember.plugins.datasets.find_classes``).
    Hidden folders (``.git``, ``.ipynb_checkpoints``) are not classes."""
    return datasets.find_classes(directory, skip_hidden=True)


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int],
                 extensions: Sequence[str] | None = TEXT_EXTENSIONS,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """``(path, class index)`` of every text file under ``directory/<class>/``
    (``ember.plugins.datasets.make_dataset`` with ``.txt`` files by default). A class folder that is missing,
    or (unless ``allow_empty``) holds no such file, is an error naming it."""
    return datasets.make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)


class TextFolder(TextDataset):
    """A text-classification dataset stored as one folder per class, one text per file::

        root/positive/0001.txt
        root/positive/more/0002.txt
        root/negative/0003.txt

    Classes are the sorted folder names, so the targets are ``0 .. len(classes) - 1`` in that order
    (``class_to_idx``). A sample is ``(text, class_index)``; the text is read when the sample is asked for
    (strict UTF-8 by default: a file that is not UTF-8 raises :class:`DatasetFormatError` naming it; pass
    ``errors="replace"`` to read it with U+FFFD in place of the bad bytes).

    Args:
        root: the folder holding the class folders.
        transform: applied to the text (e.g. a tokenizer's ``encode``).
        target_transform: applied to the class index.
        extensions: the file names to read (default ``(".txt",)``); ``None`` with ``is_valid_file``.
        is_valid_file: a function of the path saying whether to read the file.
        allow_empty: allow class folders without files.
        encoding, errors: how files are decoded.

    >>> ds = TextFolder("reviews")  # doctest: +SKIP
    >>> text, target = ds[0]  # doctest: +SKIP
    >>> ds.classes, ds.class_to_idx  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, extensions: Sequence[str] | None = TEXT_EXTENSIONS,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False,
                 encoding: str = "utf-8", errors: str = "strict") -> None:
        super().__init__(root, transform, target_transform)
        if extensions is not None and is_valid_file is not None:
            raise ValueError("Both extensions and is_valid_file cannot be passed at the same time")
        if extensions is None and is_valid_file is None:
            extensions = TEXT_EXTENSIONS
        self.encoding, self.errors = encoding, _check_errors(errors)
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.targets = [target for _, target in self.samples]

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        """Override to choose other classes (as torchvision's ``DatasetFolder.find_classes``)."""
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(text, target)``: the file's text and its class index (each through its transform)."""
        path, target = self.samples[check_index(self, index)]
        return self._sample(read_text(path, self.encoding, self.errors), target)

    def __len__(self) -> int:
        return len(self.samples)


class IMDB(TextFolder):
    """The `Large Movie Review Dataset <https://ai.stanford.edu/~amaas/data/sentiment/>`_ (Maas et al.,
    2011): 25,000 training and 25,000 test reviews, half positive, half negative.

    Reads the layout of ``aclImdb_v1.tar.gz`` once extracted: ``<root>/aclImdb/{train,test}/{neg,pos}/*.txt``
    (``<root>/IMDB/aclImdb`` is accepted too, torchtext's place). The unlabelled ``train/unsup`` reviews are
    not samples. Classes are ``["neg", "pos"]``: target 0 is negative, 1 positive (torchtext's ``IMDB``
    yields 1 and 2, and ``(label, text)`` pairs; Ember's datasets yield ``(text, target)`` like torchvision's).
    Reviews keep their ``<br />`` tags as in the files.

    The archive is not downloaded here (download it from the page above and extract it into ``root``);
    a missing split folder raises :class:`DatasetNotFoundError` naming it.

    >>> train = IMDB("data", split="train")  # doctest: +SKIP
    >>> text, target = train[0]  # doctest: +SKIP
    """

    classes_ = ("neg", "pos")

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", transform: Callable | None = None,
                 target_transform: Callable | None = None, encoding: str = "utf-8", errors: str = "strict") -> None:
        self.split = verify_str_arg(split, "split", ("train", "test"))
        base = os.path.expanduser(os.fspath(root if root is not None else default_root()))
        self.base_folder = self._find_base(base)
        super().__init__(os.path.join(self.base_folder, split), transform, target_transform, encoding=encoding,
                         errors=errors)
        self.root = base

    @staticmethod
    def _find_base(root: str) -> str:
        for candidate in (os.path.join(root, "aclImdb"), os.path.join(root, "IMDB", "aclImdb")):
            if os.path.isdir(candidate):
                return candidate
        raise DatasetNotFoundError(
            f"IMDB: no aclImdb folder in {root} (looked for {root}/aclImdb and {root}/IMDB/aclImdb). Download "
            "aclImdb_v1.tar.gz from https://ai.stanford.edu/~amaas/data/sentiment/ and extract it there "
            f"(tar xzf aclImdb_v1.tar.gz -C {root})")

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        if not os.path.isdir(directory):
            raise DatasetNotFoundError(f"IMDB: the {self.split} split folder {directory} is missing (expected "
                                       f"{directory}/neg and {directory}/pos)")
        classes = list(self.classes_)
        return classes, {c: i for i, c in enumerate(classes)}

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
