"""``ember.save`` / ``ember.load``: checkpoints without pickle.

``ember.save`` writes Ember's own format by default (a JSON header describing the object tree plus
raw little-endian tensor data; see ``_native.py`` for the layout) or, with ``format="safetensors"``,
a safetensors file. ``ember.load`` recognises a file by its content (not its name) and reads:

* Ember checkpoints;
* safetensors files (returned as a dict of tensors; bfloat16 is widened to float32 with a warning);
* PyTorch checkpoints written by ``torch.save``, zip and legacy layout, without PyTorch installed and
  through a restricted unpickler that refuses anything but tensors and plain containers
  (:class:`UnsafeUnpicklingError`).

Saving to a path is atomic: the data goes to a temporary file in the same directory, which is
flushed, fsynced and then renamed over the target, so a crash mid-save leaves the previous file intact
(at worst a stale ``.<name>.<random>.tmp`` file stays behind). Tensors are saved from the host and
load on the CPU unless ``map_location`` says otherwise; only Parameters come back requiring grad.
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import warnings

from ._common import CheckpointError, Reader, UnsafeUnpicklingError, file_name, make_placer
from . import _native, _safetensors, _torch

__all__ = ["save", "load", "CheckpointError", "UnsafeUnpicklingError"]

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
    directory = os.path.dirname(target)
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
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
    Malformed files raise :class:`CheckpointError` naming the file and the problem.
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
