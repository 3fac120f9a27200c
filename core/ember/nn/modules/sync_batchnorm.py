"""``SyncBatchNorm``: batch normalisation whose statistics cover the batch of every process.

In training with an initialised process group, the per-channel sum (with the element count) and then
the sum of squared deviations are all-reduced with :func:`ember.distributed.nn.all_reduce`, which
autograd differentiates (the backward all-reduces the gradients of those statistics), so forward and
backward equal ``BatchNorm`` on the combined batch. Otherwise (evaluation, no process group) it is
plain batch normalisation.
"""
from __future__ import annotations

from ..._tensor import Tensor
from .._functional import norm as F
from ..module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """PyTorch's ``SyncBatchNorm``: batch norm over (N, C, *) inputs, statistics synchronised across
    the processes of ``process_group`` (default: all) during training.

    >>> bn = ember.nn.SyncBatchNorm(3)
    >>> bn.eval()(ember.randn(4, 3, 2)).shape   # without a process group: BatchNorm
    ember.Size([4, 3, 2])
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _synchronised(self) -> bool:
        import sys
        dist = sys.modules.get("ember.distributed")   # no process group can exist if it was never imported
        return (self.training and dist is not None and dist.is_initialized()
                and dist.get_world_size(self.process_group) > 1)

    def forward(self, input: Tensor) -> Tensor:
        if not self._synchronised():
            return super().forward(input)
        self._check_input_dim(input)
        momentum = self._momentum()
        mean, var, count = self._global_stats(input)
        shape = (1, -1) + (1,) * (input.dim() - 2)
        y = (input - mean.reshape(shape)) * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats:
            self._update_running(mean.detach(), var.detach(), count, momentum)
        return y

    def _global_stats(self, x: Tensor):
        """Mean and biased variance per channel over every process's batch, and the element count."""
        from ...distributed.nn import all_reduce
        from ...ops.creation import full
        from ...ops.shape import cat
        dims = (0, *range(2, x.dim()))
        c = x.shape[1]
        local = full((1,), x.numel() // max(c, 1), dtype=x.dtype, device=x.device)
        sums = all_reduce(cat([x.sum(dims), local]), group=self.process_group)
        count = sums[c]
        mean = sums[:c] / count
        shape = (1, -1) + (1,) * (x.dim() - 2)
        centred = x - mean.reshape(shape)
        var = all_reduce((centred * centred).sum(dims), group=self.process_group) / count
        return mean, var, int(count.item())

    def _update_running(self, mean: Tensor, var: Tensor, count: int, momentum: float) -> None:
        unbiased = var * (count / max(count - 1, 1))
        # In place: the buffers may live in shared memory (Module.share_memory) or be aliased.
        for buffer, value in ((self.running_mean._data, mean._data), (self.running_var._data, unbiased._data)):
            buffer *= 1 - momentum
            buffer += momentum * value

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every ``BatchNorm*d`` replaced by a ``SyncBatchNorm`` holding the same parameters
        and running statistics (the module itself when it is a batch norm, else changed in place).

        >>> net = ember.nn.Sequential(ember.nn.Linear(4, 4), ember.nn.BatchNorm1d(4))
        >>> type(ember.nn.SyncBatchNorm.convert_sync_batchnorm(net)[1]).__name__
        'SyncBatchNorm'
        """
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean, out.running_var = module.running_mean, module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
