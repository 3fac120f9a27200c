"""Train LeNet-5 on Fashion-MNIST and write the weights that ship with ember-vision.

    python plugins/vision/scripts/train_lenet5.py                    # 6-20 min on 2 CPU cores
    python plugins/vision/scripts/train_lenet5.py --root DIR --out /tmp/lenet5.ember

Data: ``ember_vision.datasets.FashionMNIST(root, download=True)``, which copies the files of Debian's
``dataset-fashion-mnist`` package when installed (``apt-get install dataset-fashion-mnist``) and
downloads them otherwise; ``--root`` defaults to ``$EMBER_HOME/datasets``.

Recipe (fixed seeds, so a re-run on the same machine gives the same file): inputs scaled to [0, 1] and
normalised with the training-set mean/std (0.2860, 0.3530); Adam (lr 1e-3, betas (0.9, 0.999)), batch
128, cross-entropy, ``--epochs`` epochs (default 10) with the learning rate multiplied by 0.5 after
epochs 6 and 8; no augmentation, no validation split. The script evaluates the final weights on the
full 10,000-image test set and prints the ``Weights(...)`` record (sha256, size, metadata with the
measured accuracy) to paste into ``ember_vision/models/lenet.py``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import ember
from ember import nn
from ember.plugins.weights import ember_home, sha256_file
from ember_vision.datasets import FashionMNIST
from ember_vision.models.lenet import FASHIONMNIST_CATEGORIES, FASHIONMNIST_MEAN, FASHIONMNIST_STD, LeNet5

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "ember_vision" / "weights" / "lenet5_fashionmnist_v1.ember"


def load_split(root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (uint8, N x 28 x 28) and labels of one split."""
    ds = FashionMNIST(str(root), train=train, download=True)
    return ds.data.numpy(), ds.targets.numpy()


def normalise(images: np.ndarray) -> ember.Tensor:
    x = (images.astype(np.float32) / 255.0 - FASHIONMNIST_MEAN[0]) / FASHIONMNIST_STD[0]
    return ember.from_numpy(x[:, None])


def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch: int = 1000) -> float:
    model.eval()
    correct = 0
    with ember.no_grad():
        for i in range(0, len(images), batch):
            pred = model(normalise(images[i:i + batch])).argmax(1).numpy()
            correct += int((pred == labels[i:i + batch]).sum())
    return correct / len(images)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=ember_home() / "datasets",
                   help="datasets root (Fashion-MNIST goes in ROOT/FashionMNIST/raw)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    train_x, train_y = load_split(args.root, train=True)
    test_x, test_y = load_split(args.root, train=False)
    print(f"data: {args.root / 'FashionMNIST'} ({len(train_x)} train, {len(test_x)} test)")

    ember.manual_seed(args.seed)
    gen = ember.Generator().manual_seed(args.seed)
    model = LeNet5(num_classes=10)
    opt = ember.optim.Adam(model.parameters(), lr=args.lr)
    milestones = [int(args.epochs * 0.6), int(args.epochs * 0.8)]
    sched = ember.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    x_all, y_all = normalise(train_x), ember.from_numpy(train_y.astype(np.int64))
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = ember.randperm(len(train_x), generator=gen)
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / len(order):.4f}, "
              f"test accuracy {evaluate(model, test_x, test_y):.4f} ({time.time() - start:.0f} s)", flush=True)

    accuracy = evaluate(model, test_x, test_y)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ember.save(model.state_dict(), args.out)
    num_params = sum(p.numel() for p in model.parameters())
    meta = {
        "categories": FASHIONMNIST_CATEGORIES,
        "num_params": num_params,
        "dataset": "Fashion-MNIST",
        "recipe": (f"plugins/vision/scripts/train_lenet5.py --epochs {args.epochs} --batch-size {args.batch_size} "
                   f"--lr {args.lr} --seed {args.seed}: Adam, lr x0.5 after epochs {milestones}, "
                   "inputs normalised with mean 0.2860 / std 0.3530, no augmentation"),
        "metrics": {"accuracy": round(accuracy, 4)},
        "evaluation": "full Fashion-MNIST test set (10,000 images)",
        "min_size": (28, 28),
    }
    print(f"\ntest accuracy {accuracy:.4f}; wrote {args.out}\n")
    print("Weights(\n"
          f'    url="package://ember_vision/weights/{args.out.name}",\n'
          f'    sha256="{sha256_file(args.out)}",\n'
          f"    size={args.out.stat().st_size},\n"
          f"    meta={json.dumps(meta)},\n"
          "    transforms=_fashion_transforms,\n)")


if __name__ == "__main__":
    main()
