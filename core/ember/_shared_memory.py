"""Tensor storage in shared memory: ``Tensor.share_memory_()`` and passing such tensors between processes.

A shared array lives in a file of ``/dev/shm`` (the system temporary directory where there is none)
mapped with ``MAP_SHARED``: processes forked afterwards see the same pages, and other processes
attach to it by file name (``ember.multiprocessing`` pickles shared tensors that way). The file is
removed when the creating process drops the array (or exits); processes already attached keep
their mapping, so, as in PyTorch, keep a tensor alive until its receivers have it.
"""
from __future__ import annotations

import itertools
import mmap
import os
import secrets
import tempfile
import weakref

import numpy as np

__all__ = ["share", "segment_of", "attach"]

_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_counter = itertools.count()
_SEGMENTS: dict[int, str] = {}     # id(mmap) -> file name, for the mappings this process holds


def _unlink(path: str, creator: int) -> None:
    # Forked children inherit this finalizer; only the creator removes the file.
    if os.getpid() == creator:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _map(path: str, nbytes: int, create: bool) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0), 0o600)
    try:
        if create:
            os.ftruncate(fd, max(nbytes, 1))
        m = mmap.mmap(fd, max(nbytes, 1), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    _SEGMENTS[id(m)] = os.path.basename(path)
    weakref.finalize(m, _SEGMENTS.pop, id(m), None)
    return m


def share(array: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``array`` in a new shared-memory segment."""
    path = os.path.join(_DIR, f"ember_{os.getpid()}_{next(_counter)}_{secrets.token_hex(4)}")
    m = _map(path, array.nbytes, create=True)
    weakref.finalize(m, _unlink, path, os.getpid())
    out = np.frombuffer(m, dtype=array.dtype, count=array.size).reshape(array.shape)
    out[...] = array
    return out


def _mapping(array: np.ndarray):
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return base if isinstance(base, mmap.mmap) and id(base) in _SEGMENTS else None


def segment_of(array: np.ndarray) -> tuple[str, int, int] | None:
    """(file name, byte offset of ``array``'s first element, segment size) when ``array`` lives in a
    shared segment of this process, else ``None``."""
    m = _mapping(array)
    if m is None:
        return None
    start = np.frombuffer(m, np.uint8).ctypes.data
    return _SEGMENTS[id(m)], array.ctypes.data - start, len(m)


def attach(name: str, size: int, offset: int, shape, strides, dtype) -> np.ndarray:
    """The array ``(shape, strides, dtype)`` at ``offset`` in the shared segment ``name``."""
    if os.sep in name or not name.startswith("ember_"):
        raise ValueError(f"not an Ember shared-memory segment: {name!r}")
    m = _map(os.path.join(_DIR, name), size, create=False)
    return np.ndarray(shape, dtype=dtype, buffer=m, offset=offset, strides=strides)
