"""Checkpoints of a run and the weights entry that makes its result a model's weights.

``OUT/last.ember`` holds everything a resumed run needs (model, optimizer, scheduler, epoch, best metric,
early-stopping count, history, config), written with :func:`ember.save` (atomic: a kill leaves the
previous checkpoint whole). ``OUT/best.ember`` is the best model's state dict and ``OUT/weights.json``
describes it as a :class:`~ember.plugins.Weights` record: its sha256 and size, the class names, and the
pretrained weights whose preprocessing it keeps, so that

    ember.hub.get_model("vision:lenet5", weights="OUT")

builds the architecture with the new head and loads the fine-tuned weights.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

# The weights entry is read by ember.hub (get_model(..., weights=OUT)), which lives below this package;
# its format is defined there.
from ..hub import FINETUNED_ENTRY as ENTRY, FINETUNED_FORMAT as FORMAT
from ..hub import is_weights_entry, load_weights_entry
from ..plugins.weights import sha256_file
from ..serialization import load, save

__all__ = ["LAST", "BEST", "ENTRY", "save_checkpoint", "load_checkpoint", "write_weights_entry",
           "load_weights_entry", "is_weights_entry", "weights_name"]

LAST, BEST = "last.ember", "best.ember"


def save_checkpoint(out: Path, state: dict) -> Path:
    path = Path(out) / LAST
    save(state, path)
    return path


def load_checkpoint(out: Path) -> dict:
    path = Path(out) / LAST
    if not path.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint at {path}; run without --resume to start the run")
    return load(path)


def weights_name(entry, weights) -> str | None:
    """The canonical member name (``"vision:LeNet5_Weights.FASHIONMNIST_V1"``) of a Weights record."""
    enum_cls = entry.metadata.get("weights")
    if weights is None or enum_cls is None:
        return None
    for name, member in enum_cls.__members__.items():
        if member.value is weights and name != "DEFAULT":
            return f"{entry.plugin}:{enum_cls.__name__}.{name}"
    return None


def write_weights_entry(out: Path, model: str, classes: list[str], base_weights: str | None,
                        image_size: int | None, metrics: dict, dataset: str, recipe: str,
                        modality: str | None = None) -> Path:
    """``OUT/weights.json`` for ``OUT/best.ember``."""
    from .outputs import write_json
    out = Path(out)
    best = out / BEST
    doc = {"format": FORMAT, "model": model, "file": BEST, "sha256": sha256_file(best), "size": best.stat().st_size,
           "categories": list(classes), "base_weights": base_weights, "image_size": image_size,
           "dataset": dataset, "modality": modality, "metrics": metrics, "recipe": recipe}
    write_json(out / ENTRY, doc)
    return out / ENTRY
