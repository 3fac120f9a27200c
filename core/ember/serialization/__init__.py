"""``ember.save`` / ``ember.load``: checkpoints, with PyTorch's security model.

Formats ``ember.save`` writes (``format=``):

* ``None`` (the default): tensors, Parameters, and dict/OrderedDict/list/tuple/set containers of them
  and of int/float/bool/str/bytes/None, ``ember.Size``, dtypes and devices go in Ember's own
  pickle-free format (a JSON header plus raw little-endian tensor data; ``_native.py``). Any other
  picklable object -- a whole ``nn.Module``, an optimizer, a NumPy array, an instance of your own
  class, or a dict mixing tensors with such objects -- is pickled in PyTorch's zip layout
  (``_torch_save.py``), which ``torch.load(f, weights_only=False)`` reads too: Ember tensors are
  written as PyTorch tensors over typed storages (views of one memory block as views of one storage),
  and Ember's own classes by reference to ``ember.*``.
* ``"ember"``: the native format only (``TypeError`` for anything it can't hold).
* ``"torch"``: PyTorch's zip layout for any object. State dicts, tensors and plain containers
  written this way load in PyTorch with ``torch.load(f)`` (``weights_only=True``), so checkpoints
  travel both ways.
* ``"safetensors"``: a flat ``{name: tensor}`` dict, with optional string ``metadata``.

``ember.load`` recognises a file by its content (not its name): Ember checkpoints, safetensors files
(bfloat16 is widened to float32 with a warning) and PyTorch checkpoints (``torch.save``'s zip and
legacy layouts), with PyTorch's security model:

* ``weights_only=True`` (the default, as in PyTorch since 2.6): pickles go through a restricted
  unpickler that rebuilds tensors, Parameters, dtypes, devices, sizes and plain containers, plus the
  classes and functions the user allowlisted with :func:`add_safe_globals` or the
  :class:`safe_globals` context manager (those may be called, created with ``__new__`` and have
  their state set, as PyTorch's weights-only unpickler allows). Any other global is refused with
  :class:`UnsafeUnpicklingError` naming it and saying how to allowlist it, before anything is
  called; globals of ``sys``, ``os``, ``posix`` and ``nt`` are refused even when allowlisted.
  :func:`get_unsafe_globals_in_checkpoint` lists what a file would need.
* ``weights_only=False``: the user trusts the file, and it is unpickled fully, running whatever code
  it names (whole modules and arbitrary objects load). Only do this with files from a trusted
  source. PyTorch tensors and storages inside still become Ember tensors; other PyTorch classes
  (a whole ``torch.nn.Module`` saved by ``torch.save(model)``) can't be rebuilt without PyTorch and
  raise an error naming the class (unless an allowlist entry ``(EmberClass, "torch....")`` names a
  stand-in for it).

``weights_only`` left unset means True, unless ``pickle_module`` is given (False, as in PyTorch);
the environment variables ``EMBER_FORCE_WEIGHTS_ONLY_LOAD=1`` and ``EMBER_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
(PyTorch's ``TORCH_FORCE_...`` flags) override it, the second only when the argument is unset. The
native and safetensors formats hold no code, so ``weights_only`` doesn't change how they load.

Tensors saved as views of one storage load as views of one array, as in PyTorch (an expanded tensor
stays a stride-0 view); each is an Ember view of the tensor owning the storage (its ``_base``,
sharing its version counter), so ``storage_offset()`` counts from the start of the saved storage.

Saving to a path is atomic: the data goes to a temporary file in the same directory, which is
flushed, fsynced and then renamed over the target, so a crash mid-save leaves the previous file
intact. The temporary file is named ``.<target>.ember-tmp-<host>-<pid>-<random>.tmp``; one left
behind by a writer that was killed is removed by the next save of the same target (see
``_remove_stale_temps``). An object that can't be pickled (a lambda, an open file) raises pickle's
own error before the target is touched. Tensors are saved from the host and load on the CPU unless
``map_location`` says otherwise; only Parameters come back requiring grad.

Errors ``ember.load`` raises:

* :class:`CheckpointError` (a ``RuntimeError``, as PyTorch's errors for broken zip archives are): the
  file is empty, truncated, corrupted or malformed, in a format Ember doesn't know, or uses something
  Ember can't represent. Every size, shape (at most ``MAX_DIMS`` = 64 dimensions), offset and
  element count is checked against the file before anything is allocated, so a corrupt header gives
  this error rather than a ``MemoryError``; failures of ``zipfile``/``zlib`` on a damaged archive are
  reported as this error too. Its subclass :class:`CheckpointUnpicklingError` (also a
  ``pickle.UnpicklingError``, what ``torch.load`` raises) is used when a PyTorch checkpoint's
  pickle data is malformed, when an allowlisted class fails to rebuild from it, and, with
  ``weights_only=False``, for any failure of the file's own code (a module that isn't installed, a
  PyTorch class Ember can't rebuild), the original exception kept as its ``__cause__``.
* :class:`UnsafeUnpicklingError` (a ``pickle.UnpicklingError``, as in PyTorch): with
  ``weights_only=True``, a pickle asks for a global (or an operation) that isn't allowed.
* ``OSError`` (``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``, ...) from opening or
  reading the file itself; ``TypeError``/``ValueError`` for invalid arguments (``map_location``, ``f``);
  ``RuntimeError`` for ``weights_only=True`` together with a ``pickle_module``.

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
from ._safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from . import _native, _safetensors, _torch, _torch_save

__all__ = ["save", "load", "CheckpointError", "CheckpointUnpicklingError", "UnsafeUnpicklingError", "MAX_DIMS",
           "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "get_unsafe_globals_in_checkpoint", "DEFAULT_PROTOCOL"]

#: The pickle protocol of the zip layout, as ``torch.save`` writes it.
DEFAULT_PROTOCOL = _torch_save.DEFAULT_PROTOCOL
_FORMATS = ("ember", "torch", "safetensors")


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True, *,
         format: str | None = None, metadata: dict | None = None) -> None:
    """Save ``obj`` to ``f``, a path or a writable binary file object.

    Tensors and containers of them go in Ember's pickle-free format; any other picklable object (a
    whole model, an optimizer, NumPy arrays, your own classes) is pickled in PyTorch's zip layout,
    which ``torch.load(f, weights_only=False)`` reads as well. ``format="torch"`` always writes that
    layout (a state dict saved so loads in PyTorch with ``torch.load(f)``), ``format="ember"`` only
    the native format, and ``format="safetensors"`` a flat ``{name: tensor}`` dict (with optional
    string ``metadata``); the package docstring describes each. The same tensor object saved twice
    loads as one object. ``pickle_protocol`` applies to the zip layout (default 2, as PyTorch's);
    ``pickle_module`` and ``_use_new_zipfile_serialization`` are accepted for PyTorch compatibility
    and ignored.

    >>> ember.save(model.state_dict(), "model.ember")
    >>> ember.save(model, "whole_model.pt")          # ember.load(..., weights_only=False) rebuilds it
    >>> ember.save(model.state_dict(), "for_torch.pt", format="torch")
    """
    if isinstance(pickle_module, str):  # ember.save(obj, f, "safetensors"): PyTorch's 3rd argument is pickle_module
        raise TypeError(f"ember.save: pass the format by keyword, format={pickle_module!r}")
    if format is not None and format not in _FORMATS:
        raise ValueError(f"ember.save: unknown format {format!r}; expected one of {', '.join(map(repr, _FORMATS))} "
                         "or None (the native format when the object fits it, else PyTorch's zip layout)")
    if metadata is not None and format != "safetensors":
        raise ValueError("ember.save: metadata is only supported with format='safetensors'")
    plan = _plan(obj, format, metadata, pickle_protocol)  # validates (and pickles) before writing
    if isinstance(f, (str, bytes, os.PathLike)):
        _atomic_write(os.fsdecode(f), plan.write)
    elif hasattr(f, "write"):
        plan.write(f)
    else:
        raise TypeError(f"ember.save: f must be a path or a writable binary file object, got {type(f).__name__}")


def _plan(obj, format: str | None, metadata, protocol):
    """The object encoded for ``format``; ``None`` picks the native format when the object fits it."""
    if format == "safetensors":
        return _safetensors.Plan(obj, metadata)
    if format == "torch":
        return _torch_save.Plan(obj, protocol)
    if format == "ember":
        return _native.Plan(obj)
    try:
        return _native.Plan(obj)
    except _native.Unrepresentable:
        return _torch_save.Plan(obj, protocol)


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


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None, mmap=None,
         **pickle_load_args):
    """Load an object saved by :func:`ember.save`, a safetensors file or a ``torch.save`` checkpoint.

    ``f`` is a path or a readable binary file object (read from its current position; non-seekable
    streams are read into memory first). Tensors load on the CPU unless ``map_location`` is a device
    (``"accel:0"``, ``ember.device(...)``), a dict from saved location to device (``{"cuda:1": "cuda:0"}``;
    unlisted locations load on the CPU) or a callable ``(tensor, location)`` returning the tensor to use.
    Loaded tensors don't require grad, except Parameters, which keep their ``requires_grad``.

    ``weights_only=True`` (the default) loads pickled checkpoints through a restricted unpickler that
    never runs code from the file: it rebuilds tensors and plain containers, and the classes you
    allowlisted with :func:`ember.serialization.add_safe_globals`; anything else raises
    :class:`UnsafeUnpicklingError` naming the global. ``weights_only=False`` unpickles fully (whole
    modules, arbitrary objects): use it only for files you trust. ``pickle_module`` (which makes an
    unset ``weights_only`` False, as in PyTorch) and ``mmap`` are accepted for PyTorch compatibility
    and otherwise ignored; ``encoding=`` is passed on for Python 2 era pickles. Malformed files raise
    :class:`CheckpointError` naming the file and the problem (the package docstring lists every
    error class).

    >>> state = ember.load("model.pt", map_location="cpu")
    >>> model = ember.load("whole_model.pt", weights_only=False)  # only for a file you trust
    """
    weights_only = _resolve_weights_only(weights_only, pickle_module)
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"ember.load() got unexpected keyword arguments {sorted(pickle_load_args)}")
    placer = make_placer(map_location)
    with _opened(f, "ember.load") as (fh, name):
        return _load_from(fh, name, placer, encoding, weights_only)


_TRUE = ("1", "y", "yes", "true")


def _resolve_weights_only(weights_only: bool | None, pickle_module) -> bool:
    """PyTorch's rules: unset means True unless a pickle_module is given; the environment may force it."""
    unset = weights_only is None
    if unset:
        weights_only = pickle_module is None
    force_on = os.environ.get("EMBER_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE
    force_off = os.environ.get("EMBER_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE
    if force_on and force_off:
        raise RuntimeError("Only one of `EMBER_FORCE_WEIGHTS_ONLY_LOAD` or `EMBER_FORCE_NO_WEIGHTS_ONLY_LOAD` "
                           "should be set, but both were set.")
    if force_on:
        weights_only = True
    elif force_off and unset:
        warnings.warn("Environment variable EMBER_FORCE_NO_WEIGHTS_ONLY_LOAD detected: since the `weights_only` "
                      "argument was not passed to `ember.load`, it is forced to False.", UserWarning, stacklevel=3)
        weights_only = False
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    return bool(weights_only)


@contextlib.contextmanager
def _opened(f, who: str):
    """``(seekable binary file, name for messages)`` for a path or a readable file object."""
    name = file_name(f)
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh, name
        return
    if not hasattr(f, "read"):
        raise TypeError(f"{who}: f must be a path or a readable binary file object, got {type(f).__name__}")
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    yield f, name


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals a zip checkpoint (``torch.save``, or ``ember.save`` of arbitrary objects) names that
    ``ember.load(f)`` with ``weights_only=True`` would refuse: neither allowed by default nor
    allowlisted. Read statically from the pickle, as PyTorch's function of the same name does.

    >>> ember.serialization.get_unsafe_globals_in_checkpoint("whole_model.pt")
    ['ember.nn.modules.linear.Linear']
    """
    with _opened(f, "get_unsafe_globals_in_checkpoint") as (fh, name):
        reader = Reader(fh, name)
        if not reader.read(0, min(4, reader.size), "the file prefix").startswith(b"PK\x03\x04"):
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        return _torch.unsafe_globals(reader)


def _load_from(f, name: str, placer, encoding: str, weights_only: bool):
    reader = Reader(f, name)
    result = _read(reader, placer, encoding, weights_only)
    if reader.widened:
        warnings.warn(f"{name}: Ember has no bfloat16 dtype; {reader.widened} bfloat16 tensor(s) were loaded as "
                      "float32 (exactly: every bfloat16 value is a float32 value)", UserWarning, stacklevel=4)
    return result


def _read(reader: Reader, placer, encoding: str, weights_only: bool):
    prefix = reader.read(0, min(16, reader.size), "the file prefix")
    if not prefix:
        raise reader.error("the file is empty")
    if prefix.startswith(_native.MAGIC[:4]):
        return _native.read(reader, placer)
    if prefix.startswith(b"PK\x03\x04"):
        return _torch.read_zip(reader, placer, encoding, weights_only)
    if _safetensors.looks_like(prefix):  # before the pickle test: a header length may start with 0x80
        return _safetensors.read(reader, placer)
    if prefix[0] == 0x80:  # pickle PROTO opcode: PyTorch's legacy layout starts with a pickled magic number
        return _torch.read_legacy(reader, placer, encoding, weights_only)
    raise reader.error(f"unrecognised file format (starts with {prefix[:8]!r}); expected an Ember checkpoint, "
                       "a safetensors file or a PyTorch checkpoint")
