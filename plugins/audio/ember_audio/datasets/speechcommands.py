"""Speech Commands (Warden, 2018): one-second clips of spoken words, torchaudio's ``SPEECHCOMMANDS``.

On disk (the archive's layout)::

    root/SpeechCommands/speech_commands_v0.02/
        yes/0a7c2a8d_nohash_0.wav           # <label>/<speaker id>_nohash_<utterance number>.wav
        no/...
        _background_noise_/...              # noise recordings: never samples
        validation_list.txt                 # "yes/0a7c2a8d_nohash_0.wav" lines: the validation clips
        testing_list.txt                    # and the test clips; training is every other clip
"""
from __future__ import annotations

import os
from pathlib import Path

import ember
from ember.plugins.datasets import dataset_repr

from .utils import DatasetNotFoundError, download_and_extract, load_waveform

__all__ = ["SPEECHCOMMANDS", "HASH_DIVIDER", "EXCEPT_FOLDER", "SAMPLE_RATE"]

FOLDER_IN_ARCHIVE = "SpeechCommands"
URL = "speech_commands_v0.02"
HASH_DIVIDER = "_nohash_"
EXCEPT_FOLDER = "_background_noise_"
SAMPLE_RATE = 16000
_BASE_URL = "http://download.tensorflow.org/data/"
_SHA256 = {
    _BASE_URL + "speech_commands_v0.01.tar.gz": "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    _BASE_URL + "speech_commands_v0.02.tar.gz": "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
}
_SUBSETS = (None, "training", "validation", "testing")


def _read_list(folder: str, *names: str) -> list[str]:
    """The normalised paths listed (relative to ``folder``) in the split files ``names``."""
    paths = []
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise DatasetNotFoundError(f"{path} is missing: it lists the clips of a subset (one "
                                       "<label>/<file>.wav per line)")
        with open(path, encoding="utf-8") as f:
            paths += [os.path.normpath(os.path.join(folder, line.strip())) for line in f if line.strip()]
    return paths


class SPEECHCOMMANDS:
    """Speech Commands (torchaudio's ``SPEECHCOMMANDS``): a sample is ``(waveform, sample_rate, label,
    speaker_id, utterance_number)``, the waveform float32 ``[1, 16000]`` at most.

    Args:
        root: the folder holding ``folder_in_archive``.
        url: ``"speech_commands_v0.01"``, ``"speech_commands_v0.02"`` or an archive's URL; its name (without
            ``.tar.gz``) is the dataset's folder.
        folder_in_archive: the folder under ``root``.
        download: fetch and extract the archive (sha256-checked) when the folder is missing.
        subset: ``None`` (every clip), ``"training"``, ``"validation"`` or ``"testing"`` (from
            ``validation_list.txt`` and ``testing_list.txt``; training is every clip in neither).

    A missing folder raises :class:`DatasetNotFoundError` (a ``RuntimeError``, as torchaudio raises) naming it.
    """

    def __init__(self, root: str | os.PathLike, url: str = URL, folder_in_archive: str = FOLDER_IN_ARCHIVE,
                 download: bool = False, subset: str | None = None) -> None:
        if subset not in _SUBSETS:
            raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}")
        if url in ("speech_commands_v0.01", "speech_commands_v0.02"):
            url = _BASE_URL + url + ".tar.gz"
        root = os.fspath(root)
        self.root = root
        self._archive = os.path.join(root, folder_in_archive)
        basename = os.path.basename(url)
        basename = basename[:-len(".tar.gz")] if basename.endswith(".tar.gz") else basename
        self._path = os.path.join(self._archive, basename)
        if not os.path.isdir(self._path):
            if not download:
                raise DatasetNotFoundError(f"{self._path} doesn't exist: check root, or pass download=True")
            download_and_extract(url, self._archive, _SHA256.get(url), into=self._path)
        self.subset = subset
        self._walker = self._clips(subset)

    def _clips(self, subset: str | None) -> list[str]:
        if subset == "validation":
            return _read_list(self._path, "validation_list.txt")
        if subset == "testing":
            return _read_list(self._path, "testing_list.txt")
        clips = sorted(os.path.normpath(str(p)) for p in Path(self._path).glob("*/*.wav")
                       if HASH_DIVIDER in p.name and p.parent.name != EXCEPT_FOLDER)
        if subset == "training":
            held_out = set(_read_list(self._path, "validation_list.txt", "testing_list.txt"))
            clips = [c for c in clips if c not in held_out]
        return clips

    def get_metadata(self, n: int) -> tuple[str, int, str, str, int]:
        """``(relative path, sample_rate, label, speaker_id, utterance_number)`` of sample ``n``, without
        reading the clip; the path is relative to ``root/folder_in_archive``."""
        path = self._walker[n]
        relpath = os.path.relpath(path, self._archive)
        label = os.path.basename(os.path.dirname(path))
        stem = os.path.basename(path)
        for _ in range(2):  # the test-set archives name some files "x.wav.wav"
            stem = os.path.splitext(stem)[0]
        speaker_id, _, utterance = stem.partition(HASH_DIVIDER)
        return relpath, SAMPLE_RATE, label, speaker_id, int(utterance)

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, str, str, int]:
        metadata = self.get_metadata(n)
        waveform, _ = load_waveform(os.path.join(self._archive, metadata[0]), metadata[1])
        return (waveform,) + metadata[1:]

    def __len__(self) -> int:
        return len(self._walker)

    def extra_repr(self) -> str:
        return f"Subset: {self.subset or 'all'}"

    def __repr__(self) -> str:
        return dataset_repr(self)
