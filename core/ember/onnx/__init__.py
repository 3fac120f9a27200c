"""``ember.onnx``: PyTorch's ``torch.onnx.export`` -- a model as a standard ``.onnx`` file.

The model runs once on the example arguments under ``ember.jit``'s tracer (the op-observer hook), and
each recorded op is written as ONNX nodes (opset 17 by default) through the ``onnx`` package (the
``ember[onnx]`` extra); the result passes ``onnx.checker`` and runs in onnxruntime. Parameters are
initializers under their ``state_dict`` names; values computed only from parameters are folded.
``dynamic_axes`` marks input (and output) dims whose size may change, such as the batch.

>>> model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2)).eval()
>>> ember.onnx.export(model, (ember.randn(1, 4),), "mlp.onnx", input_names=["x"], output_names=["y"],
...                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
>>> import onnxruntime                                      # doctest: +SKIP
>>> onnxruntime.InferenceSession("mlp.onnx").run(None, {"x": np.ones((3, 4), np.float32)})[0].shape  # doctest: +SKIP
(3, 2)
"""
from __future__ import annotations

import enum

from . import errors
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OnnxExporterError", "UnsupportedOperatorError", "errors"]

_EXPORTING = [False]


class TrainingMode(enum.IntEnum):
    """PyTorch's ``torch.onnx.TrainingMode``: EVAL (the default) exports in eval mode, PRESERVE keeps the
    model's mode; TRAINING is refused (Ember exports inference graphs)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def export(model, args=(), f=None, *, kwargs: dict | None = None, export_params: bool = True, verbose=None,
           input_names=None, output_names=None, opset_version: int | None = None, dynamic_axes=None,
           keep_initializers_as_inputs: bool = False, training=TrainingMode.EVAL, do_constant_folding: bool = True,
           dynamo: bool = False, **unused_options):
    """Write ``model`` (a module or a function of tensors), traced on ``args``, to ``f`` as ONNX.

    ``args``: the example positional arguments (a tensor or a tuple; a trailing dict holds keyword
    arguments, as in PyTorch); ``f``: a path or a binary file object (None returns the
    ``onnx.ModelProto``); ``input_names``/``output_names``: the graph's input and output names, in
    order; ``dynamic_axes``: ``{name: {axis: dim_name}}`` or ``{name: [axes]}`` for inputs and
    outputs whose sizes may change (the batch); ``opset_version``: 17 (default) to 21.

    Options of PyTorch's exporter that do not change what Ember writes are accepted
    (``export_params``, ``keep_initializers_as_inputs``, ``do_constant_folding``: Ember always writes
    the parameters as initializers and folds constants; ``dynamo``: Ember always traces). An op with
    no ONNX translation raises :class:`UnsupportedOperatorError` naming the op and the module that
    called it.
    """
    from ._export import export_model
    _EXPORTING[0] = True
    try:
        return export_model(model, args, f, kwargs=kwargs, input_names=input_names, output_names=output_names,
                            opset_version=opset_version, dynamic_axes=dynamic_axes,
                            training=TrainingMode(training).name, verbose=bool(verbose))
    finally:
        _EXPORTING[0] = False


def is_in_onnx_export() -> bool:
    """True while :func:`export` is tracing the model (model code may take an export-friendly path)."""
    return _EXPORTING[0]
