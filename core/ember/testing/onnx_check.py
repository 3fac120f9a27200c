"""``check_onnx_export``: export a model and check that onnxruntime reproduces Ember's outputs.

Needs the ``onnx`` and ``onnxruntime`` packages (the test extra); the tests of Ember and of plugins use
it for every exported model.
"""
from __future__ import annotations

import io

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = ["check_onnx_export"]


def _flat(out) -> list:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    return [t for o in out if o is not None for t in _flat(o)]


def check_onnx_export(model, examples, names, *, dynamic: bool = True, tol: float = 1e-5, **options):
    """Export ``model`` on ``examples[0]`` (a tuple of input tensors named ``names``), with a dynamic
    batch axis (dim 0 of every input) unless ``dynamic=False`` or ``dynamic_axes`` is given; check the file with ``onnx.checker``
    and compare onnxruntime's outputs with the model's on every example (shapes, dtypes, and values
    within ``tol`` relative to the output's magnitude, at least 1). ``options`` go to ``ember.onnx.export``.
    Returns ``(onnx.ModelProto, largest absolute error)``.

    >>> m = ember.nn.Linear(3, 2).eval()
    >>> proto, err = check_onnx_export(m, [(ember.randn(2, 3),), (ember.randn(4, 3),)], ["x"])  # doctest: +SKIP
    """
    import onnx
    import onnxruntime as ort

    from .. import onnx as ember_onnx
    buf = io.BytesIO()
    if dynamic:
        options.setdefault("dynamic_axes", {n: {0: "batch"} for n in names})
    ember_onnx.export(model, examples[0], buf, input_names=list(names), **options)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    worst = 0.0
    for args in examples:
        with no_grad():
            want = [w.numpy() for w in _flat(model(*args))]
        got = session.run(None, {n: t.numpy() for n, t in zip(names, args)})
        if len(got) != len(want):
            raise AssertionError(f"onnxruntime returned {len(got)} outputs, the model {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            if g.shape != w.shape or g.dtype != w.dtype:
                raise AssertionError(f"output {i}: onnxruntime gave {g.dtype} {g.shape}, the model {w.dtype} {w.shape}")
            err = float(np.abs(g.astype(np.float64) - w).max()) if g.size else 0.0
            limit = tol * max(1.0, float(np.abs(w).max()) if w.size else 1.0)
            if not err <= limit:
                raise AssertionError(f"output {i} (batch {args[0].shape[0]}): onnxruntime differs from the model by "
                                     f"{err} (allowed {limit})")
            worst = max(worst, err)
    return proto, worst
