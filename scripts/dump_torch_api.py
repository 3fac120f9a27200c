"""Write the public, documented names of four PyTorch namespaces to ``scripts/data/torch_api_<version>.json``.

Run it with the reference venv that has PyTorch (Ember itself never imports torch)::

    /work/refvenv/bin/python scripts/dump_torch_api.py

then ``python scripts/api_gap.py`` (Ember's venv) to refresh the README's list of names Ember lacks.

The JSON holds ``{"torch_version": ..., "namespaces": {namespace: sorted names}}`` for ``torch``,
``torch.Tensor``, ``torch.nn.functional`` and ``torch.nn``. "Public and documented" is decided per
namespace by these filters (every name starting with ``_`` is dropped everywhere):

``torch``
    Candidates are ``torch.__all__`` plus the public attributes of the module that ``__all__`` forgets
    (``set_default_dtype``, ``unique``, ``set_grad_enabled``, ``channels_last`` ...). Kept: callables,
    dtypes, layouts, memory formats and the constants ``e, pi, inf, nan, newaxis``. Dropped:
    submodules (``torch.cpp``, ``torch.export``, ``torch.nn`` ...); classes and functions bound with
    pybind11 (TorchScript/JIT and dispatcher internals such as ``Graph``, ``AliasDb``, ``parse_ir``,
    whose only docstring is pybind11's generated signature); storage classes (``*Storage``,
    ``StorageBase``); C functions without a docstring (undocumented kernels and in-place variants such
    as ``abs_``, ``cudnn_convolution``, ``fbgemm_*``, ``native_batch_norm``); Python functions without
    a docstring (stubs of removed functions such as ``torch.eig``); ``torch.ops``/``torch.classes``
    objects (``OpOverloadPacket``); the few undocumented ``torch._C``/``torch.jit`` classes named in
    ``_TORCH_INTERNAL_CLASSES`` and ``legacy_contiguous_format``; other non-callable values
    (``has_mkl``, ``default_generator``, quantization schemes).

``torch.Tensor``
    Public methods and properties found on the class (dunder and ``_`` names excluded), C-level
    ones included even without a docstring (``data``, ``dtype``, ``relu``); Python-level functions
    without a docstring are dropped (stubs of removed methods: ``eig``, ``lstsq``, ``solve``,
    ``symeig``, ``resize`` ...).

``torch.nn.functional``
    ``__all__`` when the module has one (2.13 has none); otherwise its public functions, defined in
    ``torch.nn.functional``, ``torch`` or ``torch._C._nn``. Dropped: classes (``Callable``,
    ``Optional``, ``Tensor``, ``BroadcastingList2``, enums), modules (``math``, ``grad``), data
    (``reproducibility_notes``), helpers imported from elsewhere (``handle_torch_function``,
    ``has_torch_function*``, ``boolean_dispatch``) and Python functions without a docstring
    (``assert_int_or_pair``).

``torch.nn``
    ``torch.nn.modules.__all__`` (the layer classes), the public classes ``torch.nn`` defines elsewhere
    (``Parameter``, ``Buffer``, ``UninitializedParameter``, ``DataParallel`` ...) and the documented
    submodules in ``_NN_SUBMODULES`` (``functional``, ``init``, ``utils``, ...). Other submodules
    (``modules``, ``parameter``, ``common_types``, quantization's ``qat``/``quantized`` ...) are plumbing.
"""
from __future__ import annotations

import inspect
import json
import types
from pathlib import Path

import torch
import torch.nn
import torch.nn.functional

DATA_DIR = Path(__file__).resolve().parent / "data"

# Constants documented at the top of the torch namespace.
_TORCH_CONSTANTS = ("e", "pi", "inf", "nan", "newaxis")
# Undocumented classes that torch re-exports from torch._C / torch.jit (dispatcher and TorchScript internals).
_TORCH_INTERNAL_CLASSES = ("DisableTorchFunction", "DisableTorchFunctionSubclass", "FatalError", "JITException")
# Values of documented types that the documentation does not list.
_TORCH_UNDOCUMENTED_VALUES = ("legacy_contiguous_format",)
# The submodules of torch.nn that its documentation presents as API.
_NN_SUBMODULES = ("attention", "functional", "init", "parallel", "utils")
# Where torch.nn.functional's own functions live (its C kernels are bound in torch and torch._C._nn).
_F_HOMES = ("torch.nn.functional", "torch", "torch._C._nn")


def _public(name: str) -> bool:
    return not name.startswith("_")


def _has_doc(obj) -> bool:
    doc = getattr(obj, "__doc__", None)
    return isinstance(doc, str) and bool(doc.strip())


def _is_pybind11(obj) -> bool:
    """True for a pybind11-bound class, an instance of one, or a pybind11 function.

    pybind11 types live in the pseudo-module ``pybind11_builtins``; a pybind11 function's ``__self__`` is
    its function record (a ``PyCapsule`` in older pybind11 versions), whereas torch's documented C
    functions have ``__self__ is None``.
    """
    if "pybind11_builtins" in (type(obj).__module__, type(type(obj)).__module__):
        return True
    owner = type(getattr(obj, "__self__", None))
    return isinstance(obj, types.BuiltinFunctionType) and (owner.__module__ == "pybind11_builtins"
                                                           or owner.__name__ == "PyCapsule")


def _is_torch_value(obj) -> bool:
    """dtypes, layouts and memory formats: the non-callable objects of torch that code passes around."""
    return isinstance(obj, (torch.dtype, torch.layout, torch.memory_format))


def _keep_torch_name(name: str, obj) -> bool:
    if name in _TORCH_CONSTANTS:
        return True
    if name in _TORCH_INTERNAL_CLASSES or name in _TORCH_UNDOCUMENTED_VALUES:
        return False
    if isinstance(obj, types.ModuleType) or _is_pybind11(obj):
        return False
    if name.endswith("Storage") or name == "StorageBase" or type(obj).__module__ == "torch._ops":
        return False
    if _is_torch_value(obj):
        return True
    if not callable(obj):
        return False
    if isinstance(obj, (types.BuiltinFunctionType, types.FunctionType)):
        return _has_doc(obj)
    return True  # classes (Tensor, Size, device, no_grad ...) and other callables (get_device_module)


def torch_names() -> list[str]:
    candidates = set(torch.__all__) | {n for n in dir(torch) if _public(n)}
    return sorted(n for n in candidates if _public(n) and hasattr(torch, n) and _keep_torch_name(n, getattr(torch, n)))


def tensor_names() -> list[str]:
    names = []
    for name in dir(torch.Tensor):
        if not _public(name):
            continue
        attr = inspect.getattr_static(torch.Tensor, name)
        if isinstance(attr, types.FunctionType) and not _has_doc(attr):
            continue  # a Python-level stub of a removed method
        names.append(name)
    return sorted(names)


def _keep_functional_name(obj) -> bool:
    if inspect.isclass(obj) or not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return False
    if getattr(obj, "__module__", None) not in _F_HOMES:
        return False
    return _has_doc(obj) or isinstance(obj, types.BuiltinFunctionType)


def functional_names() -> list[str]:
    F = torch.nn.functional
    if hasattr(F, "__all__"):
        return sorted(set(F.__all__))
    return sorted(n for n in dir(F) if _public(n) and _keep_functional_name(getattr(F, n)))


def nn_names() -> list[str]:
    nn = torch.nn
    names = set(nn.modules.__all__) | set(_NN_SUBMODULES)
    for name in dir(nn):
        obj = getattr(nn, name)
        if _public(name) and inspect.isclass(obj) and obj.__module__.startswith("torch.nn."):
            names.add(name)
    missing = sorted(n for n in names if not hasattr(nn, n))
    if missing:
        raise RuntimeError(f"torch.nn lacks names the filter expects: {missing}")
    return sorted(names)


def dump() -> Path:
    version = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    api = {
        "torch_version": torch.__version__,
        "namespaces": {
            "torch": torch_names(),
            "torch.Tensor": tensor_names(),
            "torch.nn.functional": functional_names(),
            "torch.nn": nn_names(),
        },
    }
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"torch_api_{version}.json"
    path.write_text(json.dumps(api, indent=1) + "\n")
    return path


if __name__ == "__main__":
    out = dump()
    counts = {ns: len(names) for ns, names in json.loads(out.read_text())["namespaces"].items()}
    print(f"wrote {out} {counts}")
