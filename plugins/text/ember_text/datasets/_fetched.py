"""What the real corpora share: their files are recorded (name, sha256, size), fetched into
``<root>/<ClassName>/`` by ``download=True`` (or ``python -m ember_text.datasets fetch <name>``), and checked
every time the dataset is built, as torchvision datasets check theirs."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence

from .utils import DatasetNotFoundError, FileRecord, check_files, default_root, missing_message

__all__ = ["FetchedCorpus"]


class FetchedCorpus:
    """Mixin of a dataset whose files come from one recorded archive.

    Subclasses set ``name`` (the registry name, used in the fetch command), ``records`` (the files the
    dataset reads, relative to :attr:`raw_folder`) and implement :meth:`_fetch_into` (put verified copies
    of ``records`` into a folder).
    """

    name: str
    records: Sequence[FileRecord]

    @classmethod
    def folder_for(cls, root: str | os.PathLike | None = None) -> Path:
        """Where the dataset's files live: ``<root>/<ClassName>`` (root defaults to ``$EMBER_HOME/datasets``)."""
        return Path(os.path.expanduser(os.fspath(root if root is not None else default_root())), cls.__name__)

    @classmethod
    def fetch_command(cls) -> str:
        return f"python -m ember_text.datasets fetch {cls.name}"

    @classmethod
    def check_integrity(cls, root: str | os.PathLike | None = None) -> list[str]:
        """The problems of the files under ``root`` (empty when every file is there with its sha256)."""
        return check_files(cls.folder_for(root), cls.records)

    @classmethod
    def is_available(cls, root: str | os.PathLike | None = None) -> bool:
        """Whether the verified files are under ``root`` (nothing is fetched)."""
        return not cls.check_integrity(root)

    @classmethod
    def download(cls, root: str | os.PathLike | None = None, progress: bool = False) -> Path:
        """Fetch the files into ``<root>/<ClassName>`` unless they are there and verified; returns the folder.

        Files are put into a temporary folder first and each one is checked before it replaces the old
        one, so a failed fetch leaves what was there. Raises :class:`DatasetNotFoundError` listing what
        was tried when nothing worked.
        """
        folder = cls.folder_for(root)
        problems = check_files(folder, cls.records)
        if not problems:
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".fetch-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            tried = cls._fetch_into(tmp, progress)
            if tried is not None:
                raise DatasetNotFoundError(missing_message(cls.__name__, folder, problems,
                                                           cls._manual_hint(folder), tried))
            for record in cls.records:
                os.replace(tmp / record.name, folder / record.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    @classmethod
    def _fetch_into(cls, folder: Path, progress: bool) -> list[str] | None:
        """Put verified copies of ``records`` into ``folder``; None on success, else what was tried."""
        raise NotImplementedError

    @classmethod
    def _manual_hint(cls, folder: Path) -> str:
        return f"Fetch it with `{cls.fetch_command()}` (or download=True)."

    def _prepare(self, root: str | os.PathLike | None, download: bool) -> Path:
        """Fetch when asked, then check the files; the folder the dataset reads."""
        if download:
            return self.download(root, progress=True)
        folder = self.folder_for(root)
        problems = check_files(folder, self.records)
        if problems:
            command = self.fetch_command() + (f" --root {root}" if root is not None else "")
            raise DatasetNotFoundError(missing_message(
                type(self).__name__, folder, problems,
                f"Dataset not found or corrupted. You can use download=True to download it, or run `{command}`"))
        return folder
