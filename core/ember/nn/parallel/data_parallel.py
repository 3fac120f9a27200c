"""``DataParallel`` and ``data_parallel``: PyTorch's single-process data parallelism, on one device.

Without an accelerator (``ember.accelerator.is_available()`` is False) the wrapper calls the module as
it is, exactly as PyTorch does on a CPU-only machine. With an accelerator, inputs go to
``device_ids[0]``, the module runs there on the whole batch, and outputs come back to
``output_device``. Ember does not split a batch across several devices: given more than one device,
it warns and uses the first (the results are the same; the speed is one device's), and ``dim`` (the
dimension PyTorch splits along) is stored only. Training across devices and processes will come with
``DistributedDataParallel``.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

from ..._tensor import Tensor
from ...backend import Device
from ..module import Module

__all__ = ["DataParallel", "data_parallel"]


def _index(device, kind: str) -> int:
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    d = Device(device)
    if d.type != kind:
        raise ValueError(f"DataParallel: {d} is not a device of the accelerator ({kind!r})")
    return 0 if d.index is None else d.index


def _placement(device_ids, output_device) -> tuple[list[int], int | None, str | None]:
    """(device indices, output index, accelerator type); no devices when there is no accelerator."""
    from ... import accelerator   # here, not at import: `import ember` leaves ember.accelerator unloaded
    kind = accelerator._accelerator_type()
    if kind is None:
        return [], None, None
    ids = list(range(accelerator.device_count())) if device_ids is None else [_index(d, kind) for d in device_ids]
    if not ids:
        return [], None, None
    out = ids[0] if output_device is None else _index(output_device, kind)
    if len(ids) > 1:
        warnings.warn(f"Ember's DataParallel runs the whole batch on {kind}:{ids[0]}; it does not split batches "
                      f"across the {len(ids)} devices {ids}", RuntimeWarning, stacklevel=3)
    return ids, out, kind


def _to(obj, device: Device):
    """``obj`` with every tensor in it (nested in tuples, lists and dicts) on ``device``."""
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):   # namedtuple
        return type(obj)(*(_to(x, device) for x in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(x, device) for x in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to(v, device)) for k, v in obj.items())
    return obj


def _check_on(module: Module, device: Device) -> None:
    for t in (*module.parameters(), *module.buffers()):
        if t.device != device:
            raise RuntimeError(f"module must have its parameters and buffers on device {device} (device_ids[0]) "
                               f"but found one of them on device: {t.device}")


class DataParallel(Module):
    """Runs ``module`` on the batch, on one device (see the module docstring); PyTorch's signature.

    As in PyTorch the wrapped module is ``self.module`` and the ``state_dict`` keys carry the
    ``module.`` prefix, so checkpoints move between Ember and PyTorch ``DataParallel`` models.

    >>> model = ember.nn.DataParallel(ember.nn.Linear(4, 2))
    >>> model(ember.randn(8, 4)).shape
    ember.Size([8, 2])
    """

    def __init__(self, module: Module, device_ids: Sequence[int | Device] | None = None,
                 output_device: int | Device | None = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.dim = dim
        self.device_ids, self.output_device, kind = _placement(device_ids, output_device)
        self.src_device_obj = None if kind is None else Device(kind, self.device_ids[0])
        self._output_device_obj = None if kind is None else Device(kind, self.output_device)
        if len(self.device_ids) == 1:   # as PyTorch: a single device gets the module moved onto it
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        _check_on(self.module, self.src_device_obj)
        out = self.module(*_to(inputs, self.src_device_obj), **_to(kwargs, self.src_device_obj))
        return _to(out, self._output_device_obj)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[int | Device] | None = None,
                  output_device: int | Device | None = None, dim: int = 0, module_kwargs: dict | None = None) -> Any:
    """Functional :class:`DataParallel`: ``module(*inputs, **module_kwargs)`` on ``device_ids[0]``, output on
    ``output_device`` (without an accelerator: the plain call).

    >>> y = ember.nn.parallel.data_parallel(ember.nn.Linear(4, 2), ember.randn(8, 4))
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    module_kwargs = module_kwargs or {}
    ids, out, kind = _placement(device_ids, output_device)
    if not ids:
        return module(*inputs, **module_kwargs)
    src = Device(kind, ids[0])
    _check_on(module, src)
    return _to(module(*_to(inputs, src), **_to(module_kwargs, src)), Device(kind, out))
