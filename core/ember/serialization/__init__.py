"""``ember.save`` / ``ember.load``: checkpoints without pickle.

``ember.save`` writes Ember's own format by default (a JSON header describing the object tree plus
raw little-endian tensor data; see ``_native.py`` for the layout) or, with ``format="safetensors"``,
a safetensors file. ``ember.load`` recognises a file by its content (not its name) and reads:

* Ember checkpoints;
* safetensors files (returned as a dict of tensors; bfloat16 is widened to float32 with a warning);
* PyTorch checkpoints written by ``torch.save``, zip and legacy layout, without PyTorch installed and
  through a restricted unpickler that refuses anything but tensors and plain containers
  (:class:`UnsafeUnpicklingError`). Tensors saved as views of one storage load as views of one
  array, as in PyTorch (an expanded tensor stays a stride-0 view).

Saving to a path is atomic: the data goes to a temporary file in the same directory, which is
flushed, fsynced and then renamed over the target, so a crash mid-save leaves the previous file
intact. The temporary file is named ``.<target>.ember-tmp-<host>-<pid>-<random>.tmp``; one left
behind by a writer that was killed is removed by the next save of the same target (see
``_remove_stale_temps``). Tensors are saved from the host and load on the CPU unless
``map_location`` says otherwise; only Parameters come back requiring grad.

Errors ``ember.load`` raises:

* :class:`CheckpointError` (a ``RuntimeError``, as PyTorch's errors for broken zip archives are): the
  file is empty, truncated, corrupted or malformed, in a format Ember doesn't know, or uses something
  Ember can't represent. Every size, shape (at most ``MAX_DIMS`` = 64 dimensions), offset and
  element count is checked against the file before anything is allocated, so a corrupt header gives
  this error rather than a ``MemoryError``; failures of ``zipfile``/``zlib`` on a damaged archive are
  reported as this error too. Its subclass :class:`CheckpointUnpicklingError` (also a
  ``pickle.UnpicklingError``, what ``torch.load`` raises) is used when a PyTorch checkpoint's
  pickle data is malformed.
* :class:`UnsafeUnpicklingError` (a ``pickle.UnpicklingError``, as in PyTorch): a PyTorch
  checkpoint's pickle asks for a global or an operation the restricted unpickler refuses.
* ``OSError`` (``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``, ...) from opening or
  reading the file itself; ``TypeError``/``ValueError`` for invalid arguments (``map_location``, ``f``).

The messages of the first two start with the file: its path, or a file object's ``name``, or
``<BytesIO>`` (the object's type) for an unnamed stream, and then say what is wrong.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import socket
import stat
import time
import warnings

from ._common import (MAX_DIMS, CheckpointError, CheckpointUnpicklingError, Reader, UnsafeUnpicklingError, file_name,
                      make_placer)
from . import _native, _safetensors, _torch

__all__ = ["save", "load", "CheckpointError", "CheckpointUnpicklingError", "UnsafeUnpicklingError", "MAX_DIMS"]

_FORMATS = {"ember": _native.Plan, "safetensors": _safetensors.Plan}


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True, *,
         format: str = "ember", metadata: dict | None = None) -> None:
    """Save ``obj`` (tensors, Parameters, and dict/OrderedDict/list/tuple/set containers of them and of
    int/float/bool/str/bytes/None) to ``f``, a path or a writable binary file object.

    ``format="safetensors"`` writes a flat ``{name: tensor}`` dict as safetensors (with optional string
    ``metadata``). The same tensor object saved twice is stored once and loads as one object; views of
    one storage are saved as separate copies. ``pickle_module``, ``pickle_protocol`` and
    ``_use_new_zipfile_serialization`` are accepted for PyTorch compatibility and ignored.

    >>> ember.save(model.state_dict(), "model.ember")
    """
    if isinstance(pickle_module, str):  # ember.save(obj, f, "safetensors"): PyTorch's 3rd argument is pickle_module
        raise TypeError(f"ember.save: pass the format by keyword, format={pickle_module!r}")
    plan_cls = _FORMATS.get(format)
    if plan_cls is None:
        raise ValueError(f"ember.save: unknown format {format!r}; expected one of {', '.join(map(repr, _FORMATS))}")
    if metadata is not None and format != "safetensors":
        raise ValueError("ember.save: metadata is only supported with format='safetensors'")
    plan = plan_cls(obj, metadata) if format == "safetensors" else plan_cls(obj)  # validates before writing
    if isinstance(f, (str, bytes, os.PathLike)):
        _atomic_write(os.fsdecode(f), plan.write)
    elif hasattr(f, "write"):
        plan.write(f)
    else:
        raise TypeError(f"ember.save: f must be a path or a writable binary file object, got {type(f).__name__}")


def _atomic_write(path: str, write) -> None:
    """Write through a temporary file in the target's directory, then rename it over the target."""
    target = os.path.realpath(path)  # through symlinks, as an in-place write would go
    directory, base = os.path.split(target)
    _remove_stale_temps(directory, base)
    tmp = os.path.join(directory, _temp_name(base))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except FileNotFoundError:
        raise FileNotFoundError(f"ember.save: can't write {path!r}: directory {directory!r} does not exist") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):  # a replaced file keeps its permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


# Temporary files are named ".<target>.ember-tmp-<host>-<pid>-<random>.tmp": recognisable, and telling
# a later save which writer made them. One left by a writer that was killed is removed by the next
# save of the same target: at once when its writer ran on this host and is gone, else once it has
# not been written to for _STALE_AFTER_S (a live writer keeps touching its file; on a shared file
# system, a writer on another host can't be checked otherwise).
_TEMP_TAG = ".ember-tmp-"
_STALE_AFTER_S = 3600.0
_OLD_TEMP = re.compile(r"\.[0-9a-f]{12}\.tmp")  # the naming before the tag, for files of older Ember versions


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0])[:24] or "host"


def _temp_prefix(base: str) -> str:
    """``.<base>.ember-tmp-``, with ``base`` shortened as needed to keep the whole name under 255 bytes."""
    room = 255 - len(f".{_TEMP_TAG}{_host()}-{2**32}-{'0' * 12}.tmp")
    while len(os.fsencode(base)) > room:
        base = base[:-1]
    return f".{base}.{_TEMP_TAG[1:]}"


def _temp_name(base: str) -> str:
    return f"{_temp_prefix(base)}{_host()}-{os.getpid()}-{secrets.token_hex(6)}.tmp"


def _remove_stale_temps(directory: str, base: str) -> None:
    """Delete temporary files of ``base`` left behind by writers that died (see ``_TEMP_TAG``)."""
    prefix, old_prefix = _temp_prefix(base), f".{base}"
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        name = entry.name
        if name.startswith(prefix):
            owner = re.fullmatch(r"(.*)-(\d+)-[0-9a-f]{12}\.tmp", name[len(prefix):])
            if owner is None:
                continue
            host, pid = owner.group(1), int(owner.group(2))
        elif name.startswith(old_prefix) and _OLD_TEMP.fullmatch(name[len(old_prefix):]):
            host, pid = None, None
        else:
            continue
        try:
            idle = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:  # renamed or removed by its writer meanwhile
            continue
        if idle > _STALE_AFTER_S or (host == _host() and pid is not None and not _pid_alive(pid)):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (always assumed where that can't be checked)."""
    if pid == os.getpid():
        return True  # another thread of this process may be saving the same target right now
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); silently skipped where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None, **pickle_load_args):
    """Load an object saved by :func:`ember.save`, a safetensors file or a ``torch.save`` checkpoint.

    ``f`` is a path or a readable binary file object (read from its current position; non-seekable
    streams are read into memory first). Tensors load on the CPU unless ``map_location`` is a device
    (``"accel:0"``, ``ember.device(...)``), a dict from saved location to device (``{"cuda:1": "cuda:0"}``;
    unlisted locations load on the CPU) or a callable ``(tensor, location)`` returning the tensor to use.
    Loaded tensors don't require grad, except Parameters, which keep their ``requires_grad``.

    No format runs code from the file: PyTorch pickles go through a restricted unpickler, so
    ``weights_only=False`` behaves like ``True``; ``pickle_module`` and ``mmap`` are accepted for
    PyTorch compatibility and ignored. ``encoding=`` is passed on for Python 2 era PyTorch pickles.
    Malformed files raise :class:`CheckpointError` naming the file and the problem (the package
    docstring lists every error class).

    >>> state = ember.load("model.pt", map_location="cpu")
    """
    encoding = pickle_load_args.pop("encoding", "ASCII")
    if pickle_load_args:
        raise TypeError(f"ember.load() got unexpected keyword arguments {sorted(pickle_load_args)}")
    placer = make_placer(map_location)
    name = file_name(f)
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as fh:
            return _load_from(fh, name, placer, encoding)
    if not hasattr(f, "read"):
        raise TypeError(f"ember.load: f must be a path or a readable binary file object, got {type(f).__name__}")
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load_from(f, name, placer, encoding)


def _load_from(f, name: str, placer, encoding: str):
    reader = Reader(f, name)
    result = _read(reader, placer, encoding)
    if reader.widened:
        warnings.warn(f"{name}: Ember has no bfloat16 dtype; {reader.widened} bfloat16 tensor(s) were loaded as "
                      "float32 (exactly: every bfloat16 value is a float32 value)", UserWarning, stacklevel=3)
    return result


def _read(reader: Reader, placer, encoding: str):
    prefix = reader.read(0, min(16, reader.size), "the file prefix")
    if not prefix:
        raise reader.error("the file is empty")
    if prefix.startswith(_native.MAGIC[:4]):
        return _native.read(reader, placer)
    if prefix.startswith(b"PK\x03\x04"):
        return _torch.read_zip(reader, placer, encoding)
    if _safetensors.looks_like(prefix):  # before the pickle test: a header length may start with 0x80
        return _safetensors.read(reader, placer)
    if prefix[0] == 0x80:  # pickle PROTO opcode: PyTorch's legacy layout starts with a pickled magic number
        return _torch.read_legacy(reader, placer, encoding)
    raise reader.error(f"unrecognised file format (starts with {prefix[:8]!r}); expected an Ember checkpoint, "
                       "a safetensors file or a PyTorch checkpoint")
