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

from ..plugins.weights import Weights, WeightsError, sha256_file
from ..serialization import load, save

__all__ = ["LAST", "BEST", "ENTRY", "save_checkpoint", "load_checkpoint", "write_weights_entry",
           "load_weights_entry", "is_weights_entry", "weights_name"]

LAST, BEST, ENTRY = "last.ember", "best.ember", "weights.json"
FORMAT = "ember-finetune-weights/1"


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


def is_weights_entry(value) -> bool:
    """Whether ``value`` names a fine-tuning output directory or its ``weights.json``."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    p = Path(value).expanduser()
    return (p.is_dir() and (p / ENTRY).is_file()) or (p.name == ENTRY and p.is_file())


def load_weights_entry(path, model: str | None = None) -> Weights:
    """The :class:`Weights` record of a fine-tuning output (a directory or its ``weights.json``)."""
    p = Path(path).expanduser()
    entry_file = p / ENTRY if p.is_dir() else p
    try:
        doc = json.loads(entry_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise WeightsError(f"can't read the fine-tuned weights entry {entry_file}: {e}") from e
    if doc.get("format") != FORMAT:
        raise WeightsError(f"{entry_file} is not a fine-tuned weights entry (format {doc.get('format')!r})")
    if model is not None and doc["model"] != model:
        raise WeightsError(f"{entry_file} holds weights of {doc['model']!r}, not of {model!r}; build that model: "
                           f"ember.hub.get_model({doc['model']!r}, weights={str(path)!r})")
    transforms = None
    if doc.get("base_weights"):
        from ..hub import get_weight
        base = get_weight(doc["base_weights"]).value.transforms
        if base is not None and doc.get("image_size"):
            transforms = functools.partial(base, crop_size=doc["image_size"], resize_size=doc["image_size"])
        else:
            transforms = base
    meta = {"categories": doc["categories"], "dataset": doc.get("dataset"), "metrics": doc.get("metrics", {}),
            "recipe": doc.get("recipe"), "base_weights": doc.get("base_weights")}
    return Weights(url=str((entry_file.parent / doc["file"]).resolve()), sha256=doc["sha256"], size=doc["size"],
                   meta=meta, transforms=transforms)
