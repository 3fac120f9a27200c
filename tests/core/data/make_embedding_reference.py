"""Regenerate ``embedding_reference.npz``: PyTorch 2.13's embedding weight gradients with
``scale_grad_by_freq`` and ``sparse`` (densified), used by tests/core/test_embedding_options.py.

    /tmp/ref/bin/python tests/core/data/make_embedding_reference.py
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((7, 4))
    indices = np.array([[1, 3, 1, 6], [0, 1, 3, 3]])
    upstream = rng.standard_normal((2, 4, 4))
    data = {"weight": weight, "indices": indices, "upstream": upstream}
    for scale in (False, True):
        for sparse in ((False,) if scale else (False, True)):   # PyTorch refuses the two together
            for padding_idx in (None, 3):
                w = torch.tensor(weight, requires_grad=True)
                out = torch.nn.functional.embedding(torch.tensor(indices), w, padding_idx=padding_idx,
                                                    scale_grad_by_freq=scale, sparse=sparse)
                out.backward(torch.tensor(upstream))
                g = w.grad.to_dense() if w.grad.is_sparse else w.grad
                data[f"grad_{int(scale)}{int(sparse)}_{padding_idx}"] = g.numpy()
    np.savez(os.path.join(HERE, "embedding_reference.npz"), **data)


if __name__ == "__main__":
    main()
