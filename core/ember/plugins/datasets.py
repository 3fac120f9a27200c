"""Helpers for a plugin's datasets (part of the plugin-author API).

:class:`StandardTransform` applies a dataset's ``transform`` to the input and its ``target_transform``
to the target of a sample, as torchvision's datasets do; ember-vision exports it under torchvision's
name and ember-text's datasets use it too. :func:`dataset_repr` is torchvision's dataset ``repr``.

A dataset stored as one folder per class (torchvision's ``ImageFolder`` layout, which ember-vision,
ember-audio and ember-text all read) is listed by :func:`find_classes` and :func:`make_dataset`, with
torchvision's names and semantics. A plugin's datasets raise :class:`DatasetNotFoundError` for missing files
and :class:`DatasetFormatError` for malformed ones, each naming the file and the problem.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

__all__ = ["StandardTransform", "dataset_repr", "DatasetNotFoundError", "DatasetFormatError",
           "has_file_allowed_extension", "find_classes", "make_dataset"]


class DatasetNotFoundError(RuntimeError, FileNotFoundError):
    """A dataset's files are missing: a ``RuntimeError`` (what torchvision's and torchaudio's datasets raise)
    and a ``FileNotFoundError``."""


class DatasetFormatError(ValueError):
    """A dataset file is not what the dataset expects; the message names the file and the problem."""


def has_file_allowed_extension(filename: str, extensions: str | Sequence[str]) -> bool:
    """Whether ``filename`` ends with one of ``extensions`` (the file name compared in lower case, as
    torchvision does).

    >>> has_file_allowed_extension("clips/A.WAV", (".wav", ".flac")), has_file_allowed_extension("a.txt", ".wav")
    (True, False)
    """
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def find_classes(directory: str | os.PathLike, *, example: str = "<class>/<file>",
                 skip_hidden: bool = False) -> tuple[list[str], dict[str, int]]:
    """The sorted names of the folders in ``directory`` (the classes) and their indices (torchvision's
    ``find_classes``). ``skip_hidden`` leaves out hidden folders (``.git``, ``.ipynb_checkpoints``), which
    torchvision counts as classes; ``example`` is the layout the errors say was expected
    (``"<class>/<clip>.wav"``).

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("dog", "cat", ".cache"): os.makedirs(os.path.join(root, name))
    >>> find_classes(root, skip_hidden=True)
    (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise DatasetNotFoundError(f"{directory}: no such directory (expected one folder per class in it: "
                                   f"{directory}/{example})")
    classes = sorted(e.name for e in os.scandir(directory)
                     if e.is_dir() and not (skip_hidden and e.name.startswith(".")))
    if not classes:
        raise DatasetNotFoundError(f"Couldn't find any class folder in {directory} (expected {directory}/{example})")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int] | None = None,
                 extensions: str | Sequence[str] | None = None, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False, *, example: str = "<class>/<file>") -> list[tuple[str, int]]:
    """``(path, class index)`` of every file under ``directory/<class>/`` (recursively, sorted) whose name
    ends with one of ``extensions`` or that ``is_valid_file`` accepts (exactly one of the two), as
    torchvision's ``make_dataset``; ``class_to_idx`` defaults to :func:`find_classes`'s.

    A class without any such file, or without a folder, is an error naming it (unless ``allow_empty``);
    ``example`` is the layout the errors say was expected (``"<class>/<clip>.wav"``).

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("dog/a.png", "dog/deeper/b.PNG", "cat/c.png", "cat/notes.txt"):
    ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
    ...     open(os.path.join(root, name), "w").close()
    >>> [(os.path.relpath(p, root), i) for p, i in make_dataset(root, extensions=".png")]
    [('cat/c.png', 0), ('dog/a.png', 1), ('dog/deeper/b.PNG', 1)]
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory, example=example)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, extensions)

    samples, empty = [], []
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        if not os.path.isdir(folder) and not allow_empty:
            raise DatasetNotFoundError(f"{folder}: the folder of class {name!r} is missing "
                                       f"(expected {directory}/{example})")
        found = [os.path.join(dirpath, file) for dirpath, _, files in sorted(os.walk(folder, followlinks=True))
                 for file in sorted(files) if is_valid_file(os.path.join(dirpath, file))]
        if not found:
            empty.append(name)
        samples += [(path, class_to_idx[name]) for path in found]
    if empty and not allow_empty:
        raise FileNotFoundError(_no_files_message(directory, empty, extensions, example))
    return samples


def _no_files_message(directory: str, empty: list[str], extensions, example: str) -> str:
    # torchvision's message first (code matching it keeps working), then where Ember looked
    message = f"Found no valid file for the classes {', '.join(empty)}. "
    if extensions is not None:
        message += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
    else:
        message += "is_valid_file accepted none of their files"
    return message + (f" (in {directory}, expected {directory}/{example}; pass allow_empty=True to allow empty "
                      "classes)")


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
