"""The options of a fine-tuning run, written once: the :class:`FinetuneConfig` fields carry their own
command-line help, so ``ember finetune --help`` and the Python keywords can't drift apart.

>>> cfg = FinetuneConfig(model="toy:mlp", data="toy:blobs", epochs=2, freeze="all-but-head")
>>> cfg.freeze_spec()
'all-but-head'
>>> FinetuneConfig(model="toy:mlp", data="toy:blobs", freeze="most")
Traceback (most recent call last):
ValueError: freeze must be 'all-but-head', 'none' or a number of leading layer groups (an int >= 0), got 'most'
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FinetuneConfig", "add_arguments", "config_from_args", "OPTIMIZERS", "SCHEDULERS"]

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("cosine", "onecycle", "constant")


def _opt(help: str, default: Any = None, *, flag: str | None = None, type=None, choices=None,
         metavar: str | None = None, cli: bool = True, action: str | None = None):
    """A config field with its command-line description (``flag`` defaults to ``--<name-with-dashes>``)."""
    meta = {"help": help, "flag": flag, "type": type, "choices": choices, "metavar": metavar, "cli": cli,
            "action": action}
    if isinstance(default, (list, dict)):
        return field(default_factory=default.copy, metadata=meta)
    return field(default=default, metadata=meta)


def _freeze(value: str) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"freeze must be >= 0 layer groups, got {value}")
        return value
    if value in ("all-but-head", "none"):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError("freeze must be 'all-but-head', 'none' or a number of leading layer groups (an int >= 0), "
                     f"got {value!r}")


@dataclass
class FinetuneConfig:
    """Everything that defines a fine-tuning run; saved as ``config.json`` in the output directory."""

    model: str = _opt("canonical model name, e.g. vision:efficientnet_lite0 (`ember models` lists them)",
                      flag="model", metavar="MODEL")
    data: str = _opt("training data: a registered dataset (vision:digits), or SCHEME:PATH for your own files "
                     "(imagefolder:DIR, audiofolder:DIR, textcsv:FILE; schemes come from the plugins' datasets "
                     "registered with data_spec=)", flag="data", metavar="DATA")
    weights: str | None = _opt("pretrained weights to start from: DEFAULT (the default), a member name such as "
                               "IMAGENET1K_V1, or 'none' to train from scratch", "DEFAULT", metavar="W")
    val_data: str | None = _opt("a separate validation set (same forms as DATA); default: the dataset's test "
                                "split when it has one, else --val-split of the training data", metavar="DATA")
    val_split: float | None = _opt("fraction of the training data held out for validation (seeded split); "
                                   "overrides the dataset's own test split", type=float, metavar="F")
    data_options: dict = _opt("KEY=VALUE passed to the dataset class (repeatable), e.g. header=true for a CSV",
                              {}, flag="--data-option", metavar="KEY=VALUE", action="append")
    max_train_samples: int | None = _opt("use only this many training samples (a seeded subset)", type=int,
                                         metavar="N")
    max_val_samples: int | None = _opt("use only this many validation samples (a seeded subset)", type=int,
                                       metavar="N")
    image_size: int | None = _opt("resize and crop images to N x N instead of the weights' own size (the "
                                  "weights' transforms must take crop_size/resize_size)", type=int, metavar="N")
    augment: str | None = _opt("augmentation preset for training images: 'light' (random horizontal flip and "
                               "shift by up to 1/8 of the size) or 'none'", "none", choices=("none", "light"))
    epochs: int = _opt("passes over the training data", 3, type=int, metavar="N")
    batch_size: int = _opt("samples per batch", 32, type=int, metavar="N")
    lr: float = _opt("learning rate of the pretrained body", 1e-3, type=float)
    head_lr: float | None = _opt("learning rate of the new classification head (default: --lr)", type=float)
    freeze: str | int = _opt("what stays fixed: all-but-head (train the head only), none, or N (the first N "
                             "layer groups of the body)", "none", metavar="{all-but-head,none,N}")
    unfreeze_at: int | None = _opt("epoch (1-based) from which every layer trains, after a frozen start",
                                   type=int, metavar="EPOCH")
    optimizer: str = _opt("optimizer", "adamw", choices=OPTIMIZERS)
    momentum: float = _opt("momentum of SGD", 0.9, type=float)
    weight_decay: float = _opt("weight decay (decoupled for AdamW); biases and norm layers get none", 0.0,
                               type=float)
    scheduler: str = _opt("learning-rate schedule over the optimizer steps", "cosine", choices=SCHEDULERS)
    warmup_steps: int = _opt("optimizer steps of linear warm-up at the start of the schedule", 0, type=int,
                             metavar="N")
    label_smoothing: float = _opt("label smoothing of the cross-entropy loss", 0.0, type=float)
    metric: str = _opt("validation metric that picks the best checkpoint: accuracy, loss, or a registered "
                       "metric (`ember metrics`, e.g. f1_score from ember-metrics)", "accuracy")
    patience: int | None = _opt("early stopping: stop after N epochs without a better validation metric",
                                type=int, metavar="N")
    clip_grad_norm: float | None = _opt("clip the gradients' total norm to this value", type=float,
                                        metavar="MAX")
    accumulate: int = _opt("gradient accumulation: batches per optimizer step", 1, type=int, metavar="K")
    workers: int = _opt("DataLoader worker processes", 0, type=int, metavar="N")
    seed: int = _opt("random seed; runs with the same seed and options reproduce bit-for-bit", 0, type=int)
    out: str = _opt("output directory (checkpoints, config, metrics, plots, weights entry)", "finetune-out",
                    metavar="DIR")
    resume: bool = _opt("continue from OUT/last.ember after an interruption (same options; --epochs may grow)",
                        False, action="store_true")
    device: str = _opt("device to train on", "cpu")
    plots: bool = _opt("leave out the PNG plots (learning curves, confusion matrix), which need matplotlib",
                       True, flag="--no-plots", action="store_false")

    def __post_init__(self):
        if not self.model or not self.data:
            raise ValueError("a fine-tuning run needs a model and data, e.g. model='vision:lenet5', data='vision:digits'")
        self.freeze = _freeze(self.freeze)
        for name in ("epochs", "batch_size", "accumulate"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.val_split is not None and not 0.0 < self.val_split < 1.0:
            raise ValueError(f"val_split must be between 0 and 1, got {self.val_split}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}")
        if self.unfreeze_at is not None and self.unfreeze_at < 1:
            raise ValueError(f"unfreeze_at is a 1-based epoch, got {self.unfreeze_at}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if isinstance(self.weights, str) and self.weights.lower() == "none":
            self.weights = None
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")

    def freeze_spec(self, epoch: int = 1) -> str | int:
        """What is frozen during ``epoch`` (1-based): everything trains from ``unfreeze_at`` on."""
        if self.unfreeze_at is not None and epoch >= self.unfreeze_at:
            return "none"
        return self.freeze

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FinetuneConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown fine-tuning options: {', '.join(unknown)}")
        return cls(**d)

    # The options that must match for --resume to continue the same run (epochs may grow).
    RESUME_KEYS = ("model", "data", "weights", "val_data", "val_split", "data_options", "max_train_samples",
                   "max_val_samples", "image_size", "augment", "batch_size", "lr", "head_lr", "freeze",
                   "unfreeze_at", "optimizer", "momentum", "weight_decay", "scheduler", "warmup_steps",
                   "label_smoothing", "accumulate", "seed")


def _parse_data_options(pairs) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--data-option expects KEY=VALUE, got {pair!r}")
        out[key] = _literal(value)
    return out


def _literal(text: str):
    """``true``/``false``/numbers become Python values; anything else stays a string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one command-line option per :class:`FinetuneConfig` field, plus the output switches."""
    for f in dataclasses.fields(FinetuneConfig):
        m = f.metadata
        if not m.get("cli", True):
            continue
        flag = m["flag"] or "--" + f.name.replace("_", "-")
        kwargs: dict[str, Any] = {"help": m["help"]}
        if not flag.startswith("-"):          # positional
            parser.add_argument(f.name, metavar=m["metavar"], help=m["help"])
            continue
        if m["action"]:
            kwargs["action"] = m["action"]
        else:
            kwargs["type"] = m["type"] or str
            if m["choices"]:
                kwargs["choices"] = m["choices"]
        if m["metavar"] and m["action"] != "store_true":
            kwargs["metavar"] = m["metavar"]
        default = f.default if f.default is not dataclasses.MISSING else None
        if default not in (None, False) and m["action"] not in ("append", "store_false"):
            kwargs["help"] += f" (default: {default})"
        parser.add_argument(flag, dest=f.name, default=None, **kwargs)
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors (and the --json summary)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary of the run at the end")


def config_from_args(args: argparse.Namespace) -> FinetuneConfig:
    """The config from parsed arguments: options left out keep the dataclass defaults."""
    given = {}
    for f in dataclasses.fields(FinetuneConfig):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        given[f.name] = _parse_data_options(value) if f.name == "data_options" else value
    return FinetuneConfig(**given)
