"""Fine-tune a pretrained ember-vision model on new classes, as PyTorch users do with torchvision.

LeNet-5 pretrained on Fashion-MNIST (its weights ship inside ember-vision) learns scikit-learn's
bundled 8x8 handwritten digits (1,797 real scans, ``ember_vision.datasets.Digits``; nothing is
downloaded):

1. pretrained weights, and the preprocessing they expect (``weights.transforms()``);
2. a new, freshly initialised head for the 10 digits (``reset_classifier``);
3. the convolutional body frozen (``requires_grad_(False)``);
4. parameter groups: the hidden classifier layers learn slowly, the new head fast;
5. the fine-tuned weights saved, reloaded into a fresh model, and used to predict.

Run it with ``python examples/finetune_vision.py`` (about ten seconds on a laptop CPU); it needs
``pip install ./ ./plugins/vision scikit-learn``. Swap ``import ember as torch`` and
``import ember_vision as torchvision`` for the real ones and it is the PyTorch version.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import ember
from ember import hub, nn
from ember.utils.data import DataLoader, TensorDataset
from ember_vision.datasets import Digits


def load_digits(preprocess):
    """ember-vision's ``Digits`` (scikit-learn's scans, its fixed 80/20 split), preprocessed once into tensors."""
    def tensors(train: bool) -> TensorDataset:
        ds = Digits(train=train)
        return TensorDataset(preprocess(ds.data.unsqueeze(1)), ds.targets)   # (N, 1, 8, 8) uint8 -> (N, 1, 28, 28)
    return tensors(True), tensors(False)


def accuracy(model: nn.Module, data: TensorDataset) -> float:
    model.eval()
    x, y = data.tensors
    with ember.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def finetune(model: nn.Module, train: TensorDataset, epochs: int, batch_size: int = 64) -> None:
    """Train the unfrozen layers: hidden classifier layers at a small learning rate, the new head at a larger one."""
    head = model.get_classifier()
    head_ids = {id(p) for p in head.parameters()}
    hidden = [p for p in model.classifier.parameters() if id(p) not in head_ids]
    optimizer = ember.optim.Adam([{"params": hidden, "lr": 3e-4},
                                  {"params": head.parameters(), "lr": 3e-3}])
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(train, batch_size=batch_size, shuffle=True)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        print(f"epoch {epoch}/{epochs}: loss {total / len(train):.4f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=None, help="where to save the fine-tuned weights (default: a temp dir)")
    args = parser.parse_args(argv)
    ember.manual_seed(0)
    start = time.perf_counter()

    # 1. Pretrained weights, with the preprocessing they were trained with.
    weights = hub.get_model_weights("vision:lenet5").DEFAULT
    model = hub.load("vision", "lenet5", weights=weights)
    train, test = load_digits(weights.transforms())
    print(f"pretrained on {weights.meta['dataset']} ({len(weights.meta['categories'])} classes); "
          f"digits: {len(train)} train, {len(test)} test images")

    # 2. A new head: the digits' 10 classes are not Fashion-MNIST's 10, so the old head is of no use.
    model.reset_classifier(10)
    # 3. Freeze the convolutional body: its pretrained filters are kept as they are.
    model.features.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable parameters: {trainable} of {sum(p.numel() for p in model.parameters())}")
    # 4. Train the classifier with two parameter groups.
    finetune(model, train, args.epochs)
    acc = accuracy(model, test)
    print(f"test accuracy after fine-tuning: {acc:.4f}")

    # 5. Save, reload into a fresh model (no pretrained weights needed), predict.
    out_dir = args.out or tempfile.mkdtemp(prefix="ember-finetune-")
    path = os.path.join(out_dir, "lenet5_digits.ember")
    ember.save(model.state_dict(), path)
    reloaded = hub.get_model("vision:lenet5", num_classes=10)
    reloaded.load_state_dict(ember.load(path))
    reloaded.eval()
    x, y = test.tensors
    with ember.no_grad():
        same = bool((reloaded(x).argmax(1) == model(x).argmax(1)).all().item())
        first = reloaded(x[:8]).argmax(1).tolist()
    print(f"saved to {path}; reloaded model predicts the same: {same}")
    print(f"predictions for 8 test digits: {first} (true: {y[:8].tolist()})")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
