"""CIFAR-10 and CIFAR-100 in their "python version" layout, read without running pickled code.

The batch files are pickles (protocol 2, written by Python 2) of dicts holding a NumPy uint8 array.
They are read with the restricted unpickler that ``ember.load`` uses for PyTorch checkpoints, given
its own allow-list: the few NumPy globals that rebuild a plain numeric array
(``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype``) and the latin-1
``_codecs.encode`` that protocol 2 uses for bytes. Anything else is refused with
:class:`ember.serialization.UnsafeUnpicklingError` before it is called; object arrays are refused too.
"""
from __future__ import annotations

import io
import math
import os
import pickle
import types
from typing import Any, Callable

import numpy as np

from ember.serialization import UnsafeUnpicklingError
from ember.serialization._torch import _latin1_encode
from ember.serialization._torch import _Unpickler as _RestrictedUnpickler

from .utils import (DatasetFormatError, DatasetNotFoundError, check_integrity, extract_archive, fetch_files,
                    missing_files_hint)
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "load_cifar_pickle"]

_NDARRAY = object()  # what the global ``numpy.ndarray`` resolves to: only a marker for _reconstruct
# Plain numeric element types (no objects, strings, records or subarrays).
_NUMERIC = frozenset({"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"})


class _DType:
    """Stands for ``numpy.dtype(spec)`` until the pickle's BUILD sets its byte order: the real dtype
    objects are shared singletons, so their state is never set from a file."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype


def _dtype(spec, align=False, copy=False) -> _DType:
    if type(spec) is not str or spec not in _NUMERIC:
        raise UnsafeUnpicklingError(f"refused numpy dtype {spec!r}: only plain numeric dtypes are allowed")
    return _DType(np.dtype(spec))


class _CifarUnpickler(_RestrictedUnpickler):
    """The checkpoint reader's restricted unpickler with the allow-list of NumPy arrays."""

    dispatch = dict(_RestrictedUnpickler.dispatch)

    def __init__(self, file, name: str):
        super().__init__(file, types.SimpleNamespace(name=name), encoding="latin1")
        self.name = name
        self._fresh: dict[int, np.ndarray] = {}  # arrays made by _reconstruct, not yet given their state

    def find_class(self, module, name):
        allowed = {
            ("numpy.core.multiarray", "_reconstruct"): self._reconstruct,  # written by NumPy 1.x
            ("numpy._core.multiarray", "_reconstruct"): self._reconstruct,  # written by NumPy 2.x
            ("numpy", "ndarray"): _NDARRAY,
            ("numpy", "dtype"): self._dtype,
            ("_codecs", "encode"): _latin1_encode,
        }
        found = allowed.get((module, name))
        if found is None:
            raise UnsafeUnpicklingError(
                f"{self.name}: refused to load global '{module}.{name}': CIFAR batches are read with a restricted "
                "unpickler that only rebuilds plain containers and numeric NumPy arrays, and never runs code "
                "from a file")
        return found

    def _dtype(self, spec, align=False, copy=False) -> _DType:
        try:
            return _dtype(spec, align, copy)
        except UnsafeUnpicklingError as e:
            raise UnsafeUnpicklingError(f"{self.name}: {e}") from None

    def persistent_load(self, pid):
        raise UnsafeUnpicklingError(f"{self.name}: unexpected persistent id {pid!r:.80} in a CIFAR batch")

    def _reconstruct(self, cls, shape, typecode):
        """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``: a fresh, empty array."""
        if cls is not _NDARRAY or tuple(shape) != (0,):
            raise UnsafeUnpicklingError(f"{self.name}: refused _reconstruct({cls!r:.40}, {shape!r:.40}, ...)")
        arr = np.ndarray((0,), np.uint8)
        self._fresh[id(arr)] = arr
        return arr

    def _load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is _DType:
            inst.dtype = self._dtype_state(inst.dtype, state)
        elif type(inst) is np.ndarray and self._fresh.get(id(inst)) is inst:
            del self._fresh[id(inst)]
            inst.__setstate__(self._array_state(state))
        else:
            raise UnsafeUnpicklingError(f"{self.name}: refused to set the state of a {type(inst).__name__} "
                                        "object (pickle BUILD)")

    dispatch[pickle.BUILD[0]] = _load_build

    def _dtype_state(self, dtype: np.dtype, state) -> np.dtype:
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if (type(state) is not tuple or len(state) not in (8, 9) or state[0] not in (3, 4)
                or state[1] not in ("|", "<", ">", "=") or any(v is not None for v in state[2:5] + state[8:])):
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy dtype state {state!r:.120}")
        return dtype.newbyteorder(state[1]) if state[1] in "<>" and dtype.itemsize > 1 else dtype

    def _array_state(self, state) -> tuple:
        # (version, shape, dtype, is_fortran, raw data); very old pickles omit the version
        if type(state) is tuple and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if type(state) is not tuple or len(state) != 4:
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy array state {state!r:.120}")
        shape, dtype, fortran, raw = state
        if type(raw) is str:  # Python 2's str, decoded as latin-1
            raw = raw.encode("latin1")
        if (type(shape) is not tuple or not all(type(n) is int and n >= 0 for n in shape) or type(dtype) is not _DType
                or type(fortran) not in (bool, int) or type(raw) not in (bytes, bytearray)):
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy array state {state!r:.120}")
        need = math.prod(shape) * dtype.dtype.itemsize
        if len(raw) != need:
            raise DatasetFormatError(f"{self.name}: array of shape {shape} and dtype {dtype.dtype} needs {need} "
                                     f"bytes, the file holds {len(raw)}")
        return 1, shape, dtype.dtype, bool(fortran), raw


def load_cifar_pickle(path: str | os.PathLike) -> Any:
    """Unpickle a CIFAR batch or meta file with the restricted unpickler (see the module docstring)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        return _CifarUnpickler(io.BytesIO(data), repr(path)).load()
    except (UnsafeUnpicklingError, DatasetFormatError):
        raise
    except Exception as e:  # truncated data, bad opcodes, wrong call arguments...
        raise DatasetFormatError(f"{path!r}: not a valid CIFAR pickle ({type(e).__name__}: {e})") from None


class CIFAR10(VisionDataset):
    """`CIFAR-10 <https://www.cs.toronto.edu/~kriz/cifar.html>`_ (torchvision's ``CIFAR10``).

    Args:
        root: directory holding ``cifar-10-batches-py/`` (``data_batch_1`` ... ``data_batch_5``,
            ``test_batch``, ``batches.meta``).
        train: the 50,000 training images, else the 10,000 test images.
        transform, target_transform: applied to the PIL image (``"RGB"``) and to the ``int`` target.
        download: fetch and unpack the archive (md5-checked) when files are missing.

    ``data`` is a uint8 NumPy array ``(N, 32, 32, 3)`` and ``targets`` a list of ints, as in torchvision.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    labels_key = "labels"
    num_classes = 10
    local_dirs: tuple[str, ...] = ()

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        if root is None:
            raise TypeError(f"{type(self).__name__}: root must be a path, got None")
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        missing = [n for n in self._needed() if not os.path.isfile(os.path.join(self._folder, n))]
        if missing:
            raise DatasetNotFoundError(
                f"{type(self).__name__}: dataset not found in {self._folder}. Use download=True to get it, or "
                f"unpack {self.url} into {self.root}.\n" + missing_files_hint(self._folder, missing, data_path=False))
        self._load_meta()
        data, targets = [], []
        for name, _ in (self.train_list if self.train else self.test_list):
            images, labels = self._load_batch(os.path.join(self._folder, name))
            data.append(images)
            targets.extend(labels)
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # to HWC
        self.targets = targets

    @property
    def _folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    def _needed(self) -> list[str]:
        return [n for n, _ in (self.train_list if self.train else self.test_list)] + [self.meta["filename"]]

    def _load_meta(self) -> None:
        path = os.path.join(self._folder, self.meta["filename"])
        entry = load_cifar_pickle(path)
        names = entry.get(self.meta["key"]) if type(entry) is dict else None
        if (not isinstance(names, list) or len(names) != self.num_classes
                or not all(isinstance(n, str) for n in names)):
            raise DatasetFormatError(f"{path!r}: expected a dict whose {self.meta['key']!r} is a list of "
                                     f"{self.num_classes} class names")
        self.classes = names
        self.class_to_idx = {c: i for i, c in enumerate(names)}

    def _load_batch(self, path: str) -> tuple[np.ndarray, list[int]]:
        entry = load_cifar_pickle(path)
        if type(entry) is not dict or "data" not in entry or self.labels_key not in entry:
            raise DatasetFormatError(f"{path!r}: expected a dict with 'data' and {self.labels_key!r}")
        images, labels = entry["data"], entry[self.labels_key]
        if type(images) is not np.ndarray or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
            got = (f"{images.dtype} array of shape {images.shape}" if isinstance(images, np.ndarray)
                   else type(images).__name__)
            raise DatasetFormatError(f"{path!r}: 'data' must be a uint8 array of shape (N, 3072), got {got}")
        if not isinstance(labels, list) or not all(type(v) is int for v in labels):
            raise DatasetFormatError(f"{path!r}: {self.labels_key!r} must be a list of ints")
        if len(labels) != len(images):
            raise DatasetFormatError(f"{path!r}: {len(images)} images but {len(labels)} labels")
        if labels and not 0 <= min(labels) <= max(labels) < self.num_classes:
            raise DatasetFormatError(f"{path!r}: labels must lie in [0, {self.num_classes}), got "
                                     f"{min(labels)}..{max(labels)}")
        return images, labels

    def _check_integrity(self) -> bool:
        """True when every file of both splits has its published md5."""
        files = self.train_list + self.test_list + [[self.meta["filename"], self.meta["md5"]]]
        return all(check_integrity(os.path.join(self._folder, n), md5) for n, md5 in files)

    def download(self) -> None:
        """Get the archive (a local copy from ``$EMBER_DATA_PATH`` / ``local_dirs`` first, else ``url``;
        md5-checked) and unpack it, unless all files are present with their published md5s."""
        if self._check_integrity():
            return
        try:
            archive, = fetch_files(type(self).__name__, [(self.filename, self.tgz_md5)], self.root,
                                   [self.url.rsplit("/", 1)[0] + "/"], self.local_dirs)
        except DatasetNotFoundError as e:
            raise DatasetNotFoundError(f"{e}\n" + missing_files_hint(
                self._folder, self._needed(), header="Or unpack it yourself, so that these files exist:",
                data_path=False)) from None
        extract_archive(archive, self.root)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: a PIL image (mode ``"RGB"``, 32x32) and the class index."""
        from PIL import Image
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """`CIFAR-100 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: as :class:`CIFAR10` with 100 classes
    (the "fine" labels), in ``cifar-100-python/`` (``train``, ``test``, ``meta``)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    labels_key = "fine_labels"
    num_classes = 100
