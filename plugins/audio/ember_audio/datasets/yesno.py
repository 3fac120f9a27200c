"""YesNo (OpenSLR SLR1): 60 recordings of one speaker saying eight "yes"/"no" words in Hebrew, torchaudio's
``YESNO``. On disk: ``root/waves_yesno/0_1_0_0_1_0_1_1.wav`` (the file name is the sequence: 1 = yes)."""
from __future__ import annotations

import os
from pathlib import Path

import ember
from ember.plugins.datasets import dataset_repr

from .utils import DatasetFormatError, DatasetNotFoundError, download_and_extract, load_waveform

__all__ = ["YESNO"]

URL = "http://www.openslr.org/resources/1/waves_yesno.tar.gz"
FOLDER_IN_ARCHIVE = "waves_yesno"
SHA256 = "c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73"


class YESNO:
    """YesNo (torchaudio's ``YESNO``): a sample is ``(waveform, sample_rate, labels)``, ``labels`` the list of
    eight 0/1 words the file name spells (8 kHz clips).

    Args:
        root: the folder holding ``folder_in_archive``.
        url: where ``download=True`` fetches the archive (sha256-checked for the default URL).
        folder_in_archive: the folder of the ``.wav`` files under ``root``.
        download: fetch and extract the archive when the folder is missing.
    """

    def __init__(self, root: str | os.PathLike, url: str = URL, folder_in_archive: str = FOLDER_IN_ARCHIVE,
                 download: bool = False) -> None:
        self.root = os.fspath(root)
        self._path = os.path.join(self.root, folder_in_archive)
        if not os.path.isdir(self._path):
            if not download:
                raise DatasetNotFoundError(f"{self._path} doesn't exist: check root, or pass download=True")
            download_and_extract(url, self.root, SHA256 if url == URL else None)
        self._walker = sorted(p.stem for p in Path(self._path).glob("*.wav"))

    def _labels(self, fileid: str) -> list[int]:
        words = fileid.split("_")
        if not all(w in ("0", "1") for w in words):
            raise DatasetFormatError(f"{os.path.join(self._path, fileid)}.wav: the name should be the 0/1 words "
                                     "it holds separated by '_'")
        return [int(w) for w in words]

    def __getitem__(self, n: int) -> tuple[ember.Tensor, int, list[int]]:
        fileid = self._walker[n]
        labels = self._labels(fileid)
        waveform, sample_rate = load_waveform(os.path.join(self._path, fileid + ".wav"))
        return waveform, sample_rate, labels

    def __len__(self) -> int:
        return len(self._walker)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return dataset_repr(self)
