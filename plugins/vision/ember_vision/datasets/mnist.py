"""MNIST and its relatives (Fashion-MNIST, KMNIST, EMNIST), read from IDX files.

On disk as in torchvision: ``root/<ClassName>/raw/<file>``, each file gzip-compressed or not
(``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz``). IDX files are validated as they are
read (magic number, dimension count, sizes against the file's length, images against labels, label
range), and a malformed file raises :class:`DatasetFormatError` naming the file and the problem.
"""
from __future__ import annotations

import gzip
import io as _io
import math
import os
import shutil
import string
import zlib
from typing import Any

import numpy as np

import ember

from .utils import (DatasetFormatError, DatasetNotFoundError, extract_archive, fetch_files, local_search_dirs,
                    missing_files_hint, verify_str_arg)
from .vision import SplitDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "read_idx", "read_image_file", "read_label_file"]

# IDX: a big-endian int32 magic number 0x0000TTDD (TT: element type, DD: number of dimensions), DD
# big-endian int32 sizes, then the elements, big-endian, in C order.
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
LABELS_MAGIC = 0x0801  # 2049: unsigned bytes, 1 dimension
IMAGES_MAGIC = 0x0803  # 2051: unsigned bytes, 3 dimensions
_KIND = {LABELS_MAGIC: "labels", IMAGES_MAGIC: "images"}
_MAX_DIMS = 64  # NumPy's limit (the format allows 255)


def _describe_magic(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    kind = _IDX_TYPES[code].name if code in _IDX_TYPES else f"unknown type 0x{code:02x}"
    return f"{kind}, {ndim} dimension{'s' if ndim != 1 else ''}"


# The most bytes one byte of deflate data can expand to (1032:1), and how many unexpected trailing
# bytes of a gzip-compressed IDX file are kept to report the size mismatch exactly.
_DEFLATE_MAX_RATIO = 1032
_SLACK = 1 << 20


def _read_maybe_gzip(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip, whatever the name says (an IDX file starts with two zero bytes)
        return _gunzip_idx(raw, path)
    return raw


def _declared_size(head: bytes) -> int | None:
    """The total size (header and data) an IDX header declares, or None if ``head`` isn't a complete,
    valid header (the parser then reports what is wrong with it)."""
    if len(head) < 4 or head[0] or head[1] or head[2] not in _IDX_TYPES or not head[3]:
        return None
    header = 4 + 4 * head[3]
    if len(head) < header:
        return None
    shape = [int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(head[3])]
    return header + math.prod(shape) * _IDX_TYPES[head[2]].itemsize


def _gunzip_idx(raw: bytes, path: str) -> bytes:
    """Decompress a gzip-compressed IDX file without trusting its header: the data it declares is
    checked against what the compressed size can hold before it is decompressed, so a corrupt size
    field (or a gzip bomb) can't exhaust memory. Reads to the end, which checks the gzip CRC."""
    try:
        with gzip.GzipFile(fileobj=_io.BytesIO(raw)) as g:
            data = g.read(4)
            if len(data) == 4:
                data += g.read(4 * data[3])
            total = _declared_size(data)
            if total is not None:
                if total > len(raw) * _DEFLATE_MAX_RATIO + 1024:
                    raise DatasetFormatError(f"malformed IDX file {path!r}: the header declares {total} bytes, more "
                                             f"than the {len(raw)}-byte gzip file can hold")
                data += g.read(total - len(data))
            data += g.read(_SLACK)
            more = 0
            while chunk := g.read(_SLACK):
                more += len(chunk)
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetFormatError(f"{path!r}: corrupt or truncated gzip data ({e})") from None
    if more and total is not None:  # (with a bad header, the parser reports the header instead)
        raise DatasetFormatError(f"malformed IDX file {path!r}: size mismatch ({len(data) + more - total} "
                                 "unexpected trailing bytes)")
    return data


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) as a NumPy array in native byte order.

    ``expected_magic`` (e.g. ``2049`` for labels, ``2051`` for images) fixes the element type and
    number of dimensions. Raises :class:`DatasetFormatError` naming the file and the problem; sizes
    are checked before anything is allocated (for gzip files, against what the compressed data can hold).

    >>> read_idx("MNIST/raw/t10k-labels-idx1-ubyte.gz", 2049).shape  # doctest: +SKIP
    (10000,)
    """
    path = os.fspath(path)
    raw = _read_maybe_gzip(path)

    def bad(problem: str) -> DatasetFormatError:
        return DatasetFormatError(f"malformed IDX file {path!r}: {problem}")

    if len(raw) < 4:
        raise bad(f"too short for an IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] or raw[1]:
        raise bad(f"bad magic number 0x{magic:08x}: not an IDX file (its first two bytes must be zero)")
    if expected_magic is not None and magic != expected_magic:
        hint = ""
        if magic in _KIND and expected_magic in _KIND:
            hint = f"; the file holds {_KIND[magic]}, not {_KIND[expected_magic]} (were the files swapped?)"
        raise bad(f"bad magic number {magic} ({_describe_magic(magic)}); expected {expected_magic} "
                  f"({_describe_magic(expected_magic)}){hint}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise bad(f"unknown element type 0x{code:02x} in magic number 0x{magic:08x}")
    if ndim == 0:
        raise bad("the header declares 0 dimensions")
    if ndim > _MAX_DIMS:
        raise bad(f"the header declares {ndim} dimensions; at most {_MAX_DIMS} are supported")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise bad(f"truncated header: {ndim} dimensions need {header} bytes, the file has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[code]
    need, have = math.prod(shape) * dtype.itemsize, len(raw) - header
    if have != need:
        what = "truncated" if have < need else f"{have - need} unexpected trailing bytes"
        raise bad(f"size mismatch ({what}): the header declares {' x '.join(map(str, shape))} {dtype.name} "
                  f"= {need} bytes of data, the file holds {have}")
    arr = np.frombuffer(raw, dtype, count=math.prod(shape), offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))  # an owned, writable, native-order copy


def read_label_file(path: str | os.PathLike) -> ember.Tensor:
    """An IDX labels file (magic 2049) as an int64 tensor."""
    return ember.from_numpy(read_idx(path, LABELS_MAGIC).astype(np.int64))


def read_image_file(path: str | os.PathLike) -> ember.Tensor:
    """An IDX images file (magic 2051) as a uint8 tensor ``(N, H, W)``."""
    return ember.from_numpy(read_idx(path, IMAGES_MAGIC))


class _GrayImages(SplitDataset):
    """Shared by MNIST-style datasets: ``data`` (uint8 ``(N, H, W)``) and ``targets`` (int64 ``(N,)``)
    tensors; a sample is a PIL image of mode ``"L"`` and an ``int`` target."""

    classes: list[str]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: a PIL image (mode ``"L"``) and the class index (an ``int``)."""
        from PIL import Image
        pixels = self.data[index]  # ``data`` may have been replaced by a NumPy array
        pixels = pixels.numpy() if isinstance(pixels, ember.Tensor) else np.asarray(pixels)
        img = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))  # 2-D uint8: mode "L"
        return self._apply_transforms(img, int(self.targets[index]))


class MNIST(_GrayImages):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_ handwritten digits (torchvision's ``MNIST``).

    Args:
        root: directory holding ``MNIST/raw/`` (the IDX files, gzip-compressed or not).
        train: the training set (60,000 images) or else the test set (10,000).
        transform: applied to the PIL image (mode ``"L"``).
        target_transform: applied to the target (an ``int``).
        download: fetch missing files: first from local copies (``$EMBER_DATA_PATH`` and the
            class's ``local_dirs``), then from the ``mirrors``, checking md5s.

    ``data`` is a uint8 tensor ``(N, H, W)``, ``targets`` an int64 tensor ``(N,)``.

    >>> ds = MNIST("data", train=False, download=True)  # doctest: +SKIP
    >>> img, target = ds[0]  # doctest: +SKIP
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    #: md5 of each file's uncompressed content: recognises recompressed or uncompressed local copies.
    raw_md5 = {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    #: Directories searched for the raw files before downloading (after ``$EMBER_DATA_PATH``).
    local_dirs: tuple[str, ...] = ()

    # -- files ------------------------------------------------------------------------------------
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "processed")

    def _split_files(self) -> tuple[str, str]:
        """Names (uncompressed) of this split's images and labels files."""
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _find(self, name: str) -> str | None:
        """``raw_folder/name``, else ``raw_folder/name.gz``, else None."""
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self) -> bool:
        return all(self._find(_stem(f)) for f, _ in self.resources)

    def _not_found(self, names) -> DatasetNotFoundError:
        expected = [f"{n}  (or {n}.gz)" for n in names]
        return DatasetNotFoundError(
            f"{type(self).__name__}: dataset not found in {self.raw_folder}. Use download=True to get it "
            f"(local copies are used first), or put the files there yourself.\n"
            + missing_files_hint(self.raw_folder, expected, local_search_dirs(self.local_dirs)))

    def download(self) -> None:
        """Get every missing file of ``resources`` (local copies first, then the mirrors); gzip files
        are also extracted, as torchvision does."""
        if self._check_exists():
            return
        missing = [(f, md5) for f, md5 in self.resources if not self._find(_stem(f))]
        os.makedirs(self.raw_folder, exist_ok=True)
        content = {f: self.raw_md5[_stem(f)] for f, _ in missing if _stem(f) in self.raw_md5}
        expected = [f"{f}  (or {_stem(f)})" for f, _ in missing]
        for path in fetch_files(type(self).__name__, missing, self.raw_folder, self.mirrors, self.local_dirs,
                                content_md5=content, expected=expected):
            if path.endswith(".gz"):
                extract_archive(path, self.raw_folder)

    # -- data -------------------------------------------------------------------------------------
    def _load(self) -> None:
        self.data, self.targets = self._load_data()

    def _load_data(self) -> tuple[ember.Tensor, ember.Tensor]:
        names = self._split_files()
        paths = [self._find(n) for n in names]
        if not all(paths):
            raise self._not_found([n for n, p in zip(names, paths) if p is None])
        image_path, label_path = paths
        images = read_idx(image_path, IMAGES_MAGIC)
        labels = read_idx(label_path, LABELS_MAGIC)
        if len(images) != len(labels):
            raise DatasetFormatError(f"{type(self).__name__}: {len(images)} images in {image_path!r} but "
                                     f"{len(labels)} labels in {label_path!r}")
        if labels.size and labels.max() >= len(self.classes):
            raise DatasetFormatError(f"{type(self).__name__}: {label_path!r} holds label {int(labels.max())}, "
                                     f"but the dataset has only {len(self.classes)} classes")
        return ember.from_numpy(images), ember.from_numpy(labels.astype(np.int64))


def _stem(filename: str) -> str:
    return filename[:-3] if filename.endswith(".gz") else filename


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_: Zalando's article images,
    same layout as :class:`MNIST` (``root/FashionMNIST/raw``).

    ``download=True`` first copies the files installed by the Debian package
    ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) when they are there: Debian
    recompressed them, so they are verified by the md5 of their content (``raw_md5``).
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    raw_md5 = {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    local_dirs = ("/usr/share/datasets/fashion-mnist", "/usr/share/dataset-fashion-mnist", "/usr/share/fashion-mnist")


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_: cursive Japanese characters, same layout
    as :class:`MNIST` (``root/KMNIST/raw``)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    raw_md5: dict[str, str] = {}
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """`EMNIST <https://www.nist.gov/itl/products-and-services/emnist-dataset>`_: handwritten letters and
    digits, in six splits: ``byclass``, ``bymerge``, ``balanced``, ``letters``, ``digits``, ``mnist``.

    Files: ``root/EMNIST/raw/emnist-<split>-<train|test>-<images-idx3|labels-idx1>-ubyte[.gz]``. As in
    torchvision the images are stored transposed (as NIST distributes them). ``download=True`` fetches
    the whole 536 MB archive once.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # Letters whose upper and lower case look alike are merged in "bymerge" and "balanced".
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root: str | os.PathLike, split: str, **kwargs: Any) -> None:
        self.split = verify_str_arg(split, "split", self.splits)
        self.classes = self.classes_split_dict[self.split]
        super().__init__(root, **kwargs)

    def _split_files(self) -> tuple[str, str]:
        prefix = f"emnist-{self.split}-{'train' if self.train else 'test'}"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _check_exists(self) -> bool:
        return all(self._find(n) for n in self._split_files())

    def download(self) -> None:
        """Fetch and unpack NIST's archive (``gzip/emnist-*.gz`` inside) unless this split is present."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        try:
            archive, = fetch_files(type(self).__name__, [(os.path.basename(self.url), self.md5)], self.raw_folder,
                                   [self.url.rsplit("/", 1)[0] + "/"], self.local_dirs)
        except DatasetNotFoundError as e:
            names = [f"{n}  (or {n}.gz)" for n in self._split_files()]
            raise DatasetNotFoundError(f"{e}\n" + missing_files_hint(
                self.raw_folder, names, header="Or put this split's files there directly:", data_path=False)) from None
        extract_archive(archive, self.raw_folder)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        if not os.path.isdir(gzip_folder):
            raise DatasetFormatError(f"{archive!r}: expected a 'gzip' folder of emnist-*.gz files in the archive")
        for name in sorted(os.listdir(gzip_folder)):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
        shutil.rmtree(gzip_folder)
        if not self._check_exists():
            raise DatasetFormatError(f"{archive!r} holds no {' or '.join(self._split_files())} (.gz)")
