"""Reference values for tests/core/test_complex.py, made with real PyTorch.

Re-run from the repository root with the reference virtualenv (PyTorch installed):

    /work/refvenv/bin/python tests/core/data/make_complex_reference.py

It writes ``complex_reference.npz`` next to this file. Every case is a Python expression over the
module name ``torch`` and the inputs below; the test evaluates the same expression with
``torch = ember``, so both libraries compute exactly the same thing from the same stored inputs:

- ``VALUES``: the expression's result (values and dtype);
- ``REPRS``: ``repr`` of the result (PyTorch's printing of complex tensors);
- ``DTYPES``: a dtype (promotion);
- ``ERRORS``: the exception type PyTorch raises;
- ``GRADS``: a real scalar loss; the gradients of every input it uses (PyTorch's convention for
  complex inputs: dL/dRe + i dL/dIm), in complex64/float32 and complex128/float64.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np

rng = np.random.default_rng(18)


def _c(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


INPUTS = {"a": _c(3, 4), "b": _c(3, 4) + 0.5, "m": _c(4, 2), "r": rng.standard_normal((3, 4)),
          "v": _c(5)}

VALUES = [
    "a * b", "a / b", "a + r", "r - b", "a @ m", "a.exp()", "a.log()", "a.sqrt()", "a ** 2", "a ** b",
    "a.pow(2.5)", "r * 1j", "a.abs()", "a.angle()", "r.angle()", "a.conj()", "torch.conj_physical(a)",
    "a.real", "a.imag", "torch.view_as_real(a)", "torch.view_as_complex(torch.view_as_real(a).contiguous())",
    "torch.polar(r.abs(), r)", "torch.complex(r, r * 2)", "a.sum()", "a.mean(0)", "a.sum(1)", "a.sgn()",
    "a.sin()", "a.tanh()", "a.reciprocal()", "a.sigmoid()", "a.t().reshape(2, 6)", "a[:, ::2]",
    "torch.tensor([1 + 2j, 3.5])", "torch.tensor(2j)", "torch.full((2,), 1j)", "a == b", "a != a.conj()",
    "torch.zeros(2, dtype=torch.complex128) + 1", "a.to(torch.complex64) * 2", "v.dot(v)", "v.vdot(v)",
    "a.var()", "a.std(1)", "a.norm()", "torch.tensor([complex('nan'), 1j, complex(1, float('inf'))]).isnan()",
    "torch.tensor([complex('nan'), 1j, complex(1, float('inf'))]).isfinite()", "torch.cat([a, r], 0)",
    "torch.stack([a, b]).prod(0)", "a.cumsum(1)", "torch.where(r > 0, a, b)", "a.flip(0).roll(1, 1)",
    "torch.zeros(2, dtype=torch.cfloat).fill_(1j)", "a.clone().add_(r)", "torch.full((2,), 1 - 2j, dtype=torch.complex128)",
    "a.sub(b, alpha=0.5)", "a.add(b, alpha=2j)", "r.add(a, alpha=-1.5)",
]

REPRS = [
    "torch.tensor([1.+2j, 3-1j])", "torch.tensor([1.5+2j, 3-1j], dtype=torch.complex128)",
    "torch.tensor([[1e-5+2j, 3e5-1j]])", "torch.tensor(1+2j)", "torch.tensor([1+0j, 2+0j])",
    "torch.tensor([1.2345678+2j, float('nan')+1j, complex(float('inf'), -1)])",
    "torch.zeros(2, 3, dtype=torch.cfloat)", "torch.tensor([0.1+0.2j, 100+3j], requires_grad=True)",
    "torch.tensor([], dtype=torch.complex64)", "torch.tensor([1e-5+2e-6j, 1+1j])", "torch.tensor([-1.-2j, 3+1j])",
    "torch.tensor([1.123456789+2.3j] * 30)", "torch.tensor([[1+1j] * 3] * 1200)",
    "torch.tensor([1+1j], dtype=torch.complex128) * 1.5",
]

DTYPES = [
    "torch.promote_types(torch.float32, torch.complex64)", "torch.promote_types(torch.float64, torch.complex64)",
    "torch.promote_types(torch.int64, torch.complex64)", "torch.promote_types(torch.float16, torch.complex128)",
    "torch.promote_types(torch.complex64, torch.complex128)", "torch.promote_types(torch.bool, torch.complex64)",
    "torch.result_type(torch.ones(2), 1j)", "torch.result_type(torch.ones(2, dtype=torch.float64), 1j)",
    "torch.result_type(torch.ones(2, dtype=torch.int64), 1j)", "torch.result_type(torch.tensor(1j), torch.ones(2))",
    "torch.result_type(torch.tensor(1j), torch.ones(2, dtype=torch.float64))",
    "torch.result_type(torch.ones(2, dtype=torch.complex128), 1.0)",
    "torch.result_type(torch.tensor(1.0, dtype=torch.float64), torch.ones(2, dtype=torch.complex64))",
    "(torch.ones(2, dtype=torch.float64) * 1j).dtype", "(torch.ones(2) + torch.tensor([1j])).dtype",
    "torch.tensor([1j]).dtype", "torch.tensor([1, 2j]).dtype", "torch.tensor(np.array([1j])).dtype",
    "torch.complex64.to_real()", "torch.complex128.to_real()", "torch.float64.to_complex()",
    "torch.float32.to_real()", "torch.randn(2, dtype=torch.cfloat).dtype", "torch.tensor([1j]).abs().dtype",
    "torch.tensor([1j], dtype=torch.complex128).angle().dtype", "torch.tensor([1j]).real.dtype",
    "torch.zeros(2, dtype=torch.cdouble).sum().dtype", "torch.ones(2, dtype=torch.int64).to(torch.cfloat).dtype",
]

ERRORS = [
    "a < b", "a > 1", "a.max()", "a.min()", "a.sort()", "a.argmax()", "torch.maximum(a, b)", "a.clamp(0, 1)",
    "a.floor()", "a.sign()", "torch.relu(a)", "r.imag", "torch.view_as_real(r)",
    "torch.view_as_complex(torch.ones(3, 3))", "torch.view_as_complex(torch.ones(2, 3).t())",
    "torch.view_as_complex(torch.ones(2, 2, dtype=torch.int64))",
    "torch.complex(torch.ones(2), torch.ones(2, dtype=torch.float64))",
    "torch.complex(torch.ones(2, dtype=torch.int64), torch.ones(2, dtype=torch.int64))",
    "a.sum().backward()", "a @ r.t()", "float(a[0, 0])", "a.clone().abs_()", "r.clone().mul_(1j)", "r.add(r, alpha=1j)",
    "torch.view_as_complex(r.reshape(-1)[1:5].view(2, 2))",
]

GRADS = [
    "(a * b).abs().sum()", "(a / b).real.sum()", "(a @ m).imag.sum()", "a.exp().abs().sum()",
    "a.log().imag.sum()", "a.sqrt().real.sum()", "(a ** 2).angle().sum()", "(a ** 3).real.sum()",
    "a.pow(2.5).imag.sum()", "(a ** b).abs().sum()", "torch.view_as_real(a * b).pow(2).sum()",
    "torch.view_as_complex(torch.stack([r, r * 2], -1)).mul(a).abs().sum()",
    "torch.polar(r.abs() + 0.1, r).mul(a).real.sum()", "torch.complex(r, r * r).mul(b).imag.sum()",
    "(a.conj() * b).real.sum()", "(a + r).abs().pow(2).sum()", "(a * r).sum().abs()",
    "a.mean().abs() + a.sum(0).real.sum()", "a.reshape(4, 3)[1:, ::2].abs().sum()",
    "a.t().sin().real.sum() + a.tanh().imag.sum()", "a.reciprocal().abs().sum()",
    "(a.abs() * b.angle()).sum()", "a.sigmoid().real.sum()", "(a[:, None] * b[None]).abs().mean()",
    "a.sgn().real.sum()", "(a * 1j + 2).log().real.sum()", "(r * 1j).exp().real.sum()",
    "(a.to(torch.complex128) * b).abs().sum()", "((a - b) / (a + 2)).imag.pow(2).sum()",
    "(a * a.conj()).real.sum()", "(v * v).abs().sum() + v.dot(v).real", "a.square().cos().real.sum()",
    "(2 / a).real.sum()", "(a.expand(2, 3, 4) * b).abs().sum()", "a.var() + a.std(0).sum()", "a.norm()",
    "torch.cat([a, r]).abs().sum()", "torch.where(r > 0, a, b).imag.sum()", "a.cumsum(1).prod(0).real.sum()",
    "a.cumprod(1).imag.sum() + a.prod().abs()",
]

DTYPE_PAIRS = {"complex64": ("complex64", "float32"), "complex128": ("complex128", "float64")}


def _inputs(torch, cdt, rdt, requires_grad=False):
    out = {}
    for k, v in INPUTS.items():
        arr = np.asarray(v, dtype=cdt if np.iscomplexobj(v) else rdt)
        out[k] = torch.tensor(arr, requires_grad=requires_grad)
    return out


def used_inputs(expr: str):
    import re
    return [k for k in INPUTS if re.search(rf"\b{k}\b", expr)]


def main():
    import torch
    data, meta = {}, {"values": VALUES, "reprs": {}, "dtypes": {}, "errors": {}, "grads": GRADS,
                      "value_dtypes": {}}
    for k, v in INPUTS.items():
        data[f"in_{k}"] = v
    env = {"torch": torch, "np": np}
    for cname, (cdt, rdt) in DTYPE_PAIRS.items():
        x = _inputs(torch, cdt, rdt)
        for i, expr in enumerate(VALUES):
            out = eval(expr, env, dict(x))
            data[f"value_{cname}_{i}"] = out.detach().resolve_conj().resolve_neg().numpy()
            meta["value_dtypes"][f"{cname}_{i}"] = str(out.dtype).replace("torch.", "")
        for i, expr in enumerate(GRADS):
            x = _inputs(torch, cdt, rdt, requires_grad=True)
            loss = eval(expr, env, dict(x))
            loss.backward()
            data[f"loss_{cname}_{i}"] = loss.detach().numpy()
            for k in used_inputs(expr):
                if x[k].grad is None:   # used only where no gradient flows (a condition)
                    continue
                data[f"grad_{cname}_{i}_{k}"] = x[k].grad.resolve_conj().resolve_neg().numpy()
    x = _inputs(torch, "complex64", "float32")
    for expr in REPRS:
        meta["reprs"][expr] = repr(eval(expr, env, dict(x))).replace("torch.", "ember.")
    for expr in DTYPES:
        meta["dtypes"][expr] = str(eval(expr, env, dict(x))).replace("torch.", "")
    for expr in ERRORS:
        try:
            eval(expr, env, dict(x))
        except Exception as e:   # noqa: BLE001 - the type is the reference
            meta["errors"][expr] = type(e).__name__
        else:
            raise AssertionError(f"PyTorch accepted {expr}")
    data["meta"] = np.array(json.dumps(meta))
    path = pathlib.Path(__file__).with_name("complex_reference.npz")
    np.savez_compressed(path, **data)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
