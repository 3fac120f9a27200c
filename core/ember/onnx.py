"""``ember.onnx``: PyTorch's ``torch.onnx`` namespace; export is not implemented yet.

Scripts import it at the top and export at the end (often behind a flag), so the module exists and
:func:`export` raises ``NotImplementedError`` only when called. The plan: record the ops a forward pass
runs into a graph (``ember.jit.trace``), then write a standard ``.onnx`` file through the ``onnx``
package (the ``ember[onnx]`` extra), checked against onnxruntime. Until then, keep the trained
weights with ``ember.save(model.state_dict(), path)``.
"""
from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["export", "is_in_onnx_export"]

_PLAN = ("ember.onnx.export is not implemented yet. Planned: graph capture (ember.jit.trace) and ONNX export "
         "through the onnx package (the ember[onnx] extra), verified with onnxruntime. Meanwhile save the weights "
         "with ember.save(model.state_dict(), path).")


def export(model: Any, args: tuple = (), f=None, *, kwargs: dict | None = None, **options) -> NoReturn:
    """PyTorch's ``torch.onnx.export(model, args, f, ...)``: raises ``NotImplementedError`` naming the plan.

    >>> ember.onnx.export(model, (x,), "model.onnx")   # doctest: +SKIP
    NotImplementedError: ember.onnx.export is not implemented yet. Planned: ...
    """
    raise NotImplementedError(_PLAN)


def is_in_onnx_export() -> bool:
    """``False``: no export is ever running (model code checks this to take an export-friendly path)."""
    return False
