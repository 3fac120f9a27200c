"""Audio classification from a folder per class (``ImageFolder``'s layout, for sound)::

    root/yes/clip0001.wav
    root/yes/more/clip0002.flac
    root/no/clip0003.wav

:class:`AudioFolder` reads clips as they are (or, with ``sample_rate``/``num_frames``/``mono``, resampled, mixed
down and padded or cropped to one length so that they stack into batches); :class:`ClipFolder` is the same
with keyword spotting's defaults (1 s of 16 kHz mono), what ``ember finetune MODEL audiofolder:DIR`` builds, and
:func:`read_clip` reads one file the same way (``ember predict``'s reader).
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Sequence

import ember
from ember.plugins import datasets
from ember.plugins.datasets import StandardTransform, dataset_repr

from .._io import load
from .utils import DatasetFormatError, fix_length

__all__ = ["AudioFolder", "ClipFolder", "AUDIO_EXTENSIONS", "find_classes", "make_dataset", "read_clip",
           "prepare_clip"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au")


# the layout the errors name, in ember.plugins.datasets' folder-per-class listing
_EXAMPLE = "<class>/<clip>.wav"


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The class folders of ``directory``, sorted, and their indices; hidden folders are not classes
    (``ember.plugins.datasets.find_classes``)."""
    return datasets.find_classes(directory, example=_EXAMPLE, skip_hidden=True)


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int],
                 extensions: Sequence[str] | None = AUDIO_EXTENSIONS,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """``(path, class index)`` of every clip under ``directory/<class>/`` (``ember.plugins.datasets.make_dataset``
    with audio's extensions): files whose name ends with one of ``extensions`` (case-insensitive) or that
    ``is_valid_file`` accepts. A class without any clip is an error naming it unless ``allow_empty``."""
    return datasets.make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty, example=_EXAMPLE)


def _resample(waveform: ember.Tensor, orig: int, new: int, path: str) -> ember.Tensor:
    resample = getattr(importlib.import_module("ember_audio.functional"), "resample", None)
    if resample is None:
        raise DatasetFormatError(f"{path}: sample rate {orig} Hz, expected {new} Hz, and this ember-audio has no "
                                 "functional.resample to convert it")
    return resample(waveform, orig, new)


def prepare_clip(waveform: ember.Tensor, rate: int, path: str, sample_rate: int | None = None,
                 num_frames: int | None = None, mono: bool = False) -> ember.Tensor:
    """A loaded clip ``[channels, frames]`` resampled to ``sample_rate``, mixed down to one channel (``mono``:
    the mean of the channels) and padded with zeros or cropped to ``num_frames``, each only when asked for."""
    if sample_rate is not None and rate != sample_rate:
        waveform = _resample(waveform, rate, sample_rate, path)
    if mono and waveform.shape[0] != 1:
        waveform = waveform.mean(0, keepdim=True)
    if num_frames is not None:
        waveform = fix_length(waveform, num_frames)
    return waveform


def read_clip(path: str | os.PathLike, sample_rate: int | None = 16000, num_frames: int | None = 16000,
              mono: bool = True) -> ember.Tensor:
    """One file as :class:`ClipFolder` gives its clips (``[1, 16000]``: 1 s of 16 kHz mono by default).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "beep.wav")
    >>> ember_audio.save(path, ember.full((2, 8000), 0.25), 16000)        # 0.5 s of stereo
    >>> read_clip(path).shape
    ember.Size([1, 16000])
    """
    path = os.fspath(path)
    waveform, rate = load(path)
    return prepare_clip(waveform, rate, path, sample_rate, num_frames, mono)


class AudioFolder:
    """An audio-classification dataset stored as one folder per class (torchvision's ``ImageFolder``, for sound).

    A sample is ``(waveform, class_index)``; the waveform is float32 ``[channels, frames]``, read when the sample
    is asked for. Classes are the sorted folder names (``classes``, ``class_to_idx``); ``samples`` lists
    ``(path, class_index)`` and ``targets`` the class of each.

    Args:
        root: the folder holding the class folders.
        transform: applied to the waveform (after the conversions below); target_transform: to the class index.
        sample_rate: resample clips at another rate to this one (``ember_audio.functional.resample``).
        num_frames: pad with zeros (at the end) or crop every clip to this many frames, so clips batch with
            the default collate; without it, batch with :func:`~ember_audio.datasets.pad_collate`.
        mono: mix multi-channel clips down to one channel (their mean).
        extensions / is_valid_file: which files are clips (exactly one of them; default: ``AUDIO_EXTENSIONS``).
        allow_empty: allow class folders without clips (an error by default, naming them).

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name, frames in (("no/a.wav", 300), ("yes/b.wav", 500), ("yes/c.flac", 800)):
    ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
    ...     ember_audio.save(os.path.join(root, name), ember.zeros(1, frames), 8000)
    >>> ds = AudioFolder(root, num_frames=400)
    >>> ds.classes, ds.targets, len(ds)
    (['no', 'yes'], [0, 1, 1], 3)
    >>> waveform, target = ds[2]; waveform.shape, target
    (ember.Size([1, 400]), 1)
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, sample_rate: int | None = None,
                 num_frames: int | None = None, mono: bool = False,
                 extensions: Sequence[str] | None = AUDIO_EXTENSIONS, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        if num_frames is not None and num_frames <= 0:
            raise ValueError(f"num_frames must be a positive number of frames, got {num_frames}")
        self.root = os.fspath(os.path.expanduser(root))
        self.transform, self.target_transform = transform, target_transform
        self.transforms = StandardTransform(transform, target_transform)
        self.sample_rate, self.num_frames, self.mono = sample_rate, num_frames, mono
        self.classes, self.class_to_idx = find_classes(self.root)
        if is_valid_file is not None:
            extensions = None
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.targets = [t for _, t in self.samples]

    def load(self, path: str) -> ember.Tensor:
        """The clip at ``path`` with this dataset's conversions (rate, channels, length)."""
        waveform, rate = load(path)
        return prepare_clip(waveform, rate, path, self.sample_rate, self.num_frames, self.mono)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return self.transforms(self.load(path), target)

    def __len__(self) -> int:
        return len(self.samples)

    def extra_repr(self) -> str:
        conversions = [f"{k}: {v}" for k, v in (("Sample rate", self.sample_rate), ("Frames", self.num_frames))
                       if v is not None]
        return "\n".join([f"Classes: {len(self.classes)}"] + conversions + (["Mono: True"] if self.mono else []))

    def __repr__(self) -> str:
        lines = repr(self.transforms).splitlines()[1:] if (self.transform or self.target_transform) else []
        return dataset_repr(self, lines)


class ClipFolder(AudioFolder):
    """An :class:`AudioFolder` of fixed-length clips: by default 1 s of 16 kHz mono (``[1, 16000]``, keyword
    spotting's input). ``ember finetune MODEL audiofolder:DIR`` builds it (options through ``--data-option``)."""

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, sample_rate: int | None = 16000,
                 num_frames: int | None = 16000, mono: bool = True,
                 extensions: Sequence[str] | None = AUDIO_EXTENSIONS, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform, target_transform, sample_rate, num_frames, mono, extensions, is_valid_file,
                         allow_empty)
