"""`ember finetune` on ember-vision: LeNet-5 (Fashion-MNIST weights) and EfficientNet-Lite0 (ImageNet weights)
fine-tuned on scikit-learn's real 8x8 digits, and a user's image folder. Workloads are tiny (convolutions are
slow on NumPy): a few hundred images, one epoch."""
from __future__ import annotations

import json

import numpy as np
import pytest

import ember
import ember.cli
from ember.finetune import DataError, FinetuneConfig, Trainer

pytest.importorskip("sklearn")
Image = pytest.importorskip("PIL.Image")


def run(tmp_path, name, **options):
    base = dict(epochs=1, batch_size=32, plots=False, out=str(tmp_path / name))
    return Trainer(FinetuneConfig(**{**base, **options}), quiet=True).fit()


def test_lenet5_pretrained_beats_from_scratch_on_digits(tmp_path):
    small = dict(model="vision:lenet5", data="vision:digits", lr=3e-3, max_train_samples=256, max_val_samples=200)
    tuned = run(tmp_path, "tuned", **small)
    scratch = run(tmp_path, "scratch", weights="none", **small)
    assert tuned["classes"][0] == "0 - zero"
    assert tuned["best"]["val_accuracy"] > scratch["best"]["val_accuracy"] + 0.2   # measured 0.65 vs 0.245
    assert tuned["best"]["val_accuracy"] > 0.5


def _lite0_weights():
    w = ember.hub.get_model_weights("vision:efficientnet_lite0").DEFAULT.value
    try:
        w.verify(w.fetch())
    except Exception as e:   # noqa: BLE001 - any reason the file is unavailable
        pytest.skip(f"EfficientNet-Lite0 weights unavailable ({e}); `ember weights fetch vision:efficientnet_lite0`")
    return w


def test_efficientnet_lite0_frozen_body_stays_bit_identical(tmp_path):
    w = _lite0_weights()
    summary = run(tmp_path, "lite0", model="vision:efficientnet_lite0", data="vision:digits", freeze="all-but-head",
                  image_size=32, lr=1e-2, max_train_samples=64, max_val_samples=32)
    pretrained = w.get_state_dict()
    tuned = ember.load(tmp_path / "lite0" / "last.ember")["model"]
    body = [k for k in tuned if not k.startswith("classifier.1.")]
    assert len(body) > 200        # weights and the BatchNorm running statistics
    for k in body:
        assert np.array_equal(tuned[k].numpy(), pretrained[k].numpy()), k
    assert tuned["classifier.1.weight"].shape == (10, 1280)
    # The result is the model's weights: same predictions as the trainer's model.
    model = ember.hub.get_model("vision:efficientnet_lite0", weights=str(tmp_path / "lite0")).eval()
    entry = json.loads((tmp_path / "lite0" / "weights.json").read_text())
    assert entry["base_weights"] == "vision:EfficientNet_Lite0_Weights.IMAGENET1K_V1" and entry["image_size"] == 32
    assert summary["best"]["frozen_params"] == len([k for k in body if "running" not in k and "num_batches" not in k])
    assert model.get_classifier().out_features == 10


def _write_folder(root, sizes=None, empty_class=False):
    from ember_vision.datasets import Digits
    ds = Digits(train=True)
    for i in range(60):
        img, y = ds[i]
        if y > 2:
            continue
        d = root / f"class_{y}"
        d.mkdir(parents=True, exist_ok=True)
        size = sizes[i % len(sizes)] if sizes else 8
        img.resize((size, size)).save(d / f"{i}.png")
    if empty_class:
        (root / "class_9").mkdir()
    return root


def test_image_folder_finetune_and_predict(tmp_path, capsys):
    folder = _write_folder(tmp_path / "imgs")
    out = tmp_path / "out"
    assert ember.cli.main(["finetune", "vision:lenet5", f"imagefolder:{folder}", "--val-split", "0.25", "--epochs",
                           "1", "--lr", "3e-3", "--no-plots", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["classes"] == ["class_0", "class_1", "class_2"]
    image = next((folder / "class_1").iterdir())
    assert ember.cli.main(["predict", str(out), str(image), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["label"] in summary["classes"] and 0 < result["probability"] <= 1


def test_image_folder_errors(tmp_path, capsys):
    folder = _write_folder(tmp_path / "empty", empty_class=True)
    assert ember.cli.main(["finetune", "vision:lenet5", f"imagefolder:{folder}", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "class_9" in err and "add files to the empty folders or remove them" in err
    mixed = _write_folder(tmp_path / "mixed", sizes=[8, 12])
    with pytest.raises(DataError, match="inputs of different sizes.*pass --image-size N"):
        run(tmp_path, "m", model="vision:vit_tiny_patch4_32", weights="none", data=f"imagefolder:{mixed}")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run(tmp_path, "n", model="vision:lenet5", data=f"imagefolder:{tmp_path / 'nowhere'}")
