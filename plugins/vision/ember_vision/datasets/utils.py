"""Getting dataset files: checksums, downloads, archives and well-known local copies.

``download=True`` never goes to the network first: :func:`fetch_files` copies a file from a local
directory when one holds it (``EMBER_DATA_PATH``, then the dataset's ``local_dirs``, e.g. where the
Debian package ``dataset-fashion-mnist`` installs Fashion-MNIST), checking its md5, and only then
tries the dataset's mirrors. When nothing works the error lists every expected file, where it must
go and what was tried.
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import http.client
import lzma
import os
import secrets
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from typing import Iterable, Mapping, Sequence

from ember.plugins.datasets import DatasetFormatError, DatasetNotFoundError

__all__ = ["DatasetNotFoundError", "DatasetFormatError", "calculate_md5", "check_md5", "check_integrity",
           "download_url", "extract_archive", "download_and_extract_archive", "verify_str_arg", "fetch_files",
           "local_search_dirs"]

#: Directories (separated by ``os.pathsep``) searched for dataset files before the built-in locations.
DATA_PATH_ENV = "EMBER_DATA_PATH"
_TIMEOUT = 30.0
_CHUNK = 1 << 20


def calculate_md5(fpath: str | os.PathLike, chunk_size: int = _CHUNK) -> str:
    """The md5 hex digest of a file."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str | os.PathLike, md5: str, **kwargs) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: str | os.PathLike, md5: str | None = None) -> bool:
    """True when ``fpath`` is a file and (if ``md5`` is given) has that md5."""
    return os.path.isfile(fpath) and (md5 is None or check_md5(fpath, md5))


def verify_str_arg(value: str, arg: str | None = None, valid_values: Iterable[str] | None = None) -> str:
    """``value`` if it is one of ``valid_values`` (torchvision's check for ``split=`` and the like)."""
    if not isinstance(value, str):
        raise ValueError(f"Expected type str for argument {arg}, but got type {type(value).__name__}.")
    if valid_values is not None and value not in valid_values:
        valid = ", ".join(repr(v) for v in valid_values)
        raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are {{{valid}}}.")
    return value


def local_search_dirs(own: Sequence[str] = ()) -> list[str]:
    """Where :func:`fetch_files` looks before downloading: ``$EMBER_DATA_PATH``, then ``own``."""
    env = [d for d in os.environ.get(DATA_PATH_ENV, "").split(os.pathsep) if d]
    return [os.path.expanduser(d) for d in (*env, *own)]


# ---- network ----------------------------------------------------------------------------------------

def _urlopen(url: str, timeout: float):
    """The single place that touches the network (tests replace it)."""
    request = urllib.request.Request(url, headers={"User-Agent": "ember-vision"})
    return urllib.request.urlopen(request, timeout=timeout)


def _atomic_copy(write, path: str) -> None:
    """Write a file through ``write(f)`` into a temporary file next to ``path``, then rename it."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the usual permissions (umask applies)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class _HashingWriter:
    """A file wrapper computing the md5 of what goes through it (so a copy is read only once)."""

    def __init__(self, f):
        self.f, self.md5 = f, hashlib.md5(usedforsecurity=False)

    def write(self, b) -> int:
        self.md5.update(b)
        return self.f.write(b)


def _verified_copy(write, path: str, md5: str | None, source: str) -> None:
    """Like :func:`_atomic_copy`, but the file only lands at ``path`` if its md5 matches."""
    def checked(f):
        hashing = _HashingWriter(f)
        write(hashing)
        got = hashing.md5.hexdigest()
        if md5 is not None and got != md5:
            raise RuntimeError(f"{source}: checksum mismatch (md5 {got}, expected {md5})")
    _atomic_copy(checked, path)


def download_url(url: str, root: str | os.PathLike, filename: str | None = None, md5: str | None = None,
                 timeout: float = _TIMEOUT) -> str:
    """Download ``url`` to ``root/filename`` (kept when it is already there with the right md5).

    The file is written under a temporary name and only renamed into place once its md5 matches.
    Raises :class:`urllib.error.URLError` / :class:`OSError` when the download fails and
    :class:`RuntimeError` on a checksum mismatch.
    """
    path = os.path.join(os.path.expanduser(os.fspath(root)), filename or os.path.basename(url))
    if check_integrity(path, md5):
        return path
    with _urlopen(url, timeout) as response:
        _verified_copy(lambda f: shutil.copyfileobj(response, f, _CHUNK), path, md5, url)
    return path


# ---- archives ---------------------------------------------------------------------------------------

_COMPRESSED = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}


def _safe_extract_tar(path: str, to_path: str) -> None:
    with tarfile.open(path) as tar:
        # The "data" filter refuses absolute paths, ".." and links leaving to_path (CVE-2007-4559).
        tar.extractall(to_path, filter="data")


def _safe_extract_zip(path: str, to_path: str) -> None:
    root = os.path.realpath(to_path)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            target = os.path.realpath(os.path.join(root, name))
            if os.path.commonpath([root, target]) != root:
                raise DatasetFormatError(f"{path!r}: refusing to extract {name!r} outside {to_path!r}")
        archive.extractall(root)


def extract_archive(from_path: str | os.PathLike, to_path: str | os.PathLike | None = None,
                    remove_finished: bool = False) -> str:
    """Extract a ``.tar(.gz|.xz|.bz2)``, ``.tgz`` or ``.zip`` archive, or decompress a single
    ``.gz``/``.xz``/``.bz2`` file, into ``to_path`` (default: the archive's folder). Returns ``to_path``."""
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    os.makedirs(to_path, exist_ok=True)
    name = os.path.basename(from_path)
    if name.endswith((".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2")):
        _safe_extract_tar(from_path, to_path)
    elif name.endswith(".zip"):
        _safe_extract_zip(from_path, to_path)
    else:
        stem, ext = os.path.splitext(name)
        if ext not in _COMPRESSED:
            raise DatasetFormatError(f"{from_path!r}: unknown archive type (expected .tar, .tgz, .tar.gz, "
                                     ".zip, .gz, .xz or .bz2)")
        try:
            with _COMPRESSED[ext](from_path, "rb") as src:
                _atomic_copy(lambda f: shutil.copyfileobj(src, f, _CHUNK), os.path.join(to_path, stem))
        except (OSError, EOFError, lzma.LZMAError) as e:
            raise DatasetFormatError(f"{from_path!r}: corrupt {ext} file ({type(e).__name__}: {e})") from None
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url: str, download_root: str | os.PathLike,
                                 extract_root: str | os.PathLike | None = None, filename: str | None = None,
                                 md5: str | None = None, remove_finished: bool = False) -> None:
    """:func:`download_url` then :func:`extract_archive` (into ``extract_root``, default ``download_root``)."""
    path = download_url(url, download_root, filename, md5)
    extract_archive(path, download_root if extract_root is None else extract_root, remove_finished)


# ---- getting a dataset's files ----------------------------------------------------------------------

def fetch_files(dataset: str, files: Sequence[tuple[str, str | None]], folder: str, mirrors: Sequence[str] = (),
                local_dirs: Sequence[str] = (), content_md5: Mapping[str, str] | None = None,
                expected: Sequence[str] = ()) -> list[str]:
    """Put each ``(filename, md5)`` of ``files`` into ``folder``; returns the paths of the files.

    A file already in ``folder`` with the right md5 is kept. Otherwise it is copied from the first
    of :func:`local_search_dirs` (``$EMBER_DATA_PATH``, then ``local_dirs``; each directory is also
    searched as ``<dir>/<dataset>/raw``) holding a verified copy, else downloaded from the first
    mirror that works (``mirror + filename``), md5-checked.

    ``content_md5`` maps a compressed file's name to the md5 of its *decompressed* content: a local
    copy that was recompressed (as Debian's packages are: same data, different gzip header) is then
    recognised, and a local uncompressed copy is taken as the uncompressed file (returned path
    without the ``.gz``).

    If some file can't be had, raises :class:`DatasetNotFoundError` naming every file still missing
    (``expected``: how to describe the files the dataset needs; default the names in ``files``),
    where to put them and what was tried.
    """
    dirs = local_search_dirs(local_dirs)
    content_md5 = content_md5 or {}
    paths, failures, unreachable = [], [], set()
    for filename, md5 in files:
        path = os.path.join(folder, filename)
        tried: list[str] = []
        got = path if check_integrity(path, md5) else _copy_local(
            filename, md5, content_md5.get(filename), folder, dataset, dirs, tried)
        for mirror in mirrors if got is None else ():
            url = mirror + filename
            if mirror in unreachable:  # don't wait for a dead host's timeout once per file
                tried.append(f"{url}: skipped ({mirror} was unreachable)")
                continue
            try:
                got = download_url(url, folder, filename, md5)
                break
            except (OSError, RuntimeError, ValueError, http.client.HTTPException) as e:  # URLError is an OSError
                tried.append(f"{url}: {type(e).__name__}: {e}")
                if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
                    unreachable.add(mirror)
        if got is None:
            failures.append((filename, tried))
        else:
            paths.append(got)
    if failures:
        lines = [f"{dataset}: could not get {', '.join(f for f, _ in failures)}."]
        for filename, tried in failures:
            lines.append(f"  {filename}:")
            lines += [f"    - {t}" for t in tried]
        lines.append(missing_files_hint(folder, expected or [f for f, _ in files], dirs))
        raise DatasetNotFoundError("\n".join(lines))
    return paths


def _content_md5(path: str) -> str | None:
    """The md5 of a compressed file's decompressed content (None if it can't be decompressed)."""
    opener = _COMPRESSED.get(os.path.splitext(path)[1])
    if opener is None:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with opener(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, lzma.LZMAError):
        return None
    return digest.hexdigest()


def _copy_local(filename: str, md5: str | None, content_md5: str | None, folder: str, dataset: str,
                dirs: Sequence[str], tried: list[str]) -> str | None:
    """Copy a verified local copy of ``filename`` into ``folder``; returns its new path, or None."""
    stem, ext = os.path.splitext(filename)
    names = [filename] + ([stem] if content_md5 and ext in _COMPRESSED else [])
    found = False
    for d in dirs:
        for name in names:
            for source in (os.path.join(d, name), os.path.join(d, dataset, "raw", name)):
                target = os.path.join(folder, name)
                if not os.path.isfile(source) or os.path.realpath(source) == os.path.realpath(target):
                    continue
                found = True
                try:
                    if name == filename:
                        ok = md5 is None or calculate_md5(source) == md5 or (
                            content_md5 is not None and _content_md5(source) == content_md5)
                    else:  # an uncompressed copy
                        ok = calculate_md5(source) == content_md5
                    if not ok:
                        tried.append(f"{source}: checksum mismatch (not the published file)")
                        continue
                    with open(source, "rb") as src:
                        _atomic_copy(lambda f: shutil.copyfileobj(src, f, _CHUNK), target)
                    return target
                except OSError as e:
                    tried.append(f"{source}: {type(e).__name__}: {e}")
    if not found:
        tried.append(f"not found in {', '.join(dirs)}" if dirs else f"no local copy (${DATA_PATH_ENV} is not set)")
    return None


def missing_files_hint(folder: str, expected: Sequence[str], dirs: Sequence[str] = (),
                       header: str | None = None, data_path: bool = True) -> str:
    """The part of a not-found message saying which files must go where (``data_path``: mention
    ``$EMBER_DATA_PATH``, which :func:`fetch_files` searches)."""
    lines = [header or f"Put these files into {folder}:"] + [f"    {os.path.join(folder, n)}" for n in expected]
    if data_path:
        where = f" (also searched: {', '.join(dirs)})" if dirs else ""
        lines.append(f"  or list directories holding them in ${DATA_PATH_ENV}{where}.")
    return "\n".join(lines)
