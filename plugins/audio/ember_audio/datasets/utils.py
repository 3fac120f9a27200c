"""What the audio datasets share: their error classes, reading a clip at an expected rate, fixing its length,
and fetching an archive (sha256-checked) for ``download=True``."""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.request

import ember
from ember.plugins import ember_home, is_offline
from ember.plugins.datasets import DatasetFormatError, DatasetNotFoundError
from ember.plugins.weights import sha256_file

from .._io import load

__all__ = ["DatasetNotFoundError", "DatasetFormatError", "default_root", "load_waveform", "fix_length",
           "download_and_extract"]

_CHUNK = 1 << 20


def default_root() -> str:
    """Where datasets live when no ``root`` is given: ``$EMBER_HOME/datasets`` (``~/.cache/ember/datasets``)."""
    return str(ember_home() / "datasets")


def load_waveform(path: str, sample_rate: int | None = None) -> tuple[ember.Tensor, int]:
    """``(waveform, sample_rate)`` of a clip; with ``sample_rate``, a clip at another rate is an error naming the
    file (what torchaudio's datasets raise: they never resample behind the user's back)."""
    waveform, rate = load(path)
    if sample_rate is not None and rate != sample_rate:
        raise DatasetFormatError(f"{path}: sample rate should be {sample_rate} Hz, but the file has {rate} Hz")
    return waveform, rate


def fix_length(waveform: ember.Tensor, num_frames: int) -> ember.Tensor:
    """``waveform`` (``[..., frames]``) with exactly ``num_frames`` frames: the first ``num_frames`` of a longer
    one, a shorter one padded with zeros at the end.

    >>> fix_length(ember.ones(1, 3), 5)
    tensor([[1., 1., 1., 0., 0.]])
    >>> fix_length(ember.arange(6.0).reshape(2, 3), 2)
    tensor([[0., 1.],
            [3., 4.]])
    """
    if num_frames < 0:
        raise ValueError(f"num_frames must be non-negative, got {num_frames}")
    have = int(waveform.shape[-1])
    if have >= num_frames:
        return waveform[..., :num_frames]
    return ember.nn.functional.pad(waveform, (0, num_frames - have))


def download_and_extract(url: str, root: str, sha256: str | None, into: str | None = None) -> None:
    """Download ``url`` into ``root`` (unless a copy whose sha256 matches is already there), check it, and
    extract the tar archive into ``root`` -- or into the folder ``into``, which appears only once the whole
    archive is extracted (an interrupted run leaves no half-filled dataset folder). ``EMBER_OFFLINE=1``
    forbids the network."""
    os.makedirs(root, exist_ok=True)
    archive = os.path.join(root, os.path.basename(url))
    if not (os.path.isfile(archive) and (sha256 is None or sha256_file(archive) == sha256)):
        if is_offline():
            raise DatasetNotFoundError(f"{archive} is missing and EMBER_OFFLINE is set: download {url} there "
                                       "yourself, or unset EMBER_OFFLINE")
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                shutil.copyfileobj(response, out, _CHUNK)
            got = sha256_file(tmp)
            if sha256 is not None and got != sha256:
                raise DatasetFormatError(f"{url}: sha256 {got} differs from the expected {sha256}")
            os.replace(tmp, archive)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    target = root if into is None else tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(into)), prefix=".extract-")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")  # no absolute paths, links out of the folder or device files
        if into is not None:
            os.replace(target, into)
    finally:
        if into is not None:
            shutil.rmtree(target, ignore_errors=True)
