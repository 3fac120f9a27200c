"""The Debian ``fortunes`` files as a labelled text-classification set: each fortune (a quote, joke or poem)
is a sample and its file (``computers``, ``love``, ``science``, ...) its class; 40 classes, 14,396 fortunes.

The files are those of Debian's package ``fortunes`` 1:1.99.1-7.3 (``/usr/share/games/fortunes``), each
recorded with its sha256. They are taken from that folder when the package is installed and its files are
these, from ``$EMBER_DATA_PATH``, or else from the ``.deb`` (848,988 bytes, sha256 ``41d0551d...``, the hash
Debian's signed package index lists) downloaded from Debian's archive; the ``.deb`` is read in Python (an
``ar`` archive holding ``data.tar.xz``), so neither root nor ``dpkg`` is needed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ._fetched import FetchedCorpus
from .base import TextDataset, check_index
from .utils import (DatasetFormatError, FileRecord, fetch_archive, extract_tar_members, install_verified,
                    read_ar_member, read_text, verify_str_arg)

__all__ = ["Fortunes", "parse_fortune_file"]

DEB = FileRecord("fortunes_1.99.1-7.3_all.deb", "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5",
                 848988)
_POOL = "pool/main/f/fortune-mod/" + DEB.name
DEB_URLS = tuple(mirror + _POOL for mirror in ("http://deb.debian.org/debian/", "http://ftp.debian.org/debian/",
                                               "http://archive.debian.org/debian/"))
SYSTEM_DIR = "/usr/share/games/fortunes"  # where `apt-get install fortunes` puts them

# name -> (sha256, size) of every category file of the package.
_FILES = {
    "art": ("600b8197bc994fd4fcbb623aa5e700629540af44f044d4907886bd1031f160ce", 85327),
    "ascii-art": ("818d0967629e0cd48b69c4b7e93645a7f80bba99ed4f1cd668f42b3d174b7431", 5877),
    "computers": ("a86be224d9f733b88eeaf8a46ea0427e05cc69c69edcf5f6db47ddf561ca37fd", 237981),
    "cookie": ("5dc97eee96dcc5287c373be629482730d45f77b59da1287933c9c5f482a055eb", 245093),
    "debian": ("491dd04bf909b64152bcb554b9bc88df0ca50c0dc676d74d10742bf38aaa50de", 15615),
    "definitions": ("57be4744c353d931fa2ca95f50215d4b67539f5a527ae628a6441fb4a1258caa", 180268),
    "disclaimer": ("c085d66ea68686d5e28852cef77c3eeb3640895c5647b148deeaaada2c07fa7b", 10749),
    "drugs": ("a5a59ee8b0e1fd3085a38dfa29149fe9a2c8d7f256b74aea71aa2cc08a9990c1", 40931),
    "education": ("ba13321d6d6beb7a6e65296a47450bfc87b24a319fff2e94762011b59a31aa35", 39280),
    "ethnic": ("61695cb9b60dbee91755027da1fa4f850f4c6386ff38197a48e4ff1696385e19", 34364),
    "food": ("78077a65b9288df71e7b2a8e8258cd3b1005d1282f7c7e57ad53927f374df45d", 34377),
    "goedel": ("9d447862c803f22cdf7bb26cb70cca1a7f8a2a7992f2793ddcb43cfcf3302ab0", 7391),
    "humorists": ("ffdf67e1f4049133bf904b769c364de45e5ae0abfb3ea7c9afb54b87b89acfc4", 42446),
    "kids": ("82e51834990afd36f2ea2f25864b368e2f44f9c761aba034035b26061de6d5be", 28587),
    "knghtbrd": ("c25e8373b38a6f159a7b1d336f363d5c962224a6ddcc86279dec47aad3c869b3", 87971),
    "law": ("f04141f94e788b7899e0adb0490d182ce711f8fdbb8252343a5257e717e9279d", 56657),
    "linux": ("85b0e5eadf7adeea77da4e1fbd456c962ce3bd1dabbd053098ecf37de9169cf3", 58496),
    "linuxcookie": ("4f75959924ae5bb1955c30a5c985e641ec17cd5ebb7453d839f94b1988331202", 19466),
    "love": ("4d4fb7c540e5500e44643524dae41dd7d2b21b80be184253fd9f8541f6029fc5", 20423),
    "magic": ("b9553a1d84d966db55a24a779206cc4565bf3686c9ecbc31215f654129e3166e", 9816),
    "medicine": ("18b8c7b098e649024159c9d9f3e37a0832bbd2d5cf3e2317b313134761afd487", 19193),
    "men-women": ("8fc4eb68a8d16826372d9bfdc910c8ab917b8aa59e2aac533f3ec2b49a1314ba", 101843),
    "miscellaneous": ("e3d81fd016f9f84a70ecb9aa197c4911aca01a8034e49345b81093f6751bba9c", 48174),
    "news": ("4b8eebae510353d6f628dfdaf52bf8cbdafb891a122b146421c805b74f389617", 11322),
    "paradoxum": ("85228975016fe975065eaf0baf55980d32d26f9e2fa99f69da4696d11ac02036", 6383),
    "people": ("2afb4b9f577be114d2dca279bc5590ee8415e1405295d7d7626c888d82f338e8", 153878),
    "perl": ("b19145eadf97c31add2e0a199d93ffa0eb92e00275c2724b7ad6b4e412113536", 40182),
    "pets": ("084472564bc55df566733a224f8a737d78717132ec43628be0c2af466ac41ecc", 7225),
    "platitudes": ("88448274efec3d2c0908cc11525c9b065b95a32c232a2c58c67a87dd88545ee5", 35626),
    "politics": ("b56ca45a046edd5c459090a5c6b335332661b436e814b41ac87bb58065ad6131", 114921),
    "pratchett": ("48410754f1b2091f418ac27421d2764628b23c91427b12809031cf2b39be5b0e", 401),
    "science": ("7ab350b142ee6c70c1d8517c5a1b3790c09b190a62859427cad98e6e35a19fcc", 129991),
    "songs-poems": ("eb714d297b468da91b6ca32baefb000279a3e3740b09f8a87db24fe58e010b1a", 233975),
    "sports": ("b71dd524d7bca888ec1014fb849a8a15cf58017c59127e572d393ef7632c35c8", 37317),
    "startrek": ("7b2e4c235b99452b2de4c47d67aae0faac2ea508a2d644609e4ef5db7653c39c", 30216),
    "tao": ("4adddc35a122bb233a16c076abc0be0326ea3a68594146a6baee3b5f6489e12b", 37143),
    "translate-me": ("a183879cf46ee4a6176f6b9f0f31adb6abfc6333b64f8fbebeba57017c81e12e", 1787),
    "wisdom": ("9b0bd6b9331a68c9172219784a411c417c055ed69734edc7b4406795b87d4e94", 61623),
    "work": ("ad8a0e104160e2c4782fa86e143cd60ffab2872985d4293ffd0af6df19dbfa28", 106982),
    "zippy": ("b996a112c99a2d61782e1a9a1f3c5445122f18ac312485f2c78279e82ca33932", 38978),
}

# Every _TEST_EVERY-th fortune of each file (the 5th, 10th, ...) is a test sample: a fixed 80/20 split that
# keeps every class's proportion and needs no random state.
_TEST_EVERY = 5


def parse_fortune_file(path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict") -> list[str]:
    """The fortunes of a ``fortune`` file: texts separated by lines holding only ``%``, as ``strfile`` reads
    them (empty entries are skipped; each text keeps its inner newlines, without the final one).

    >>> parse_fortune_file("/usr/share/games/fortunes/science")[0][:40]  # doctest: +SKIP
    """
    entries, current = [], []
    for line in read_text(path, encoding, errors).split("\n"):
        if line == "%":
            entries.append("\n".join(current))
            current = []
        else:
            current.append(line)
    entries.append("\n".join(current))
    return [e.rstrip("\n") for e in entries if e.strip()]


class Fortunes(FetchedCorpus, TextDataset):
    """Debian's ``fortunes`` as text classification: a sample is ``(fortune text, class index)``, the class
    being the file the fortune comes from (``classes``: the 40 file names, sorted).

    Splits: every 5th fortune of each file is in ``"test"`` (2,866 fortunes), the others in ``"train"``
    (11,530); ``"all"`` has the 14,396. The texts are as in the files (attribution lines, tabs and ASCII art
    included).

    Args:
        root: the folder holding ``Fortunes/`` (default ``$EMBER_HOME/datasets``).
        split: ``"train"``, ``"test"`` or ``"all"``.
        transform, target_transform: applied to the text and to the class index.
        download: fetch the files if they are not there (see the module docstring).

    >>> train = Fortunes(split="train", download=True)  # doctest: +SKIP
    >>> text, target = train[0]  # doctest: +SKIP
    >>> train.classes[target]  # doctest: +SKIP
    'art'
    """

    name = "fortunes"
    records = tuple(FileRecord(name, sha, size) for name, (sha, size) in sorted(_FILES.items()))
    splits = ("train", "test", "all")

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.split = verify_str_arg(split, "split", self.splits)
        folder = self._prepare(root, download)
        super().__init__(os.fspath(folder.parent), transform, target_transform)
        self.classes = [r.name for r in self.records]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.texts, self.targets = [], []
        for target, name in enumerate(self.classes):
            fortunes = parse_fortune_file(folder / name)
            if not fortunes:
                raise DatasetFormatError(f"{folder / name}: holds no fortunes")
            for i, text in enumerate(fortunes):
                in_test = (i + 1) % _TEST_EVERY == 0
                if split == "all" or in_test == (split == "test"):
                    self.texts.append(text)
                    self.targets.append(target)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(text, target)`` (each through its transform)."""
        i = check_index(self, index)
        return self._sample(self.texts[i], self.targets[i])

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def _fetch_into(cls, folder: Path, progress: bool) -> list[str] | None:
        if cls._copy_system_files(folder):
            return None
        deb, tried = fetch_archive(DEB, DEB_URLS, None, (), folder, progress)
        if deb is None:
            return [f"{SYSTEM_DIR}: missing or not the files of fortunes 1:1.99.1-7.3", *tried]
        data = read_ar_member(deb, "data.tar")
        wanted = {f"usr/share/games/fortunes/{r.name}": r for r in cls.records}
        extract_tar_members(data, wanted, folder, f"{deb}:data.tar")
        return None

    @classmethod
    def _copy_system_files(cls, folder: Path) -> bool:
        """Copy the installed package's files when they are exactly the recorded ones."""
        for record in cls.records:
            source = Path(SYSTEM_DIR, record.name)
            if record.problem(source) is not None:
                return False
        for record in cls.records:
            install_verified(Path(SYSTEM_DIR, record.name).read_bytes(), folder / record.name, record,
                             str(Path(SYSTEM_DIR, record.name)))
        return True

    @classmethod
    def _manual_hint(cls, folder: Path) -> str:
        return (f"Fetch it with `{cls.fetch_command()}`, `apt-get install fortunes` (Debian 12's 1:1.99.1-7.3), "
                f"or put {DEB.name} into a directory listed in $EMBER_DATA_PATH and retry.")

    def extra_repr(self) -> str:
        return f"Split: {self.split}\nClasses: {len(self.classes)}"
