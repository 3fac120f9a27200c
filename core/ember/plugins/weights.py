"""Pretrained weights: a :class:`Weights` record per file, grouped in a :class:`WeightsEnum` per model.

>>> class ToyMLP_Weights(WeightsEnum):
...     BLOBS_V1 = Weights(url="package://ember_toy/weights/mlp_blobs.ember", sha256="9f2c...", size=1234,
...                        meta={"categories": ["a", "b", "c"], "num_params": 387, "recipe": "...",
...                              "metrics": {"accuracy": 0.97}}, transforms=Standardize)
...     DEFAULT = BLOBS_V1
>>> state = ToyMLP_Weights.DEFAULT.get_state_dict()     # verified against the sha256, read by ember.load

Where a file lives (``url``):

* ``package://<package>/<resource>``: package data shipped with a plugin, used in place;
* ``file:///abs/path`` or a plain filesystem path: used in place;
* ``http(s)://...``: downloaded once into ``$EMBER_HOME/weights/<file name>`` (``EMBER_HOME`` defaults
  to ``~/.cache/ember``); ``EMBER_OFFLINE=1`` forbids downloading. A file can also be put at that
  path by hand.

Every load checks the size and the full sha256, and a mismatch names the file and the expected hash.
"""
from __future__ import annotations

import enum
import hashlib
import os
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["Weights", "WeightsEnum", "WeightsError", "WeightsNotFoundError", "ChecksumError", "ember_home",
           "sha256_file", "file_status"]

_REMOTE = ("http", "https", "ftp")


class WeightsError(RuntimeError):
    """A weights file could not be used."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """The file is not where it should be (and could not, or may not, be downloaded)."""


class ChecksumError(WeightsError):
    """The file's size or sha256 differs from the one recorded in its :class:`Weights`."""


def ember_home() -> Path:
    """Ember's cache directory: ``$EMBER_HOME``, default ``~/.cache/ember``."""
    return Path(os.environ.get("EMBER_HOME") or Path.home() / ".cache" / "ember").expanduser()


def _offline() -> bool:
    return os.environ.get("EMBER_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, eq=False, kw_only=True)
class Weights:
    """One weights file: where it is, its full sha256 and size, its metadata and preprocessing.

    ``meta`` holds what users need to judge the weights: ``categories`` (class names, which also
    give the number of classes), ``num_params``, ``dataset``, ``recipe`` (how to reproduce them:
    the training script and command) and ``metrics`` (``{"accuracy": 0.97}``). ``transforms`` is a
    callable returning the preprocessing that matches the weights (``weights.transforms()``).
    Weights compare by identity, so equal records in one enum stay distinct members.
    """

    url: str
    sha256: str
    size: int | None = None
    meta: dict = field(default_factory=dict)
    transforms: Callable[..., Any] | None = None

    def __post_init__(self):
        digest = self.sha256.lower() if isinstance(self.sha256, str) else None
        if digest is None or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"Weights({self.url!r}): sha256 must be the full 64-digit hex digest, got {self.sha256!r}")
        object.__setattr__(self, "sha256", digest)

    @property
    def num_classes(self) -> int | None:
        """Number of output classes: ``len(meta["categories"])`` or ``meta["num_classes"]``."""
        if self.meta.get("categories") is not None:
            return len(self.meta["categories"])
        n = self.meta.get("num_classes")
        return None if n is None else int(n)

    @property
    def file_name(self) -> str:
        return os.path.basename(urllib.parse.urlparse(self.url).path) or "weights"

    @property
    def is_remote(self) -> bool:
        return urllib.parse.urlparse(self.url).scheme in _REMOTE

    def path(self) -> Path:
        """Where the file is, or is expected (remote files: the cache path; nothing is downloaded)."""
        parsed = urllib.parse.urlparse(self.url)
        if parsed.scheme == "package":
            import importlib.resources
            try:
                root = importlib.resources.files(parsed.netloc)
            except ModuleNotFoundError as e:
                raise WeightsNotFoundError(f"weights {self.url}: package {parsed.netloc!r} is not installed") from e
            return Path(str(root.joinpath(*parsed.path.lstrip("/").split("/"))))
        if parsed.scheme == "file":
            return Path(urllib.request.url2pathname(parsed.path))
        if parsed.scheme in _REMOTE:
            return ember_home() / "weights" / self.file_name
        return Path(self.url).expanduser()

    def verify(self, path=None) -> Path:
        """Check the file's size and sha256; returns its path. Raises :class:`ChecksumError` naming the
        file and the expected hash on a mismatch, :class:`WeightsNotFoundError` if it is missing."""
        path = Path(path) if path is not None else self.path()
        if not path.is_file():
            raise WeightsNotFoundError(self._missing(path))
        size = path.stat().st_size
        if self.size is not None and size != self.size:
            raise ChecksumError(f"weights file {path} has {size} bytes, expected {self.size} "
                                f"(expected sha256 {self.sha256}); the file is truncated or not the right one")
        actual = sha256_file(path)
        if actual != self.sha256:
            raise ChecksumError(f"checksum mismatch for weights file {path}: expected sha256 {self.sha256}, "
                                f"got {actual}; delete the file to download it again, or fix the record")
        return path

    def fetch(self, progress: bool = False) -> Path:
        """The local path of the file, downloading it into the cache first if it is remote and missing."""
        path = self.path()
        if path.is_file() or not self.is_remote:
            if not path.is_file():
                raise WeightsNotFoundError(self._missing(path))
            return path
        if _offline():
            raise WeightsNotFoundError(f"EMBER_OFFLINE=1 forbids downloading {self.url}; expected the file at {path} "
                                       f"(sha256 {self.sha256}): copy it there, or unset EMBER_OFFLINE")
        _download(self.url, path, self.sha256, progress)
        return path

    def get_state_dict(self, progress: bool = False, check_hash: bool = True, map_location=None):
        """The state dict stored in the file (read with :func:`ember.load`), verified first."""
        from ..serialization import load
        path = self.fetch(progress)
        if check_hash:
            self.verify(path)
        return load(path, map_location=map_location)

    def _missing(self, path: Path) -> str:
        where = "the plugin's package data is incomplete; reinstall the plugin" if self.url.startswith("package:") \
            else "the file does not exist"
        return f"weights file not found: expected it at {path} (sha256 {self.sha256}); {where}"


class _Progress:
    """One progress line on stderr: what is fetched and where it goes, then the bytes so far.

    The line is rewritten in place on a terminal; in a log (not a terminal) only the first and the
    final state are written, so logs stay readable.
    """

    def __init__(self, what: str, total: int = 0):
        self.what, self.total, self.done = what, total, 0
        self.live = sys.stderr.isatty()
        size = f" ({total / 2 ** 20:.1f} MiB)" if total else ""
        print(f"{what}{size}", end="" if self.live else "\n", file=sys.stderr, flush=True)

    def _state(self) -> str:
        pct = f" {100 * self.done // self.total}%" if self.total else ""
        return f"{self.done / 2 ** 20:.1f} MiB{pct}"

    def update(self, n: int) -> None:
        self.done += n
        if self.live:
            print(f"\r{self.what}: {self._state()}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(f"\r{self.what}: {self._state()}, done" if self.live else f"  done: {self._state()}",
              file=sys.stderr, flush=True)


def _download(url: str, dest: Path, sha256: str, progress: bool) -> None:
    """Download to a temporary file next to ``dest``, check the hash, then rename into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                resp = urllib.request.urlopen(url, timeout=60)
            except OSError as e:
                raise WeightsNotFoundError(f"could not download {url} ({e}); expected the file at {dest} "
                                           f"(sha256 {sha256}): download it there by hand") from e
            with resp:
                total = int(resp.headers.get("Content-Length") or 0)
                report = _Progress(f"Downloading {url} to {dest}", total) if progress else None
                while block := resp.read(1 << 20):
                    out.write(block)
                    h.update(block)
                    if report is not None:
                        report.update(len(block))
            if report is not None:
                report.close()
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha256:
            raise ChecksumError(f"checksum mismatch for weights downloaded from {url} (for {dest}): expected sha256 "
                                f"{sha256}, got {h.hexdigest()}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class WeightsEnum(enum.Enum):
    """Base of a model's weights enum: members are :class:`Weights`; define ``DEFAULT = <member>``.

    >>> ToyMLP_Weights.DEFAULT.meta["metrics"]
    >>> ToyMLP_Weights.verify("ToyMLP_Weights.BLOBS_V1") is ToyMLP_Weights.BLOBS_V1
    """

    def __init__(self, value):
        if not isinstance(value, Weights):
            raise TypeError(f"{type(self).__name__}.{self._name_}: members of a WeightsEnum must be Weights records, "
                            f"got {type(value).__name__}")

    @classmethod
    def verify(cls, obj):
        """``None``, a member, ``"DEFAULT"``, ``"MEMBER"`` or ``"<EnumName>.MEMBER"`` -> member (or None)."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            key = obj[len(cls.__name__) + 1:] if obj.startswith(cls.__name__ + ".") else obj
            try:
                return cls[key]
            except KeyError:
                raise ValueError(f"unknown weights {obj!r} for {cls.__name__}; expected one of "
                                 f"{', '.join(cls.__members__)}") from None
        raise TypeError(f"expected {cls.__name__}, one of its member names or None, got {obj!r}")

    def get_state_dict(self, progress: bool = False, check_hash: bool = True, map_location=None):
        """Load the state dict (downloading to ``$EMBER_HOME`` if needed, verifying the sha256)."""
        return self.value.get_state_dict(progress=progress, check_hash=check_hash, map_location=map_location)

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def sha256(self) -> str:
        return self.value.sha256

    @property
    def size(self):
        return self.value.size

    @property
    def meta(self) -> dict:
        return self.value.meta

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def num_classes(self):
        return self.value.num_classes

    def path(self) -> Path:
        return self.value.path()

    def verify_file(self) -> Path:
        return self.value.verify()

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"


def file_status(weights: Weights | WeightsEnum) -> str:
    """Where a weights file stands, without reading it: ``"downloaded"`` (a remote file, in the cache),
    ``"installed"`` (package data or a local file, present) or ``"missing"``.

    >>> file_status(ToyMLP_Weights.DEFAULT)
    'installed'
    """
    w = weights.value if isinstance(weights, WeightsEnum) else weights
    try:
        path = w.path()
    except WeightsError:   # e.g. package data of a package that is not installed
        return "missing"
    if not path.is_file():
        return "missing"
    return "downloaded" if w.is_remote else "installed"
