"""The fine-tuning loop: one :class:`Trainer` for every registered model and dataset.

Each epoch reseeds Ember's generator and the data order from ``(seed, epoch)``, so an epoch computes the
same thing whether the run got there in one go or was resumed from the previous epoch's checkpoint:
``--resume`` after a kill reproduces the uninterrupted run bit for bit.
"""
from __future__ import annotations

import math
import shlex
import time
from pathlib import Path
from typing import Any, Iterable

from .. import Generator, hub, manual_seed, nn, no_grad, optim
from ..nn import functional as F
from ..optim import lr_scheduler
from ..serialization import load, save
from ..utils.data import DataLoader
from . import checkpoint as ckpt
from .config import FinetuneConfig
from .augment import get_preset
from .data import FinetuneData, resolve_data
from .metrics import Metric, confusion_matrix
from .model import apply_freeze, build_model, param_groups, resolve_weights, train_mode
from .outputs import plot_curves, write_confusion, write_history, write_json
from .progress import Reporter

__all__ = ["Trainer", "finetune"]


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % (2 ** 63)


def _make_optimizer(cfg: FinetuneConfig, groups: list[dict]):
    if cfg.optimizer == "sgd":
        return optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
    cls = optim.AdamW if cfg.optimizer == "adamw" else optim.Adam
    return cls(groups, lr=cfg.lr)


def _make_scheduler(cfg: FinetuneConfig, optimizer, total_steps: int):
    """Per optimizer step: linear warm-up, then cosine decay to zero or a constant rate; or one-cycle."""
    warmup = min(cfg.warmup_steps, total_steps)
    if cfg.scheduler == "onecycle":
        pct = warmup / total_steps if warmup else 0.3
        return lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                       total_steps=total_steps, pct_start=pct)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if cfg.scheduler == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return lr_scheduler.LambdaLR(optimizer, factor)


class Trainer:
    """Fine-tune ``config.model`` on ``config.data``; :meth:`fit` runs it and returns the summary.

    ``callbacks`` are objects with any of ``on_step(trainer, step)`` (after each optimizer step) and
    ``on_epoch_end(trainer, record)``. Building the trainer resolves the data, the weights and the model
    (so errors come before any training).

    >>> import tempfile
    >>> trainer = Trainer(FinetuneConfig(model="toy:mlp", data="toy:blobs", epochs=1, batch_size=64, lr=0.05,
    ...                                  out=tempfile.mkdtemp()), quiet=True)
    >>> trainer.data.classes, trainer.data.num_classes
    (['0', '1', '2'], 3)
    >>> summary = trainer.fit()
    >>> summary["best"]["val_accuracy"] > 0.8
    True
    """

    def __init__(self, config: FinetuneConfig, *, callbacks: Iterable[Any] = (), quiet: bool = False,
                 reporter: Reporter | None = None):
        self.cfg = config
        self.callbacks = list(callbacks)
        self.report = reporter or Reporter(quiet=quiet)
        self.out = Path(config.out).expanduser()
        self.entry = hub.get_entry("models", config.model)
        self.weights = resolve_weights(self.entry, config.weights)
        # Preprocessing follows the pretrained weights; from scratch, the model's DEFAULT weights' preprocessing
        # keeps the comparison with a pretrained run fair.
        enum_cls = self.entry.metadata.get("weights")
        prep_weights = self.weights or (enum_cls.DEFAULT.value if enum_cls is not None and "DEFAULT" in
                                        enum_cls.__members__ else None)
        self.data: FinetuneData = resolve_data(config, self.entry, prep_weights)
        self.prep_weights = prep_weights
        manual_seed(config.seed)   # the new head's initialisation
        self.model, self.head = build_model(self.entry, self.weights, self.data.classes,
                                            progress=not self.report.quiet)
        self.model.to(config.device)
        self.optimizer = _make_optimizer(config, param_groups(self.model, self.head, config.lr, config.head_lr,
                                                             config.weight_decay))
        self.steps_per_epoch = math.ceil(math.ceil(len(self.data.train) / config.batch_size) / config.accumulate)
        self.scheduler = _make_scheduler(config, self.optimizer, self.steps_per_epoch * config.epochs)
        self.metric = Metric(config.metric)
        self.augment = get_preset(config.augment, self.data.modality)
        self._best_val = None   # (logits, target) of the best epoch, for the confusion matrix
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.step = 0
        self.epoch = 0
        self.history: list[dict] = []
        self.best: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0
        self.initial: dict | None = None
        self.frozen: set[str] = set()

    # ---- data ------------------------------------------------------------------------------------------
    def _loader(self, dataset, shuffle: bool, seed: int = 0) -> DataLoader:
        gen = Generator().manual_seed(seed) if shuffle else None
        return DataLoader(dataset, batch_size=self.cfg.batch_size, shuffle=shuffle, generator=gen,
                          num_workers=self.cfg.workers, collate_fn=self.data.collate_fn)

    def _to_device(self, batch):
        x, y = batch
        return x.to(self.cfg.device), y.to(self.cfg.device)

    # ---- evaluation ------------------------------------------------------------------------------------
    def predict_dataset(self, dataset):
        """Logits and targets of ``dataset`` in order, in evaluation mode."""
        from .. import cat
        self.model.eval()
        logits, targets = [], []
        with no_grad():
            for batch in self._loader(dataset, shuffle=False):
                x, y = self._to_device(batch)
                logits.append(self.model(x))
                targets.append(y)
        return cat(logits), cat(targets)

    def evaluate(self, dataset=None) -> dict:
        """``{"val_loss": ..., "val_<metric>": ...}`` on ``dataset`` (default: the validation set)."""
        logits, target = self.predict_dataset(self.data.val if dataset is None else dataset)
        self._last_val = (logits, target)
        out = {"val_loss": float(F.cross_entropy(logits, target).item())}
        if self.metric.name != "loss":
            out[f"val_{self.metric.name}"] = self.metric.compute(logits, target, self.data.num_classes)
        return out

    # ---- training --------------------------------------------------------------------------------------
    def _train_epoch(self, epoch: int) -> dict:
        cfg = self.cfg
        seed = _epoch_seed(cfg.seed, epoch)
        manual_seed(seed)
        self.frozen = apply_freeze(self.model, self.head, cfg.freeze_spec(epoch))
        train_mode(self.model)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        loader = self._loader(self.data.train, shuffle=True, seed=seed)
        bar = self.report.bar(len(loader), f"epoch {epoch}/{cfg.epochs}")
        total_loss, seen, start = 0.0, 0, time.perf_counter()
        self.optimizer.zero_grad()
        for i, batch in enumerate(loader):
            x, y = self._to_device(batch)
            if self.augment is not None:
                x = self.augment(x)
            loss = self.loss_fn(self.model(x), y)
            (loss / cfg.accumulate if cfg.accumulate > 1 else loss).backward()
            total_loss += float(loss.item()) * len(y)
            seen += len(y)
            if (i + 1) % cfg.accumulate == 0 or i + 1 == len(loader):
                self._optimizer_step(trainable)
            bar.update(1, samples=len(y), loss=total_loss / seen)
        bar.close()
        seconds = time.perf_counter() - start
        return {"epoch": epoch, "train_loss": total_loss / max(seen, 1), "lr": self.optimizer.param_groups[0]["lr"],
                "frozen_params": len(self.frozen), "samples_per_s": round(seen / max(seconds, 1e-9), 1)}

    def _optimizer_step(self, trainable) -> None:
        if self.cfg.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(trainable, self.cfg.clip_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.scheduler.step()
        self.step += 1
        for cb in self.callbacks:
            if hasattr(cb, "on_step"):
                cb.on_step(self, self.step)

    def _state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "epoch": self.epoch, "step": self.step,
                "best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs,
                "history": self.history, "initial": self.initial, "config": self.cfg.to_dict()}

    def _resume(self) -> None:
        state = ckpt.load_checkpoint(self.out)
        saved = state["config"]
        changed = [k for k in FinetuneConfig.RESUME_KEYS if saved.get(k) != self.cfg.to_dict().get(k)]
        if changed:
            raise ValueError(f"--resume: {', '.join(changed)} differ(s) from the interrupted run in {self.out} "
                             f"(e.g. {changed[0]}={saved.get(changed[0])!r}); resume with the same options")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.best, self.best_epoch = state["best"], int(state["best_epoch"])
        self.bad_epochs, self.history, self.initial = int(state["bad_epochs"]), list(state["history"]), state["initial"]
        self.report.say(f"resumed from {self.out / ckpt.LAST} after epoch {self.epoch}")

    def fit(self) -> dict:
        """Train, keep the best and last checkpoints, write the logs; returns the run's summary."""
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        if cfg.resume:
            self._resume()
        else:
            write_json(self.out / "config.json", cfg.to_dict())
            self.initial = self.evaluate()
            self.report.say(f"{cfg.model} on {cfg.data}: {len(self.data.train)} train / {len(self.data.val)} val "
                            f"samples, {self.data.num_classes} classes; before fine-tuning: {_fmt(self.initial)}")
        while self.epoch < cfg.epochs and not self._stopped_early():
            self._run_epoch(self.epoch + 1)
        return self._finish()

    def _stopped_early(self) -> bool:
        return self.cfg.patience is not None and self.bad_epochs >= self.cfg.patience

    def _run_epoch(self, epoch: int) -> None:
        record = self._train_epoch(epoch)
        record.update(self.evaluate())
        key = f"val_{self.metric.name}"
        self.epoch = epoch
        if self.metric.better(record[key], self.best):
            self.best, self.best_epoch, self.bad_epochs = record[key], epoch, 0
            save(self.model.state_dict(), self.out / ckpt.BEST)
            self._best_val = self._last_val
        else:
            self.bad_epochs += 1
        self.history.append(record)
        ckpt.save_checkpoint(self.out, self._state())
        write_history(self.out, self.history)
        self.report.say(f"epoch {epoch}/{self.cfg.epochs}: train_loss {record['train_loss']:.4f}, {_fmt(record)}"
                        + (" (best)" if self.best_epoch == epoch else ""))
        for cb in self.callbacks:
            if hasattr(cb, "on_epoch_end"):
                cb.on_epoch_end(self, record)

    def _finish(self) -> dict:
        cfg = self.cfg
        self.model.load_state_dict(load(self.out / ckpt.BEST))
        logits, target = self._best_val or self.predict_dataset(self.data.val)   # a resumed run recomputes
        matrix = confusion_matrix(logits.argmax(1), target, self.data.num_classes)
        files = write_confusion(self.out, matrix, self.data.classes, plot=cfg.plots)
        best_record = next(r for r in self.history if r["epoch"] == self.best_epoch)
        ckpt.write_weights_entry(self.out, self.entry.canonical, self.data.classes,
                                 ckpt.weights_name(self.entry, self.prep_weights), cfg.image_size,
                                 {k: v for k, v in best_record.items() if k.startswith("val_")}, cfg.data,
                                 "ember finetune " + shlex.join([cfg.model, cfg.data]), self.data.modality)
        curves = plot_curves(self.out, self.history, self.metric.name) if cfg.plots else None
        summary = {"model": self.entry.canonical, "data": cfg.data, "out": str(self.out),
                   "classes": self.data.classes, "metric": self.metric.name, "initial": self.initial,
                   "best": best_record, "best_epoch": self.best_epoch, "epochs_run": self.epoch,
                   "stopped_early": self._stopped_early(),
                   "files": sorted(str(p.name) for p in [self.out / ckpt.BEST, self.out / ckpt.LAST,
                                                         self.out / ckpt.ENTRY, *files]
                                   + ([curves] if curves else []))}
        write_json(self.out / "summary.json", summary)
        self.report.say(f"best epoch {self.best_epoch}: {_fmt(best_record)}; outputs in {self.out}")
        return summary


def _fmt(record: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in record.items() if k.startswith("val_"))


def finetune(model: str, data: str, *, quiet: bool = False, callbacks: Iterable[Any] = (), **options) -> dict:
    """Fine-tune a registered model on data, as ``ember finetune MODEL DATA [options]`` does; returns the summary.

    ``options`` are the :class:`FinetuneConfig` fields (``epochs=3, lr=1e-3, freeze="all-but-head", out=...``).

    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> summary = ember.finetune("toy:mlp", "toy:blobs", epochs=2, lr=0.05, out=out, quiet=True)
    >>> model = ember.hub.get_model("toy:mlp", weights=out)     # the result is a model's weights
    >>> summary["best"]["val_accuracy"] > 0.8
    True
    """
    return Trainer(FinetuneConfig(model=model, data=data, **options), quiet=quiet, callbacks=callbacks).fit()
