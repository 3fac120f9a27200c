"""``quantize_dynamic``: swap a model's Linear/LSTM layers for dynamically quantized ones."""
from __future__ import annotations

import copy

from ... import _dtype as dt
from ... import nn
from ..nn.quantized import dynamic as nnqd
from .qconfig import QConfig, float16_dynamic_qconfig, per_channel_dynamic_qconfig

__all__ = ["quantize_dynamic", "get_default_dynamic_quant_module_mappings"]

# Module types PyTorch's quantize_dynamic swaps but Ember cannot yet: met with a qconfig they raise
# rather than silently staying float.
_NOT_YET = (nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell)
_DEFAULT_TYPES = (nn.Linear, nn.LSTM) + _NOT_YET


def get_default_dynamic_quant_module_mappings() -> dict:
    """Float module type -> its dynamically quantized replacement.

    >>> from ember.ao.quantization import get_default_dynamic_quant_module_mappings
    >>> get_default_dynamic_quant_module_mappings()[ember.nn.Linear].__name__
    'Linear'
    """
    return {nn.Linear: nnqd.Linear, nn.modules.transformer.NonDynamicallyQuantizableLinear: nnqd.Linear,
            nn.LSTM: nnqd.LSTM}


def _default_qconfig(dtype, spec_given: bool) -> QConfig:
    if dtype is dt.qint8:
        return per_channel_dynamic_qconfig
    if dtype is dt.float16:
        return float16_dynamic_qconfig
    if dtype is dt.quint8:
        raise NotImplementedError("dtype=ember.quint8 (PyTorch's weight-only Embedding/EmbeddingBag quantization) "
                                  "is not supported by Ember; use ember.qint8 or ember.float16")
    if spec_given:
        raise RuntimeError(f"Unknown dtype specified for quantize_dynamic: {dtype} (use ember.qint8 or ember.float16)")
    raise ValueError(f"Don't know how to quantize with default settings for {dtype}. Provide full qconfig please "
                     "(ember.qint8 and ember.float16 have defaults)")


def _qconfig_dict(qconfig_spec, dtype) -> dict:
    """``qconfig_spec`` (None, a set of types/names, or a dict to QConfigs) as a dict."""
    if qconfig_spec is None:
        return dict.fromkeys(_DEFAULT_TYPES, _default_qconfig(dtype, False))
    if isinstance(qconfig_spec, (set, frozenset, list, tuple)):
        return dict.fromkeys(qconfig_spec, _default_qconfig(dtype, True))
    if not isinstance(qconfig_spec, dict):
        raise TypeError(f"qconfig_spec must be a set of module types/names or a dict to QConfig, got "
                        f"{type(qconfig_spec).__name__}")
    for key, value in qconfig_spec.items():
        if value is not None and not isinstance(value, QConfig):
            raise TypeError(f"qconfig_spec[{key!r}] must be a QConfig or None, got {type(value).__name__}")
    return qconfig_spec


def _swap(child, qconfig, mapping: dict, path: str):
    """``child``'s quantized replacement (its forward hooks carried over), or ``child`` itself."""
    cls = mapping.get(type(child))
    if cls is None:
        if type(child) in _NOT_YET:
            raise NotImplementedError(
                f"dynamic quantization of {type(child).__name__} (module '{path}') is not supported by Ember yet "
                "(PyTorch swaps it); Ember quantizes nn.Linear and nn.LSTM: pass qconfig_spec={nn.Linear, "
                "nn.LSTM} to leave it in float")
        return child
    child.qconfig = qconfig
    try:
        new = cls.from_float(child)
    finally:
        del child.qconfig
    for store in ("_forward_pre_hooks", "_forward_hooks"):
        getattr(new, store).update(getattr(child, store))
    new._forward_pre_hooks_with_kwargs.update(child._forward_pre_hooks_with_kwargs)
    new._forward_hooks_with_kwargs.update(child._forward_hooks_with_kwargs)
    return new


def _convert(module, spec: dict, mapping: dict, parent_qconfig, prefix: str) -> None:
    """Swap, depth first, every descendant whose qconfig (by type, overridden by name, else inherited from
    its parent, as PyTorch's propagate_qconfig_) is not None and whose type ``mapping`` knows."""
    for name, child in list(module.named_children()):
        path = f"{prefix}.{name}" if prefix else name
        qconfig = spec.get(path, spec.get(type(child), parent_qconfig))
        _convert(child, spec, mapping, qconfig, path)
        if qconfig is not None:
            new = _swap(child, qconfig, mapping, path)
            if new is not child:
                module._modules[name] = new  # in place: the child keeps its position (setattr re-appends)


def quantize_dynamic(model, qconfig_spec=None, dtype=dt.qint8, mapping=None, inplace: bool = False):
    """Convert ``model`` to dynamic quantization: weights stored as int8 (or float16), activations
    quantized on the fly per call. Returns the converted model in eval mode.

    ``qconfig_spec`` is None (every Linear and LSTM), a set of module types and/or qualified names
    (``{nn.Linear, nn.LSTM}``, ``{"encoder.fc"}``) quantized with the ``dtype`` defaults, or a dict from
    type or name to a ``QConfig`` (applied to that module's whole subtree unless overridden; None
    excludes). The root module itself is never swapped, as in PyTorch.

    Ember's default for ``qint8`` is ``per_channel_dynamic_qconfig`` (one weight scale per output row);
    PyTorch's is ``default_dynamic_qconfig`` (one per tensor): pass ``{nn.Linear: default_dynamic_qconfig}``
    for PyTorch's numbers.

    >>> from ember.ao.quantization import quantize_dynamic
    >>> model = ember.nn.Sequential(ember.nn.Linear(8, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    >>> q = quantize_dynamic(model, {ember.nn.Linear}, dtype=ember.qint8)
    >>> q[0]
    DynamicQuantizedLinear(in_features=8, out_features=4, dtype=ember.qint8, qscheme=ember.per_channel_affine)
    >>> q(ember.randn(3, 8)).shape
    ember.Size([3, 2])
    """
    spec = _qconfig_dict(qconfig_spec, dtype)
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    _convert(model, spec, mapping, spec.get("", spec.get(type(model))), "")
    return model
