"""Predictions with a fine-tuned model: ``ember predict OUT INPUT...`` and :func:`predict`.

An input is read according to the modality of the data the model was tuned on: a file is read by the
``reader`` that a plugin registered with its ``data_spec`` dataset for that modality (ember-vision's
image folder reads images); text is used as it is; anything else is parsed as comma-separated numbers
(a row of tabular features). Then come the weights' preprocessing and the model.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import hub, no_grad, tensor, float32
from ..plugins import get_registry
from . import checkpoint as ckpt
from .data import _to_float_image, adapt_channels

__all__ = ["predict", "load_finetuned"]


def _reader(modality: str | None):
    for e in get_registry("datasets").entries():
        if e.metadata.get("reader") is not None and e.metadata.get("modality") == modality:
            return e.metadata["reader"]
    return None


def _read(item: Any, modality: str | None, reader):
    if isinstance(item, (str, os.PathLike)) and os.path.isfile(item):
        if reader is None:
            raise ValueError(f"{item}: no installed plugin reads {modality or 'these'} files (a dataset registered "
                             f"with data_spec=, modality={modality!r} and reader=); pass the input itself")
        return reader(os.fspath(item))
    if not isinstance(item, str) or modality == "text":
        return item
    try:
        return tensor([float(v) for v in item.split(",")], dtype=float32)
    except ValueError:
        raise ValueError(f"input {item!r} is not a file, and not comma-separated numbers") from None


def load_finetuned(out):
    """``(model, weights, info)`` of a fine-tuning output directory: the model in eval mode, its
    :class:`~ember.plugins.Weights` record and the weights entry's fields."""
    weights = ckpt.load_weights_entry(out)
    entry_file = Path(out).expanduser()
    info = json.loads(((entry_file / ckpt.ENTRY) if entry_file.is_dir() else entry_file).read_text())
    model = hub.get_model(info["model"], weights=weights, progress=False).eval()
    return model, weights, info


def predict(out, inputs: Sequence[Any], topk: int = 1) -> list[dict]:
    """Classify ``inputs`` (files, texts, feature rows, or already-read objects) with the model in ``out``.

    Returns one dict per input: ``label``, ``index``, ``probability`` and the ``top`` ``topk`` classes.
    """
    model, weights, info = load_finetuned(out)
    entry = hub.get_entry("models", info["model"])
    modality = info.get("modality")
    reader = _reader(modality)
    pre = weights.transforms() if weights.transforms is not None else None
    if pre is None and modality == "image":
        pre = _to_float_image      # what training did without weights' transforms
    input_size = entry.metadata.get("input_size")
    classes = info["categories"]
    results = []
    with no_grad():
        for item in inputs:
            x = _read(item, modality, reader)
            if modality == "image" and input_size:
                x = adapt_channels(x, int(input_size[0]))
            x = pre(x) if pre is not None else x
            probs = model(x.unsqueeze(0)).softmax(1)[0].numpy().astype(np.float64)
            order = np.argsort(-probs, kind="stable")[:max(1, topk)]
            top = [{"label": classes[i], "index": int(i), "probability": float(probs[i])} for i in order]
            results.append({"input": str(item) if isinstance(item, (str, os.PathLike)) else repr(item), **top[0],
                            "top": top})
    return results
