"""Regenerate the PyTorch-written checkpoints used by tests/core/test_serialization_malformed.py and
the fuzz suite (tests/fuzz). Needs PyTorch (the tests themselves never import it):

    /work/refvenv/bin/python tests/core/data/make_malformed_fixtures.py

Writes, each a few KB:

* ``torch_expand.pt``: ``torch.zeros(1).expand(12000, 12000)`` (zip format), issue 12's memory
  amplification case: 144 million elements viewing a 1-element storage;
* ``torch_views.pt`` and ``torch_views_legacy.pt`` (zip and legacy layout): a dict of tensors sharing
  storages in every way ``torch.save`` keeps: a base, its transpose, a strided window with a storage
  offset, an expanded row (stride 0), a bfloat16 tensor and its transpose, and a tensor whose
  storage is larger than the tensor (a slice of a longer one). Their values are closed-form
  expressions the tests rebuild with NumPy; ``torch_views.json`` records each tensor's stride and
  storage offset as PyTorch reports them after ``torch.load``.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def make_views():
    base = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    row = torch.arange(3, dtype=torch.int64)
    bf = torch.tensor([[1.0, -2.0], [0.5, 4.0]], dtype=torch.bfloat16)
    long = torch.arange(10, dtype=torch.int16)
    return {
        "base": base,
        "base_t": base.t(),
        "window": base[1:4:2, 1:5:2],  # strided, storage offset 6
        "rows": row.expand(4, 3),       # stride (0, 1)
        "row": row,
        "bf": bf,
        "bf_t": bf.t(),
        "tail": long[7:],               # offset 7 into a 10-element storage
    }


def main():
    torch.save(torch.zeros(1).expand(12000, 12000), os.path.join(HERE, "torch_expand.pt"))
    views = make_views()
    torch.save(views, os.path.join(HERE, "torch_views.pt"))
    torch.save(views, os.path.join(HERE, "torch_views_legacy.pt"), _use_new_zipfile_serialization=False)
    loaded = torch.load(os.path.join(HERE, "torch_views.pt"))
    geometry = {k: {"stride": list(t.stride()), "storage_offset": t.storage_offset(), "shape": list(t.shape)}
                for k, t in loaded.items()}
    with open(os.path.join(HERE, "torch_views.json"), "w") as fh:
        json.dump(geometry, fh, sort_keys=True)


if __name__ == "__main__":
    main()
