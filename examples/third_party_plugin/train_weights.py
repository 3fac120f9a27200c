"""Train the toy model's pretrained weights and write them into the package data.

    python examples/third_party_plugin/train_weights.py

Prints the values for the ``ToyMLP_Weights.BLOBS_V1`` record (sha256, size, statistics, accuracy);
paste them into ``src/ember_toy/__init__.py`` when they change.
"""
from __future__ import annotations

import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "src"))  # run from a checkout, installed or not

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember_toy import Blobs, ToyMLP, accuracy, standardize  # noqa: E402

OUT = os.path.join(HERE, "src", "ember_toy", "weights", "mlp_blobs_v1.ember")


def main() -> None:
    ember.manual_seed(0)
    train, test = Blobs(train=True), Blobs(train=False)
    mean = [round(v, 4) for v in train.data.mean(0).tolist()]
    std = [round(v, 4) for v in train.data.std(0).tolist()]
    x, y = standardize(train.data, mean, std), train.targets
    model = ToyMLP()
    opt = ember.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    with ember.no_grad():
        acc = round(accuracy(model(standardize(test.data, mean, std)), test.targets), 4)
    ember.save(model.state_dict(), OUT)
    digest = hashlib.sha256(open(OUT, "rb").read()).hexdigest()
    print(f"wrote {OUT}")
    print(f'sha256="{digest}", size={os.path.getsize(OUT)}, num_params={sum(p.numel() for p in model.parameters())}, '
          f"accuracy={acc}, mean={tuple(mean)}, std={tuple(std)}")


if __name__ == "__main__":
    main()
