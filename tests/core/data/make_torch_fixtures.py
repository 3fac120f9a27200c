"""Regenerate the PyTorch checkpoint fixtures used by tests/core/test_serialization.py.

Needs PyTorch (the tests themselves never import it):

    /tmp/vtorch/bin/python tests/core/data/make_torch_fixtures.py

Writes ``torch_linear_state.pt`` (a small ``nn.Sequential``'s state_dict, its values also in
``torch_linear_values.json``), ``torch_zip.pt`` (``torch.save``'s zip format) and ``torch_legacy.pt``
(``_use_new_zipfile_serialization=False``) holding the same object: a state_dict-like OrderedDict
with float32/int64/bool/float16/float64/bfloat16 tensors, a non-contiguous view sharing storage with
another entry, an offset view, a 0-d tensor, an empty tensor, a Parameter, and nested containers.
The values are simple closed-form expressions so the tests can rebuild them with NumPy.
"""
import collections
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def make_object():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = collections.OrderedDict()
    obj["weight"] = base
    obj["weight_t"] = base.t()                     # non-contiguous view of the same storage
    obj["window"] = base[1:3, 2:5]                 # view with a storage offset
    obj["steps"] = torch.arange(5, dtype=torch.int64) * 3 - 4
    obj["mask"] = torch.tensor([True, False, True])
    obj["half"] = torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16)
    obj["double"] = torch.linspace(0, 1, 5, dtype=torch.float64)
    obj["bf16"] = torch.tensor([1.0, -0.5, 3.0], dtype=torch.bfloat16)
    obj["scalar"] = torch.tensor(7, dtype=torch.int64)
    obj["empty"] = torch.zeros(0, 3)
    obj["param"] = torch.nn.Parameter(torch.full((2, 2), 1.5))
    obj["frozen"] = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    obj["nested"] = {"list": [1, 2.5, "three", None, True], "tuple": (torch.tensor([1, 2], dtype=torch.int32), b"raw"),
                     3: {"step": torch.tensor(10.0), "lr": 0.1}, "size": torch.Size([2, 3])}
    return obj


def main():
    obj = make_object()
    torch.save(obj, os.path.join(HERE, "torch_zip.pt"))
    torch.save(obj, os.path.join(HERE, "torch_legacy.pt"), _use_new_zipfile_serialization=False)
    # A module's state_dict, as written by ordinary training code.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch.save(model.state_dict(), os.path.join(HERE, "torch_linear_state.pt"))
    with open(os.path.join(HERE, "torch_linear_values.json"), "w") as fh:  # reference values for the test
        json.dump({k: v.tolist() for k, v in model.state_dict().items()}, fh)


if __name__ == "__main__":
    main()
