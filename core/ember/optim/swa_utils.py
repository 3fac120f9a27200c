"""Stochastic Weight Averaging and exponential moving averages of a model (PyTorch's
``torch.optim.swa_utils``): :class:`AveragedModel`, the averaging functions, :class:`SWALR` and
:func:`update_bn`.

A typical SWA run::

    swa_model = AveragedModel(model)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    update_bn(loader, swa_model)
"""
from __future__ import annotations

import itertools
import math
from copy import deepcopy

from .. import _dtype as dt
from .._tensor import Tensor, _bump_version
from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..nn.modules.normalization import _BatchNorm
from ..ops.creation import tensor
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]

# Devices on which the default average runs as one in-place lerp per tensor (PyTorch's foreach path);
# elsewhere it is ``avg + (new - avg) / (n + 1)``, as PyTorch computes it on the CPU.
_FOREACH_DEVICES = ("cuda",)


def _is_float_or_complex(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc"


def _lerp_(avg: Tensor, new: Tensor, weight: float) -> None:
    """``avg += weight * (new - avg)`` in place (from ``new``'s side for ``weight >= 0.5``, so that
    ``weight == 1`` gives ``new`` exactly); works for complex tensors too."""
    a, b = avg._data, new._data
    if weight < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)
    _bump_version(avg)


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An in-place averaging function for :class:`AveragedModel` (``multi_avg_fn``): the exponential
    moving average ``ema = decay * ema + (1 - decay) * param`` over lists of tensors.

    >>> model = ember.nn.Linear(2, 1)
    >>> ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99))
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _num_averaged) -> None:
        if _is_float_or_complex(ema_param_list[0]):
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                _lerp_(p_ema, p_model, 1 - decay)
        else:  # integer buffers: computed in floating point, truncated back by copy_
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place averaging function for :class:`AveragedModel` (``multi_avg_fn``): the running mean
    ``avg += (param - avg) / (n_averaged + 1)`` over lists of floating-point tensors.

    Integer tensors raise ``RuntimeError``, as in PyTorch (whose in-place integer division is refused).

    >>> model = ember.nn.Linear(2, 1)
    >>> swa_model = AveragedModel(model, multi_avg_fn=get_swa_multi_avg_fn())
    """

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        if not _is_float_or_complex(averaged_param_list[0]):
            raise RuntimeError(f"the running-mean update of get_swa_multi_avg_fn() needs floating-point tensors, "
                               f"got {averaged_param_list[0].dtype} (integer tensors cannot be divided in place)")
        # A tensor count gives a weight in the default float dtype, as PyTorch's ``1 / (n + 1)`` does.
        weight = float(1 / (num_averaged + 1))
        for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
            _lerp_(p_avg, p_model, weight)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """An averaging function for :class:`AveragedModel` (``avg_fn``), one tensor at a time: returns
    ``decay * ema + (1 - decay) * param``.

    >>> model = ember.nn.Linear(2, 1)
    >>> ema_model = AveragedModel(model, avg_fn=get_ema_avg_fn(0.99))
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An averaging function for :class:`AveragedModel` (``avg_fn``), one tensor at a time: returns
    the running mean ``avg + (param - avg) / (num_averaged + 1)``.

    >>> model = ember.nn.Linear(2, 1)
    >>> swa_model = AveragedModel(model, avg_fn=get_swa_avg_fn())
    """

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(pairs) -> dict:
    """``{(device, dtype): ([averaged tensors], [model tensors])}``, in first-seen order."""
    groups: dict = {}
    for avg, new in pairs:
        mine, theirs = groups.setdefault((avg.device, avg.dtype), ([], []))
        mine.append(avg)
        theirs.append(new)
    return groups


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are running averages of ``model``'s (SWA by default; EMA
    with :func:`get_ema_multi_avg_fn` / :func:`get_ema_avg_fn`), updated by :meth:`update_parameters`.

    Args:
        model: the module to average (deep-copied; the copy is ``self.module``).
        device: if given, the copy is moved there.
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> new averaged``, one tensor at a time.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n_averaged)``, updating in place.
            At most one of ``avg_fn``/``multi_avg_fn``; neither gives the equal-weight running mean.
        use_buffers: average the buffers too (otherwise they are copied from ``model`` on each update).

    ``n_averaged`` (an int64 buffer, saved in ``state_dict``) counts the updates; the first update
    copies ``model``'s values. The averaging functions are not saved.

    >>> model = ember.nn.Linear(2, 1)
    >>> swa_model = AveragedModel(model)
    >>> ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)
    >>> swa_model.update_parameters(model)
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None, use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=dt.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def _averaged_and_current(self, model: Module):
        if self.use_buffers:
            return (itertools.chain(self.module.parameters(), self.module.buffers()),
                    itertools.chain(model.parameters(), model.buffers()))
        return self.parameters(), model.parameters()

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        mine, theirs = self._averaged_and_current(model)
        pairs = [(avg.detach(), new.detach().to(avg.device)) for avg, new in zip(mine, theirs)]
        if int(self.n_averaged.item()) == 0:
            for avg, new in pairs:
                avg.copy_(new)
        else:
            self._average(pairs)
        if not self.use_buffers:
            # Buffers (e.g. BatchNorm statistics) are not averaged: keep them in sync with the model.
            for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_avg.detach().copy_(b_model.detach().to(b_avg.device))
        with no_grad():
            self.n_averaged.add_(1)

    def _average(self, pairs) -> None:
        n = self.n_averaged
        if self.avg_fn is not None:
            for avg, new in pairs:
                avg.copy_(self.avg_fn(avg, new, n.to(avg.device)))
            return
        for (device, _), (mine, theirs) in _group_by_device_and_dtype(pairs).items():
            n_dev = n.to(device)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(mine, theirs, n_dev)
            elif device.type in _FOREACH_DEVICES:
                get_swa_multi_avg_fn()(mine, theirs, n_dev)
            else:
                swa = get_swa_avg_fn()
                for avg, new in zip(mine, theirs):
                    avg.copy_(swa(avg, new, n_dev))


@no_grad()
def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the running statistics of every BatchNorm layer of ``model`` with one pass over
    ``loader`` (their cumulative average over the batches; momentum and train/eval mode are restored).

    Each batch is a tensor or a list/tuple whose first element is the model's input; ``device``, if
    given, is where inputs are moved first.

    >>> swa_model = AveragedModel(ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4)))
    >>> train_loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(ember.randn(32, 3)), batch_size=8)
    >>> update_bn(train_loader, swa_model)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # None: a cumulative (equal-weight) average over the batches
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each param group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps (cosine or
    linear), then hold it there (PyTorch's ``torch.optim.swa_utils.SWALR``).

    Args:
        optimizer: the wrapped optimizer.
        swa_lr: the target learning rate, one for all groups or a list with one per group.
        anneal_epochs: number of annealing steps (0: switch at once).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        last_epoch: index of the last epoch (``-1`` starts afresh).

    >>> optimizer = ember.optim.SGD(ember.nn.Linear(2, 1).parameters(), lr=0.1)
    >>> swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    """

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha: float):
        """The learning rate the schedule started from, given the current one at progress ``alpha``."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def _progress(self, step: int) -> float:
        return self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))

    def get_lr(self) -> list:
        self._current()  # warns when called outside step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # Recover each group's starting lr from its current one (the form chains with other schedulers),
        # then move it to this step's point between start and swa_lr.
        prev_alpha = self._progress(step - 1)
        alpha = self._progress(step)
        groups = self.optimizer.param_groups
        starts = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, starts)]

    def state_dict(self) -> dict:
        """Every attribute except the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes saved by :meth:`state_dict` (and the annealing function they name)."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
