"""What a run leaves in its output directory besides checkpoints: per-epoch metrics (JSON lines and CSV),
learning curves (PNG, when matplotlib is installed), the confusion matrix, the resolved config.

Files are rewritten whole from the run's history after every epoch, so a resumed run's logs hold each
epoch once.

>>> import tempfile, json, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> write_history(out, [{"epoch": 1, "train_loss": 0.5, "val_accuracy": 0.9}])
>>> (out / "metrics.csv").read_text().splitlines()
['epoch,train_loss,val_accuracy', '1,0.5,0.9']
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_text", "write_json", "write_history", "plot_curves", "write_confusion"]


def write_text(path: Path, text: str) -> None:
    """Write atomically (temporary file, then rename), so a killed run never leaves half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: Path, doc) -> None:
    write_text(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")


def write_history(out: Path, history: list[dict]) -> None:
    """``metrics.jsonl`` (one JSON object per epoch) and ``metrics.csv`` (one row per epoch)."""
    out = Path(out)
    write_text(out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history))
    keys: list[str] = []
    for r in history:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(history)
    write_text(out / "metrics.csv", buf.getvalue())


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")     # files only: never open a window
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def plot_curves(out: Path, history: list[dict], metric: str) -> Path | None:
    """``curves.png``: training and validation loss, and the validation metric, per epoch."""
    plt = _pyplot()
    if plt is None or not history:
        return None
    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key in ("train_loss", "val_loss"):
        ax1.plot(epochs, [r.get(key) for r in history], marker="o", label=key)
    ax1.set_xlabel("epoch"), ax1.set_title("loss"), ax1.legend()
    ax2.plot(epochs, [r.get(f"val_{metric}") for r in history], marker="o", color="C2")
    ax2.set_xlabel("epoch"), ax2.set_title(f"validation {metric}")
    fig.tight_layout()
    path = Path(out) / "curves.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_confusion(out: Path, matrix: np.ndarray, classes: list[str], plot: bool = True) -> list[Path]:
    """``confusion_matrix.json`` and ``.csv`` (rows: true class, columns: predicted), and ``.png``."""
    out = Path(out)
    write_json(out / "confusion_matrix.json", {"classes": classes, "matrix": matrix.tolist()})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, matrix.tolist()):
        w.writerow([name, *row])
    write_text(out / "confusion_matrix.csv", buf.getvalue())
    paths = [out / "confusion_matrix.json", out / "confusion_matrix.csv"]
    plt = _pyplot() if plot else None
    if plt is not None and len(classes) <= 50:
        fig, ax = plt.subplots(figsize=(1.5 + 0.4 * len(classes), 1.2 + 0.4 * len(classes)))
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
        ax.set_xlabel("predicted"), ax.set_ylabel("true")
        fig.tight_layout()
        fig.savefig(out / "confusion_matrix.png", dpi=80)
        plt.close(fig)
        paths.append(out / "confusion_matrix.png")
    return paths
