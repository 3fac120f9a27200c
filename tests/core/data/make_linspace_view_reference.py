"""Regenerate ``linspace_view_reference.json``: PyTorch 2.13's ``linspace``/``logspace`` values and
error types, and ``Tensor.view(dtype)`` bit reinterpretations, used by tests/core/test_creation_view_fixes.py.

Needs PyTorch (the tests never import it):

    /tmp/ref/bin/python tests/core/data/make_linspace_view_reference.py
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8"]
RANGES = [(-3.3, 7.1, 13), (0, 1, 7), (5, -2, 10), (0, 1, 1), (0, 1, 0), (1e-3, 1e4, 33), (0, 255, 17), (2, 2, 4),
          (-1e10, 1e10, 5)]
ERROR_CALLS = {  # name -> (args, kwargs) as JSON-friendly descriptions, rebuilt the same way in the test
    "negative_steps": ([0, 1, -1], {}),
    "float_steps": ([0, 1, 2.5], {}),
    "string_steps": ([0, 1, "a"], {}),
    "string_start": (["a", 1, 3], {}),
    "bool_dtype": ([0, 10, 5], {"dtype": "bool"}),
    "vector_start": (["tensor[0.,1.]", 1, 3], {}),
}
VIEW_CASES = [  # (values, source dtype, target dtype, view of the source)
    ([1.0, -2.0, 0.5, 3.25], "float32", "int32", "none"),
    ([1.0, -2.0, 0.5, 3.25], "float32", "uint8", "none"),
    ([1.0, -2.0, 0.5, 3.25], "float32", "int16", "none"),
    ([1.0, -2.0, 0.5, 3.25], "float32", "float16", "none"),
    ([1.0, -2.0, 0.5, 3.25], "float32", "float64", "none"),
    ([[1.0, -2.0], [0.5, 3.25]], "float32", "int32", "transpose"),
    ([1, 2, 3, -4, 5, 6], "int64", "float64", "none"),
    ([[1, 2, 3, 4], [5, 6, 7, 8]], "int16", "int32", "none"),
    ([[1, 2, 3, 4], [5, 6, 7, 8]], "int16", "int64", "none"),
    ([True, False, True], "bool", "uint8", "none"),
    ([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], "int32", "int64", "rows"),
]
VIEW_ERRORS = [  # shapes/views PyTorch refuses
    ([1.0, 2.0, 3.0], "float32", "float64", "none"),
    ([[1.0, 2.0, 3.0, 4.0]] * 3, "float32", "float16", "stride2"),
    (2.0, "float32", "int16", "none"),
    ([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], "int32", "int64", "every_other_column"),
]


def _arg(a):
    return torch.tensor([0.0, 1.0]) if a == "tensor[0.,1.]" else a


def _viewed(values, src, how):
    x = torch.tensor(values, dtype=getattr(torch, src))
    return {"none": lambda: x, "transpose": lambda: x.t(), "rows": lambda: x[::2],
            "stride2": lambda: x[:, ::2], "every_other_column": lambda: x[:, 1:3]}[how]()


def main():
    out = {"linspace": [], "logspace": [], "errors": {}, "views": [], "view_errors": []}
    for d in DTYPES:
        for a, b, n in RANGES:
            if d == "uint8" and (min(a, b) < 0 or b < a):   # PyTorch wraps around there: no use case
                continue
            try:
                values = torch.linspace(a, b, n, dtype=getattr(torch, d)).tolist()
            except RuntimeError:   # an end out of the dtype's range: not a case for the tests
                continue
            out["linspace"].append([a, b, n, d, values])
            if d.startswith("float"):
                out["logspace"].append([a / 10, b / 10, n, d, torch.logspace(a / 10, b / 10, n,
                                                                              dtype=getattr(torch, d)).tolist()])
    for name, (args, kw) in ERROR_CALLS.items():
        kw2 = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
        for fn in ("linspace", "logspace"):
            try:
                getattr(torch, fn)(*map(_arg, args), **kw2)
                raised = None
            except Exception as e:  # noqa: BLE001 - recording which type PyTorch raises
                raised = type(e).__name__
            out["errors"][f"{fn}:{name}"] = [args, kw, raised]
    for values, src, dst, how in VIEW_CASES:
        y = _viewed(values, src, how).view(getattr(torch, dst))
        out["views"].append([values, src, dst, how, y.tolist(), list(y.shape)])
    for values, src, dst, how in VIEW_ERRORS:
        try:
            _viewed(values, src, how).view(getattr(torch, dst))
            raise AssertionError("expected an error")
        except RuntimeError as e:
            out["view_errors"].append([values, src, dst, how, str(e)])
    with open(os.path.join(HERE, "linspace_view_reference.json"), "w") as f:
        json.dump(out, f, allow_nan=True)


if __name__ == "__main__":
    main()
