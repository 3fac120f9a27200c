"""``torch.onnx.errors``: the exceptions ``ember.onnx.export`` raises."""
from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """An error of the ONNX exporter."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op of the traced model has no ONNX translation; the message names the op and the module."""
