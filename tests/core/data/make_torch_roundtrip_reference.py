"""Checkpoints written by Ember that PyTorch must read, and what ``torch.load`` made of them.

Used by tests/core/test_serialization_objects.py, which never imports torch. Two steps:

1. With Ember's environment, write the checkpoints (commit them when Ember's output changes on purpose)::

       .venv/bin/python tests/core/data/make_torch_roundtrip_reference.py --write

   ``ember_torch_format.pt``: ``ember.save(torch_format_object(), f, format="torch")``, a state dict
   with views of one storage (transposed, offset, expanded), every dtype, Parameters (one saved
   twice), a 0-d and an empty tensor, and plain values (Size, dtype, device, bytes, set, ...).
   ``ember_whole_objects.pt``: ``ember.save(whole_object(), f)`` (default format), a whole
   ``nn.Sequential`` (Linear, ReLU, BatchNorm1d in eval mode, Linear), a NumPy array, a date, a
   Fraction, an ``argparse.Namespace``, tensor views, a dtype, a device and a Size: Ember pickles it
   in PyTorch's zip layout.

2. With PyTorch 2.13 (the reference environment), check that ``torch.load`` reads them and record
   what it saw in ``torch_roundtrip_reference.json``::

       /work/refvenv/bin/python tests/core/data/make_torch_roundtrip_reference.py

   ``ember_torch_format.pt`` is loaded with ``torch.load(f)`` (``weights_only=True``) and with
   ``mmap=True``; ``ember_whole_objects.pt`` with ``weights_only=False`` (Ember is put on ``sys.path``:
   the model is an Ember module whose parameters PyTorch rebuilds as ``torch.nn.Parameter``), and
   with the default ``weights_only=True``, which PyTorch refuses. Every tensor is compared with the
   same value built in PyTorch from the same closed-form expressions (values, dtype, stride, storage
   offset, shared storages, Parameter type and ``requires_grad``), and PyTorch runs the model's
   forward pass with the loaded weights, for the test to compare with Ember's.

Output of the last run (PyTorch 2.13.0+cpu)::

    ember_torch_format.pt: torch.load(weights_only=True) ok: 23 entries, 17 tensors in 12 storages
    ember_torch_format.pt: torch.load(mmap=True) ok
    ember_whole_objects.pt: torch.load(weights_only=False) ok: Sequential of 4 modules with torch Parameters
    ember_whole_objects.pt: torch.load(weights_only=True) refused: Unsupported global: GLOBAL
        ember.nn.modules.container.Sequential was not an allowed global by default.
    forward pass on the loaded weights: max |torch - expected| = 0
    wrote torch_roundtrip_reference.json
"""
import argparse
import collections
import datetime
import fractions
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_CORE = os.path.join(HERE, "..", "..", "..", "core")
TORCH_FORMAT = "ember_torch_format.pt"
WHOLE_OBJECTS = "ember_whole_objects.pt"
REFERENCE = "torch_roundtrip_reference.json"


# ---- the objects (built with Ember, or with PyTorch for the comparison: `lib` is either module) -----

def torch_format_object(lib):
    """A state-dict-like object; every value has a closed form, so PyTorch can build the same one."""
    nn = lib.nn
    base = lib.arange(24, dtype=lib.float32).reshape(4, 6)
    param = nn.Parameter(lib.full((2, 2), 1.5))
    state = collections.OrderedDict()
    state["weight"] = base
    state["weight_t"] = base.t()                  # a transposed view of the same storage
    state["window"] = base[1:3, 2:5]              # a view at storage offset 8
    state["row_expanded"] = base[1].expand(3, 6)  # a stride-0 view at offset 6
    state["steps"] = lib.arange(5, dtype=lib.int64) * 3 - 4
    state["mask"] = lib.tensor([True, False, True])
    state["half"] = lib.tensor([0.5, -2.0, 65504.0], dtype=lib.float16)
    state["double"] = lib.linspace(0, 1, 5, dtype=lib.float64)
    state["int8"] = lib.tensor([-128, 0, 127], dtype=lib.int8)
    state["int16"] = lib.tensor([-32768, 7, 32767], dtype=lib.int16)
    state["int32"] = lib.tensor([-(2 ** 31), 7, 2 ** 31 - 1], dtype=lib.int32)
    state["uint8"] = lib.tensor([0, 7, 255], dtype=lib.uint8)
    state["scalar"] = lib.tensor(7)
    state["empty"] = lib.zeros(0, 3)
    state["param"] = param
    state["tied"] = param                         # the same object twice: one object once loaded
    state["frozen"] = nn.Parameter(lib.ones(2), requires_grad=False)
    state["size"] = lib.Size([2, 3])
    state["dtype"] = lib.float64
    state["device"] = lib.device("cpu")
    state["raw"] = b"raw\x00bytes"
    state["ids"] = {1, 2}
    state["meta"] = {"epoch": 3, "lr": 0.1, "name": "run", "pair": (1, None), 3: [True, 2.5, float("inf")]}
    return state


MODEL_INPUT = (np.arange(6, dtype=np.float32).reshape(2, 3) / 5 - 0.5)


def make_model(lib):
    """Sequential(Linear(3, 4), ReLU, BatchNorm1d(4), Linear(4, 2)) with closed-form weights, in eval mode."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    with lib.no_grad():
        for i, (_, p) in enumerate(sorted(model.named_parameters())):
            p.copy_(lib.arange(p.numel(), dtype=lib.float32).reshape(p.shape) / (7 + i) - 0.3)
        model[2].running_mean.copy_(lib.tensor([0.1, -0.2, 0.3, 0.0]))
        model[2].running_var.copy_(lib.tensor([1.5, 0.5, 2.0, 1.0]))
        model[2].num_batches_tracked.fill_(4)
    return model.eval()


def whole_object(lib):
    """Everything ``torch.save`` can save, with Ember's own default format picking the zip layout."""
    base = lib.arange(12, dtype=lib.float32).reshape(3, 4)
    return {"model": make_model(lib), "array": np.arange(6, dtype=np.int32).reshape(2, 3),
            "when": datetime.date(2024, 1, 2), "ratio": fractions.Fraction(1, 3),
            "args": argparse.Namespace(lr=0.1, epochs=3), "views": [base, base[1:], base.t()],
            "dtype": lib.float16, "device": lib.device("cpu"), "size": lib.Size([4]), "step": 7}


# ---- step 1: Ember writes ------------------------------------------------------------------------

def write_checkpoints():
    import ember
    ember.save(torch_format_object(ember), os.path.join(HERE, TORCH_FORMAT), format="torch")
    ember.save(whole_object(ember), os.path.join(HERE, WHOLE_OBJECTS))
    print(f"wrote {TORCH_FORMAT} and {WHOLE_OBJECTS}")


# ---- step 2: PyTorch reads ------------------------------------------------------------------------

def describe(v, storages: dict):
    """What PyTorch made of a value, JSON-friendly: tensors in full, storages numbered in order seen."""
    import torch
    if isinstance(v, torch.Tensor):
        ptr = v.untyped_storage().data_ptr()
        return {"type": f"{type(v).__module__}.{type(v).__qualname__}", "dtype": str(v.dtype), "shape": list(v.shape),
                "stride": list(v.stride()), "storage_offset": v.storage_offset(),
                "storage": storages.setdefault(ptr, len(storages)) if v.numel() else None,
                "requires_grad": v.requires_grad, "values": v.detach().tolist()}
    return {"type": f"{type(v).__module__}.{type(v).__qualname__}", "repr": repr(v)}


def assert_same_tensor(got, expected, name):
    import torch
    assert type(got) is type(expected), (name, type(got), type(expected))
    assert got.dtype == expected.dtype and got.shape == expected.shape, name
    assert got.stride() == expected.stride() and got.storage_offset() == expected.storage_offset(), name
    assert torch.equal(got, expected), name
    assert got.requires_grad == expected.requires_grad, name


def check_torch_format(torch):
    path = os.path.join(HERE, TORCH_FORMAT)
    got = torch.load(path)  # weights_only=True, PyTorch's default
    expected = torch_format_object(torch)
    assert list(got) == list(expected)
    for k, v in expected.items():
        if isinstance(v, torch.Tensor):
            assert_same_tensor(got[k], v, k)
        else:
            assert got[k] == v and type(got[k]) is type(v), k
    ptr = got["weight"].untyped_storage().data_ptr()
    assert all(got[k].untyped_storage().data_ptr() == ptr for k in ("weight_t", "window", "row_expanded"))
    assert got["tied"] is got["param"]
    mapped = torch.load(path, mmap=True)
    assert all(torch.equal(mapped[k], v) for k, v in expected.items() if isinstance(v, torch.Tensor))
    storages = {}
    record = {k: describe(v, storages) for k, v in got.items()}
    tensors = sum(isinstance(v, torch.Tensor) for v in got.values())
    print(f"{TORCH_FORMAT}: torch.load(weights_only=True) ok: {len(got)} entries, {tensors} tensors in "
          f"{len(storages)} storages")
    print(f"{TORCH_FORMAT}: torch.load(mmap=True) ok")
    return record


def torch_state(module) -> dict:
    """The parameters and buffers PyTorch rebuilt inside the (Ember) module, by their state-dict names."""
    out = {}
    for name, child in module._modules.items():
        for k, v in torch_state(child).items():
            out[f"{name}.{k}"] = v
    for k, v in list(module._parameters.items()) + list(module._buffers.items()):
        out[k] = v
    return out


def check_whole_objects(torch):
    import pickle
    path = os.path.join(HERE, WHOLE_OBJECTS)
    sys.path.insert(0, os.path.abspath(REPO_CORE))  # the pickle refers to Ember's classes
    got = torch.load(path, weights_only=False)
    expected = whole_object(torch)
    assert type(got["model"]).__module__ == "ember.nn.modules.container"
    state = torch_state(got["model"])
    reference = expected["model"].state_dict()
    assert sorted(state) == sorted(reference), (sorted(state), sorted(reference))
    for k, v in reference.items():
        kind = torch.nn.Parameter if k in dict(expected["model"].named_parameters()) else torch.Tensor
        assert type(state[k]) is kind and state[k].dtype == v.dtype and torch.equal(state[k].detach(), v), k
    np.testing.assert_array_equal(got["array"], expected["array"])
    assert got["array"].dtype == np.int32
    for k in ("when", "ratio", "args", "dtype", "device", "size", "step"):
        assert got[k] == expected[k] and type(got[k]) is type(expected[k]), k
    for i, (a, b) in enumerate(zip(got["views"], expected["views"])):
        assert_same_tensor(a, b, f"views[{i}]")
    assert len({v.untyped_storage().data_ptr() for v in got["views"]}) == 1
    print(f"{WHOLE_OBJECTS}: torch.load(weights_only=False) ok: Sequential of {len(got['model']._modules)} modules "
          "with torch Parameters")
    try:
        torch.load(path)
        raise AssertionError("torch.load(weights_only=True) accepted Ember's classes")
    except pickle.UnpicklingError as e:
        refusal = next(line.strip() for line in str(e).splitlines() if "Unsupported global" in line)
        refusal = refusal[refusal.index("Unsupported global"):].split(" Please use")[0]
    print(f"{WHOLE_OBJECTS}: torch.load(weights_only=True) refused: {refusal}")

    # The forward pass, in PyTorch, with the weights PyTorch loaded.
    model = make_model(torch)
    model.load_state_dict({k: v.detach() for k, v in state.items()})
    output = model(torch.from_numpy(MODEL_INPUT)).detach()
    print(f"forward pass on the loaded weights: max |torch - expected| = "
          f"{(output - make_model(torch)(torch.from_numpy(MODEL_INPUT))).abs().max().item():g}")
    storages = {}
    record = {"model_type": f"{type(got['model']).__module__}.{type(got['model']).__qualname__}",
              "state": {k: describe(v, storages) for k, v in state.items()},
              "views": [describe(v, storages) for v in got["views"]],
              "array": {"type": f"{type(got['array']).__module__}.ndarray", "dtype": str(got["array"].dtype),
                        "values": got["array"].tolist()},
              **{k: describe(got[k], storages) for k in ("when", "ratio", "args", "dtype", "device", "size", "step")}}
    return record, refusal, output.tolist()


def read_with_torch():
    import torch
    torch_format = check_torch_format(torch)
    whole, refusal, output = check_whole_objects(torch)
    out = {"torch_version": torch.__version__, "torch_format": torch_format, "whole_objects": whole,
           "weights_only_refusal": refusal, "forward": {"input": MODEL_INPUT.tolist(), "output": output}}
    with open(os.path.join(HERE, REFERENCE), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_checkpoints()
    else:
        read_with_torch()
