"""ember-toy: a small library that also works as an Ember plugin (hooks in ``ember_toy._plugin``).

It works on its own::

    from ember_toy import toy_mlp, ToyMLP_Weights, Blobs
    model = toy_mlp(weights=ToyMLP_Weights.DEFAULT)

and through the hub once installed::

    ember.hub.get_model("toy:mlp", weights="DEFAULT")

What the plugin registers is written here, once, next to each object: one ``RegistrationTable`` per
kind (``MODELS``, ``DATASETS``, ``TRANSFORMS``, ``METRICS``), which the hooks hand to Ember. The model
builder's weights enum is read from its ``weights`` annotation, so it can't be registered without it.
"""
from __future__ import annotations

import functools

import numpy as np

import ember
from ember import nn
from ember.plugins import RegistrationTable, Weights, WeightsEnum
from ember.utils.data import Dataset

__version__ = "0.1.0"
__all__ = ["Blobs", "Standardize", "standardize", "Accuracy", "accuracy", "ToyMLP", "ToyMLP_Weights", "toy_mlp",
           "CATEGORIES"]

CATEGORIES = ("left", "right", "top")

MODELS = RegistrationTable("models", task="tabular-classification")
DATASETS = RegistrationTable("datasets", task="tabular-classification", modality="tabular")
TRANSFORMS = RegistrationTable("transforms", modality="tabular")
METRICS = RegistrationTable("metrics")


# ---- a dataset ----------------------------------------------------------------------------------------------

@DATASETS.register("blobs", num_classes=len(CATEGORIES))
class Blobs(Dataset):
    """Three 2-D Gaussian blobs, one per class; deterministic (the train and test splits use different seeds).

    Items are ``(features, label)``: a float32 tensor of shape ``(2,)`` and an int64 scalar tensor.
    """

    CENTERS = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])

    def __init__(self, train: bool = True, size: int = 600, transform=None, spread: float = 0.9):
        rng = np.random.default_rng(0 if train else 1)
        y = rng.integers(0, len(CATEGORIES), size)
        x = self.CENTERS[y] + spread * rng.standard_normal((size, 2))
        self.data = ember.tensor(x, dtype=ember.float32)
        self.targets = ember.tensor(y, dtype=ember.int64)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        x = self.data[i]
        return (self.transform(x) if self.transform is not None else x), self.targets[i]


# ---- a transform (class + functional form) -----------------------------------------------------------------

def standardize(x, mean, std):
    """``(x - mean) / std`` over the last dimension."""
    return (x - ember.tensor(mean, dtype=x.dtype)) / ember.tensor(std, dtype=x.dtype)


@TRANSFORMS.register("standardize", functional=standardize)
class Standardize:
    """Standardise features with fixed statistics (those of the training data for pretrained weights)."""

    def __init__(self, mean=(0.0, 0.0), std=(1.0, 1.0)):
        self.mean, self.std = tuple(mean), tuple(std)

    def __call__(self, x):
        return standardize(x, self.mean, self.std)

    def __repr__(self) -> str:
        return f"Standardize(mean={self.mean}, std={self.std})"


# ---- a metric (class + functional form) --------------------------------------------------------------------

def accuracy(preds, target) -> float:
    """Fraction of correct predictions; ``preds`` are logits ``(N, C)`` or class indices ``(N,)``."""
    if preds.dim() == 2:
        preds = preds.argmax(1)
    return (preds == target).float().mean().item()


@METRICS.register("accuracy", functional=accuracy, higher_is_better=True)
class Accuracy:
    """Accuracy accumulated over batches: ``update(preds, target)`` then ``compute()``."""

    higher_is_better = True

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.correct, self.total = 0, 0

    def update(self, preds, target) -> None:
        if preds.dim() == 2:
            preds = preds.argmax(1)
        self.correct += int((preds == target).sum().item())
        self.total += target.numel()

    def compute(self) -> float:
        return self.correct / self.total if self.total else float("nan")


# ---- a model with pretrained weights ------------------------------------------------------------------------

class ToyMLP(nn.Module):
    """A two-layer perceptron. ``classifier_head`` names the layer that ``ember.hub.get_model(...,
    num_classes=N)`` re-initialises when fine-tuning pretrained weights for N classes."""

    classifier_head = "head"

    def __init__(self, in_features: int = 2, hidden: int = 16, num_classes: int = len(CATEGORIES)):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.head(self.body(x))


class ToyMLP_Weights(WeightsEnum):
    # Produced by examples/third_party_plugin/train_weights.py (re-run it to reproduce the file).
    BLOBS_V1 = Weights(
        url="package://ember_toy/weights/mlp_blobs_v1.ember",
        sha256="823fd9815a2110cb2f2ad9e5743e4789863f5cf9cac9db6607509268561159ca",
        size=1228,
        meta={
            "categories": list(CATEGORIES),
            "dataset": "toy:blobs (train split, 600 points)",
            "num_params": 99,
            "recipe": "python examples/third_party_plugin/train_weights.py (Adam lr=0.05, 200 full-batch steps, seed 0)",
            "metrics": {"accuracy": 0.9367},
        },
        transforms=functools.partial(Standardize, mean=(-0.0101, 0.9283), std=(1.822, 1.4972)),
    )
    DEFAULT = BLOBS_V1


@MODELS.register("mlp")
def toy_mlp(*, weights: ToyMLP_Weights | str | None = None, progress: bool = False, **kwargs) -> ToyMLP:
    """Build a :class:`ToyMLP`, optionally with pretrained weights (``"DEFAULT"`` or a member)."""
    weights = ToyMLP_Weights.verify(weights)
    if weights is not None:
        if kwargs.get("num_classes", weights.num_classes) != weights.num_classes:
            raise ValueError(f"{weights!r} has {weights.num_classes} classes; to fine-tune for another number use "
                             "ember.hub.get_model('toy:mlp', weights=..., num_classes=N)")
        kwargs["num_classes"] = weights.num_classes
    model = ToyMLP(**kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress))
    return model
